"""/v1/vector_stores: create, list, retrieve, modify, delete, search. Stores belong to the
caller's `req.key.owner` (others get 404s); their files and chunks live in api.vector_stores.stores and
api.vector_stores.ingest, the search in api.vector_stores.search."""
import json

from api import pages
from api.vector_stores import search, stores
from api.errors import InvalidRequest, UnsupportedParameter
from api.ports import Deps
from api.types.vector_stores import (AUTO, MAX_QUERIES, ListParams, VectorStoreCreateParams,
                                     VectorStoreSearchParams, VectorStoreUpdateParams)
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse

RANKERS = ("auto", "none")  # ours is the index's cosine score; no reranking model


def _expiry(expires_after, active: int):
    return (json.dumps(expires_after.dict()), active + expires_after.days * stores.DAY) if expires_after else (None, None)


async def _respond(deps: Deps, store_id: str, owner: str) -> ApiResponse:
    row = await stores.find_store(deps, owner, store_id)
    tally = (await stores.counts(deps, [store_id]))[store_id]
    return ApiResponse(stores.store_object(row, tally, deps.now()))


async def create_vector_store(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(VectorStoreCreateParams, req)
    expires_after = params.expires_after.dict() if params.expires_after else None
    store_id = await stores.create_store(deps, req.key.owner, params.name, params.metadata, expires_after,
                                         params.file_ids or [], (params.chunking_strategy or AUTO).stored())
    return await _respond(deps, store_id, req.key.owner)


async def list_vector_stores(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(ListParams, req.query)
    listing = pages.Listing("vector_stores", stores.STORE_COLUMNS, [("owner = ?", req.key.owner)], "vector store")
    body = await pages.page(deps, listing, params, lambda row: row)
    tallies = await stores.counts(deps, [row["id"] for row in body["data"]])
    body["data"] = [stores.store_object(row, tallies[row["id"]], deps.now()) for row in body["data"]]
    return ApiResponse(body)


async def retrieve_vector_store(req: ApiRequest, deps: Deps) -> ApiResponse:
    return await _respond(deps, req.params["vector_store_id"], req.key.owner)


async def modify_vector_store(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(VectorStoreUpdateParams, req)
    row = await stores.find_store(deps, req.key.owner, req.params["vector_store_id"])
    given = params.__fields_set__
    name = params.name if "name" in given else row["name"]
    metadata = json.dumps(params.metadata or {}) if "metadata" in given else row["metadata"]
    expires_after, expires_at = row["expires_after"], row["expires_at"]
    if "expires_after" in given:  # null removes the expiry
        expires_after, expires_at = _expiry(params.expires_after, row["last_active_at"])
    await deps.db.execute("UPDATE vector_stores SET name = ?, metadata = ?, expires_after = ?, expires_at = ? "
                          "WHERE id = ? AND owner = ?",
                          (name, metadata, expires_after, expires_at, row["id"], req.key.owner))
    return await _respond(deps, row["id"], req.key.owner)


async def delete_vector_store(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Vectors, chunks and attachments go first, the store row last: a failure part-way leaves a
    store that can be deleted again."""
    row = await stores.find_store(deps, req.key.owner, req.params["vector_store_id"])
    ids = [r["id"] for r in await deps.db.query("SELECT id FROM chunks WHERE vector_store_id = ?", (row["id"],))]
    if ids:
        await deps.vectors.delete(ids)
    await deps.db.batch([(f"DELETE FROM {table} WHERE vector_store_id = ?", (row["id"],))
                         for table in ("chunks", "vector_store_files", "vector_store_file_batches")]
                        + [("DELETE FROM vector_stores WHERE id = ? AND owner = ?", (row["id"], req.key.owner))])
    return ApiResponse({"id": row["id"], "object": "vector_store.deleted", "deleted": True})


async def search_vector_store(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(VectorStoreSearchParams, req)
    if params.rewrite_query:
        raise UnsupportedParameter("rewrite_query", "is not supported: queries are searched as given")
    options = params.ranking_options
    if options is not None and options.ranker is not None and options.ranker not in RANKERS:
        raise InvalidRequest(f"Invalid value for 'ranking_options.ranker': supported values are "
                             f"{', '.join(RANKERS)}.", param="ranking_options.ranker", code="invalid_value")
    queries = [params.query] if isinstance(params.query, str) else list(params.query)
    if not queries or len(queries) > MAX_QUERIES or not all(q.strip() for q in queries):
        raise InvalidRequest(f"'query' must be a non-empty string or 1 to {MAX_QUERIES} of them.",
                             param="query", code="invalid_value")
    if params.filters is not None:
        search.check_filter(params.filters)
    row = await stores.find_store(deps, req.key.owner, req.params["vector_store_id"])
    now = int(deps.now())
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise InvalidRequest(f"Vector store {row['id']} has expired.", param="vector_store_id",
                             code="vector_store_expired")
    results = await search.search(deps, row["id"], queries, params.max_num_results, params.filters,
                                  options.score_threshold if options else None)
    expires_after = stores.loads(row["expires_after"])
    await deps.db.execute("UPDATE vector_stores SET last_active_at = ?, expires_at = ? WHERE id = ?",
                          (now, now + expires_after["days"] * stores.DAY if expires_after else None, row["id"]))
    return ApiResponse({"object": "vector_store.search_results.page", "search_query": queries,
                        "data": results, "has_more": False, "next_page": None})
