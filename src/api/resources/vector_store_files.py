"""/v1/vector_stores/{id}/files and /file_batches: attach files (ingested on the Queue by
api.vector_stores.ingest), list, retrieve, update attributes, detach; batches create, retrieve, cancel and list
their files. Everything is scoped to the store's owner, as in api.resources.files."""
import json
from typing import Optional

from api import pages
from api.vector_stores import stores
from api.errors import NotFound
from api.ports import Deps, Row
from api.types.vector_stores import AUTO, FileBatchCreateParams, FileCreateParams, FileUpdateParams, ListParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse


async def _file_row(deps: Deps, store_id: str, file_id: str) -> Row:
    rows = await deps.db.query(f"SELECT {stores.FILE_COLUMNS} FROM vector_store_files "
                               "WHERE vector_store_id = ? AND file_id = ?", (store_id, file_id))
    if not rows:
        raise NotFound(f"No such vector store file: {file_id}", param="file_id")
    return rows[0]


async def _store(req: ApiRequest, deps: Deps) -> Row:
    return await stores.find_store(deps, req.key.owner, req.params["vector_store_id"])


async def create_vector_store_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(FileCreateParams, req)
    store = await _store(req, deps)
    await stores.owned_files(deps, req.key.owner, [params.file_id])
    await stores.attach(deps, req.key.owner, store["id"], [{
        "file_id": params.file_id, "attributes": params.attributes,
        "chunking_strategy": (params.chunking_strategy or AUTO).stored()}])
    return ApiResponse(stores.file_object(await _file_row(deps, store["id"], params.file_id)))


async def _list(req: ApiRequest, deps: Deps, store_id: str, batch_id: Optional[str] = None) -> ApiResponse:
    params = parse_text(ListParams, req.query)
    scope = [("vector_store_id = ?", store_id)] + ([("batch_id = ?", batch_id)] if batch_id is not None else [])
    filters = [("status = ?", [params.filter])] if params.filter is not None else []
    listing = pages.Listing("vector_store_files", stores.FILE_COLUMNS, scope, "file", filters, id_column="file_id")
    return ApiResponse(await pages.page(deps, listing, params, stores.file_object))


async def list_vector_store_files(req: ApiRequest, deps: Deps) -> ApiResponse:
    return await _list(req, deps, (await _store(req, deps))["id"])


async def retrieve_vector_store_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    store = await _store(req, deps)
    return ApiResponse(stores.file_object(await _file_row(deps, store["id"], req.params["file_id"])))


async def update_vector_store_file_attributes(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Attributes live in D1 only (search filters there), so they change at once."""
    params = parse_request(FileUpdateParams, req)
    store = await _store(req, deps)
    row = await _file_row(deps, store["id"], req.params["file_id"])
    await deps.db.execute("UPDATE vector_store_files SET attributes = ? WHERE vector_store_id = ? AND file_id = ?",
                          (json.dumps(params.attributes or {}), store["id"], row["file_id"]))
    return ApiResponse(stores.file_object(await _file_row(deps, store["id"], row["file_id"])))


async def delete_vector_store_file(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Detaches the file (its chunks and vectors go); the File itself stays."""
    store = await _store(req, deps)
    row = await _file_row(deps, store["id"], req.params["file_id"])
    await stores.detach(deps, req.key.owner, row["file_id"], store["id"])
    return ApiResponse({"id": row["file_id"], "object": "vector_store.file.deleted", "deleted": True})


async def _batch_object(deps: Deps, batch: Row) -> dict:
    """openai-python's VectorStoreFileBatch."""
    counts = (await stores.counts(deps, [batch["vector_store_id"]], batch["id"]))[batch["vector_store_id"]]
    tally = counts["file_counts"]
    if tally["in_progress"]:
        status = "in_progress"
    elif batch["cancelled"]:
        status = "cancelled"
    elif tally["failed"] and not tally["completed"]:
        status = "failed"
    else:
        status = "completed"
    return {"id": batch["id"], "object": "vector_store.files_batch", "created_at": batch["created_at"],
            "vector_store_id": batch["vector_store_id"], "status": status, "file_counts": tally}


async def _batch(req: ApiRequest, deps: Deps) -> Row:
    store = await _store(req, deps)
    rows = await deps.db.query("SELECT id, vector_store_id, created_at, cancelled FROM vector_store_file_batches "
                               "WHERE id = ? AND vector_store_id = ?", (req.params["batch_id"], store["id"]))
    if not rows:
        raise NotFound(f"No such vector store file batch: {req.params['batch_id']}", param="batch_id")
    return rows[0]


async def create_vector_store_file_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(FileBatchCreateParams, req)
    store = await _store(req, deps)
    default = params.chunking_strategy or AUTO
    entries = {}  # a file listed twice is attached once, as listed last
    for given in params.files or [FileCreateParams(file_id=f) for f in params.file_ids]:
        entries[given.file_id] = {"file_id": given.file_id,
                                  "attributes": given.attributes if given.attributes is not None else params.attributes,
                                  "chunking_strategy": (given.chunking_strategy or default).stored()}
    await stores.owned_files(deps, req.key.owner, list(entries))
    batch_id, created = deps.new_id("vsfb_"), int(deps.now())
    await deps.db.execute("INSERT INTO vector_store_file_batches (id, vector_store_id, owner, created_at) "
                          "VALUES (?, ?, ?, ?)", (batch_id, store["id"], req.key.owner, created))
    await stores.attach(deps, req.key.owner, store["id"], list(entries.values()), batch_id)
    return ApiResponse(await _batch_object(deps, {"id": batch_id, "vector_store_id": store["id"],
                                                  "created_at": created, "cancelled": 0}))


async def retrieve_vector_store_file_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(await _batch_object(deps, await _batch(req, deps)))


async def cancel_vector_store_file_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Files not yet ingested end `cancelled` (a job that finds its file cancelled does nothing,
    and one running at the time removes what it wrote); finished ones stay as they are."""
    batch = await _batch(req, deps)
    await deps.db.batch([
        ("UPDATE vector_store_files SET status = 'cancelled' WHERE vector_store_id = ? AND batch_id = ? "
         "AND status = 'in_progress'", (batch["vector_store_id"], batch["id"])),
        ("UPDATE vector_store_file_batches SET cancelled = 1 WHERE id = ?", (batch["id"],))])
    return ApiResponse(await _batch_object(deps, {**batch, "cancelled": 1}))


async def list_vector_store_file_batch_files(req: ApiRequest, deps: Deps) -> ApiResponse:
    batch = await _batch(req, deps)
    return await _list(req, deps, batch["vector_store_id"], batch["id"])
