"""api.ports.Blobs over the raw R2 binding: bytes or runtime Binary values go in without a copy
into Python; objects come out as JsBinary, streamed into responses."""
from typing import Dict, Optional, Union

from pyodide.ffi import jsnull, to_js

from api.web import Binary
from cf.binary import JsBinary
from cf.convert import to_js_object, to_py


class R2:
    def __init__(self, binding):
        self._bucket = binding

    async def put(self, key: str, data: Union[bytes, Binary], content_type: str,
                  metadata: Optional[Dict[str, str]] = None) -> None:
        value = data.value if isinstance(data, JsBinary) else to_js_object(data)
        await self._bucket.put(key, value, to_js_object(
            {"httpMetadata": {"contentType": content_type}, "customMetadata": metadata or {}}))

    async def get(self, key: str) -> Optional[JsBinary]:
        found = await self._bucket.get(key)
        if found is None or found is jsnull:  # not `not found`: Pyodide makes an object of size 0 falsy
            return None
        content_type = getattr(found.httpMetadata, "contentType", None) or "application/octet-stream"
        stored = JsBinary(found.body, content_type, int(found.size))
        stored.metadata = to_py(found.customMetadata) or {}
        return stored

    async def get_range(self, key: str, offset: int, length: int) -> Optional[bytes]:
        found = await self._bucket.get(key, to_js_object({"range": {"offset": offset, "length": length}}))
        if found is None or found is jsnull:
            return None
        return (await found.arrayBuffer()).to_bytes()

    async def multipart(self, key: str, content_type: str) -> "R2Upload":
        return R2Upload(await self._bucket.createMultipartUpload(
            key, to_js_object({"httpMetadata": {"contentType": content_type}})))

    async def delete(self, key: str) -> None:
        await self._bucket.delete(key)


class R2Upload:
    """api.ports.MultipartUpload over an R2MultipartUpload: parts numbered from 1 in order."""

    def __init__(self, upload):
        self._upload, self._parts = upload, []

    async def part(self, data: bytes) -> None:
        self._parts.append(await self._upload.uploadPart(len(self._parts) + 1, to_js_object(data)))

    async def complete(self) -> None:
        await self._upload.complete(to_js(self._parts))

    async def abort(self) -> None:
        await self._upload.abort()
