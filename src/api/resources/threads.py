"""/v1/threads (Assistants v2: header OpenAI-Beta: assistants=v2): create (with messages and
tool_resources), retrieve, modify, delete, and create-and-run (POST /v1/threads/runs). Threads
belong to the key's owner; other keys get 404s. The machinery is api.assistants."""
from api import catalog, limits, stored
from api.assistants import messages, objects, request, service, store
from api.assistants.service import beta
from api.assistants.store import Batch
from api.ports import Deps
from api.types.assistants import ThreadCreateAndRunParams, ThreadCreateParams, ThreadUpdateParams
from api.validate import parse, parse_request
from api.web import ApiRequest, ApiResponse


def _permitted(req: ApiRequest, deps: Deps):
    """The key's model list and token budgets, checked for the run's model."""
    return lambda model: limits.resolve_model(req, deps, model, catalog.CHAT)


@beta
async def create_thread(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ThreadCreateParams, req)
    batch = Batch(deps)
    thread = await messages.new_thread(deps, req.key.owner, params, "", batch)
    await batch.commit()
    return ApiResponse(thread)


@beta
async def retrieve_thread(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await store.thread(deps, req.key.owner, req.params["thread_id"])
    return ApiResponse(await stored.load(deps, row["body"]))


@beta
async def modify_thread(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ThreadUpdateParams, req)
    row = await store.thread(deps, req.key.owner, req.params["thread_id"])
    thread = await stored.load(deps, row["body"])
    if "tool_resources" in params.__fields_set__:
        thread["tool_resources"] = await request.tool_resources(deps, req.key.owner, params.tool_resources)
    if "metadata" in params.__fields_set__:
        thread["metadata"] = params.metadata or {}
    batch = Batch(deps)
    await store.put_thread(batch, req.key.owner, thread, row)
    await batch.commit()
    return ApiResponse(thread)


@beta
async def delete_thread(req: ApiRequest, deps: Deps) -> ApiResponse:
    """With its messages, runs (a running one stops: its run engine row is gone) and steps."""
    row = await store.thread(deps, req.key.owner, req.params["thread_id"])
    await store.delete_thread(deps, row["id"], req.key.owner)
    return ApiResponse({"id": row["id"], "object": "thread.deleted", "deleted": True})


@beta
async def create_thread_and_run(req: ApiRequest, deps: Deps):
    params = parse_request(ThreadCreateAndRunParams, req)
    content = service.include_content(req.query)
    thread_params = parse(ThreadCreateParams, params.thread or {}, "thread")
    resources = thread_params.tool_resources
    searchable = bool(resources and resources.file_search) or any(
        isinstance(m, dict) and m.get("attachments") for m in thread_params.messages)
    planned = await service.plan(deps, req.key.owner, params, _permitted(req, deps), searchable,
                                 resources=params.tool_resources)
    batch = Batch(deps)
    thread = await messages.new_thread(deps, req.key.owner, thread_params, "thread.", batch)
    run = await service.start(deps, req.key, thread, planned, content, batch, opening=[("thread.created", thread)])
    if params.stream:
        return service.stream(deps, run["id"], -1, req.id)
    return ApiResponse(objects.shown(run))
