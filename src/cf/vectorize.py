"""api.ports.VectorIndex over the raw Vectorize (V2) binding, or the local stand-in bound the same
way. Values go as Float32Array, as workerd's own Python test sends them."""
from typing import List, Optional

import js
from pyodide.ffi import JsException

from api.errors import ApiError
from cf.convert import dispose, settled, to_js_object


class VectorIndexError(ApiError):
    """Vectorize failed: a server fault the queue consumer retries."""
    status = 503
    code = "vector_index_error"


class Vectorize:
    def __init__(self, binding):
        self._index = binding

    async def upsert(self, vectors: List[dict], namespace: Optional[str] = None) -> None:
        items = []
        for vector in vectors:
            item = to_js_object({"id": vector["id"], "metadata": vector.get("metadata") or {},
                                 **({"namespace": namespace} if namespace else {})})
            item.values = js.Float32Array.new(to_js_object(vector["values"]))
            items.append(item)
        try:
            dispose(await self._index.upsert(to_js_object(items)))
        except JsException:
            raise VectorIndexError("The vector index refused the upsert.") from None

    async def query(self, vector: List[float], top_k: int, filter: Optional[dict] = None,
                    namespace: Optional[str] = None) -> List[dict]:
        options = {"topK": top_k, "returnValues": False, "returnMetadata": "none"}
        if filter:
            options["filter"] = filter
        if namespace:
            options["namespace"] = namespace
        try:
            found = settled(await self._index.query(js.Float32Array.new(to_js_object(vector)), to_js_object(options)))
        except JsException:
            raise VectorIndexError("The vector index query failed.") from None
        return [{"id": m["id"], "score": m["score"]} for m in found.get("matches") or []]

    async def delete(self, ids: List[str]) -> None:
        try:
            for start in range(0, len(ids), 1000):
                dispose(await self._index.deleteByIds(to_js_object(ids[start:start + 1000])))
        except JsException:
            raise VectorIndexError("The vector index refused the delete.") from None
