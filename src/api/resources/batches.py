"""/v1/batches: create (from an uploaded `batch` file), retrieve, list, cancel. Batches belong to
the key's owner; other keys get 404s. The work is done on the runs queue by api.batches."""
from api.batches import executor, store
from api.errors import InvalidRequest, NotFound
from api.ports import Deps
from api.runs import lease as runs
from api.types.batches import BatchCreateParams, BatchListParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse

CANCELLABLE = ("validating", "in_progress")


async def create_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(BatchCreateParams, req)
    now = int(deps.now())
    files = await deps.db.query("SELECT purpose FROM files WHERE id = ? AND owner = ? AND status = 'processed' "
                                "AND (expires_at IS NULL OR expires_at > ?)",
                                (params.input_file_id, req.key.owner, now))
    if not files:
        raise NotFound(f"No such File object: {params.input_file_id}", param="input_file_id")
    if files[0]["purpose"] != "batch":
        raise InvalidRequest(f"The input file must have been uploaded with purpose 'batch', not "
                             f"'{files[0]['purpose']}'.", param="input_file_id", code="invalid_value")
    body = {"id": deps.new_id("batch_"), "object": "batch", "endpoint": params.endpoint,
            "input_file_id": params.input_file_id, "completion_window": params.completion_window,
            "created_at": now, "expires_at": now + executor.COMPLETION_WINDOW, "metadata": params.metadata}
    if params.output_expires_after:
        body["output_expires_after"] = params.output_expires_after.dict()
    await deps.db.batch([store.created(body, req.key.owner),
                         runs.created(body["id"], executor.KIND, req.key.owner, req.key.id, now)])
    await runs.enqueue(deps, body["id"], executor.EXECUTORS)
    return ApiResponse(store.batch_object(await store.find(deps, req.key.owner, body["id"])))


async def retrieve_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(store.batch_object(await store.find(deps, req.key.owner, req.params["batch_id"])))


async def list_batches(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(await store.page(deps, req.key.owner, parse_text(BatchListParams, req.query)))


async def cancel_batch(req: ApiRequest, deps: Deps) -> ApiResponse:
    """A validating or running batch turns `cancelling` at once; its run stops at its next lease
    renewal (between lines), and the batch ends `cancelled` with the output of the lines done."""
    row = await store.find(deps, req.key.owner, req.params["batch_id"])
    if row["status"] in CANCELLABLE:
        await deps.db.batch([
            store.stamped(row["id"], "cancelling", {"cancelling_at": int(deps.now())}, CANCELLABLE),
            ("UPDATE runs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", (row["id"],))])
        row = await store.find(deps, req.key.owner, row["id"])
    elif row["status"] not in ("cancelling", "cancelled"):
        raise InvalidRequest(f"Cannot cancel a batch with status '{row['status']}'.", param="batch_id",
                             code="invalid_state")
    return ApiResponse(store.batch_object(row))
