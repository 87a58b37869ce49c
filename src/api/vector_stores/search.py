"""Search in one vector store: the queries embedded, nearest chunks from the vector index, their
text and files from D1.

Attribute filters are evaluated here, exactly, on the files' attributes in D1; the index is then
asked only for chunks of the matching files (`file_id $in`, a few dozen ids per query). Vectorize
filters see only properties that got a metadata index before the vectors were written, at most
10 per index, while attribute keys are whatever clients choose: so the index filters on the two
properties we index (store_id, file_id — README), never on attributes. When more files match than
MAX_QUERIES queries can name, the store's nearest FALLBACK_TOP_K chunks are filtered here instead
(exact for small stores, approximate for large ones)."""
import json
from typing import Dict, List, Optional

from api.vector_stores import ingest
from api.errors import InvalidRequest
from api.ports import Deps

COMPARISONS = {"eq": "$eq", "ne": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte",
               "in": "$in", "nin": "$nin"}
FALLBACK_TOP_K = 100  # Vectorize's topK limit without values or metadata
MAX_QUERIES = 8  # Vectorize queries per search
IDS_PER_QUERY = 40  # file ids in one `$in`: Vectorize filters are at most 2048 bytes of JSON
ROWS_PER_QUERY = 90  # chunk ids per D1 query: D1 binds at most 100 parameters
MAX_FILTER_DEPTH = 8  # compound filters within compound filters (OpenAI documents no limit)
MAX_FILTER_TERMS = 1000  # comparisons + values of in/nin, each tested against every file's attributes


def check_filter(filters) -> None:
    """InvalidRequest (with the JSON path) unless `filters` is an OpenAI comparison or compound
    filter, nested at most MAX_FILTER_DEPTH compounds deep, of at most MAX_FILTER_TERMS terms
    (comparisons and listed values): every file of the store is matched against it."""
    pending, terms = [(filters, "filters", 0)], 0
    while pending:
        node, param, depth = pending.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise _invalid(param, "a filter is an object with a `type`")
        kind = node["type"]
        if kind in ("and", "or"):
            children = node.get("filters")
            if not isinstance(children, list) or not children:
                raise _invalid(f"{param}.filters", "a non-empty list of filters is required")
            if depth == MAX_FILTER_DEPTH:
                raise _invalid(f"{param}.filters", f"compound filters nest at most {MAX_FILTER_DEPTH} deep")
            pending += [(child, f"{param}.filters[{i}]", depth + 1) for i, child in reversed(list(enumerate(children)))]
            continue
        if kind not in COMPARISONS:
            raise _invalid(f"{param}.type", "expected one of eq, ne, gt, gte, lt, lte, in, nin, and, or")
        if not isinstance(node.get("key"), str):
            raise InvalidRequest(f"Missing required parameter: '{param}.key'.", param=f"{param}.key",
                                 code="missing_required_parameter")
        value, scalar = node.get("value"), (str, int, float, bool)
        listed = kind in ("in", "nin")
        ok = (isinstance(value, list) and value and all(isinstance(v, scalar) for v in value)) \
            if listed else isinstance(value, scalar)
        if not ok:
            raise _invalid(f"{param}.value", f"expected {'a list of ' if listed else 'a '}string, number or boolean")
        terms += len(value) if listed else 1
        if terms > MAX_FILTER_TERMS:
            raise _invalid("filters", f"a filter may hold at most {MAX_FILTER_TERMS} comparisons and listed values")


def _invalid(param: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid value for '{param}': {why}.", param=param, code="invalid_value")


def matches(attributes: dict, node: Optional[dict]) -> bool:
    """OpenAI filter semantics on a file's attributes; a missing key satisfies only ne and nin."""
    if node is None:
        return True
    kind = node["type"]
    if kind == "and":
        return all(matches(attributes, child) for child in node["filters"])
    if kind == "or":
        return any(matches(attributes, child) for child in node["filters"])
    key, value = node["key"], node["value"]
    if key not in attributes:
        return kind in ("ne", "nin")
    have = attributes[key]
    if kind in ("eq", "ne", "in", "nin"):
        hit = any(_same(have, v) for v in (value if kind in ("in", "nin") else [value]))
        return hit if kind in ("eq", "in") else not hit
    if isinstance(have, bool) or isinstance(value, bool) or isinstance(have, str) != isinstance(value, str):
        return False  # order is defined between numbers, and between strings
    return {"gt": have > value, "gte": have >= value, "lt": have < value, "lte": have <= value}[kind]


def _same(a, b) -> bool:
    """Equal and of the same JSON type (True is not 1)."""
    return isinstance(a, bool) == isinstance(b, bool) and isinstance(a, str) == isinstance(b, str) and a == b


def plans(store_id: str, matching: Optional[List[str]], max_results: int, texts: int) -> List[tuple]:
    """(Vectorize filter, topK) per query; `matching` None means every file of the store."""
    if matching is None:
        return [({"store_id": store_id}, max_results)]
    groups = [matching[i:i + IDS_PER_QUERY] for i in range(0, len(matching), IDS_PER_QUERY)]
    if len(groups) * texts > MAX_QUERIES:
        return [({"store_id": store_id}, FALLBACK_TOP_K)]
    return [({"store_id": store_id, "file_id": {"$in": group}}, max_results) for group in groups]


async def search(deps: Deps, store_id: str, queries: List[str], max_results: int,
                 filters: Optional[dict], threshold: Optional[float]) -> List[dict]:
    """Results as VectorStoreSearchResponse objects, best first, each chunk once."""
    files = await deps.db.query(
        "SELECT v.file_id, v.attributes, f.filename FROM vector_store_files v JOIN files f ON f.id = v.file_id "
        "WHERE v.vector_store_id = ? AND v.status = 'completed'", (store_id,))
    found = {row["file_id"]: {**row, "attributes": json.loads(row["attributes"] or "{}")} for row in files
             if filters is None or matches(json.loads(row["attributes"] or "{}"), filters)}
    if not found:
        return []
    vectors = await ingest.embed(deps, queries)
    scores: Dict[str, float] = {}
    for vector in vectors:
        for vectorize_filter, top_k in plans(store_id, None if filters is None else sorted(found),
                                             max_results, len(vectors)):
            for match in await deps.vectors.query(vector, top_k, vectorize_filter):
                scores[match["id"]] = max(match["score"], scores.get(match["id"], float("-inf")))
    ranked = [(chunk_id, score) for chunk_id, score in sorted(scores.items(), key=lambda item: -item[1])
              if threshold is None or score >= threshold][:FALLBACK_TOP_K]
    if not ranked:
        return []
    by_id = {}
    for start in range(0, len(ranked), ROWS_PER_QUERY):
        part = [chunk_id for chunk_id, _ in ranked[start:start + ROWS_PER_QUERY]]
        by_id.update((row["id"], row) for row in await deps.db.query(
            f"SELECT id, file_id, text FROM chunks WHERE vector_store_id = ? AND id IN ({', '.join('?' * len(part))})",
            (store_id, *part)))
    results = []
    for chunk_id, score in ranked:
        row = by_id.get(chunk_id)  # a vector whose file was detached (or filtered out) has no row here
        if row is None or row["file_id"] not in found:
            continue
        file = found[row["file_id"]]
        results.append({"file_id": row["file_id"], "filename": file["filename"], "score": score,
                        "attributes": file["attributes"], "content": [{"type": "text", "text": row["text"]}]})
    return results[:max_results]
