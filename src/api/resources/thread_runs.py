"""/v1/threads/{thread_id}/runs (Assistants v2): create (queued on the run engine; `stream`
follows its events), list, retrieve, modify metadata, cancel, submit_tool_outputs; and their
steps, list and retrieve (`include[]` for file search result content). The machinery is
api.assistants (service: the changes a request makes; execute: the run engine's)."""
from api import catalog, limits, stored
from api.assistants import objects, request, service, store
from api.assistants.service import ACTIVE_RUN, beta
from api.assistants.store import Batch
from api.ports import Deps
from api.types.assistants import ListParams, MetadataParams, RunCreateParams, SubmitToolOutputsParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse

POLL_AFTER_MS = "500"  # the SDKs' *_and_poll helpers wait this long between polls of a running run


def _permitted(req: ApiRequest, deps: Deps):
    """The key's model list and token budgets, checked for the model a run goes on with."""
    return lambda model: limits.resolve_model(req, deps, model, catalog.CHAT)


async def _thread(req: ApiRequest, deps: Deps):
    return await store.thread(deps, req.key.owner, req.params["thread_id"], "thread_id")


async def _run(req: ApiRequest, deps: Deps):
    """The run's row (expired first if its wait for tool outputs is over)."""
    thread = await _thread(req, deps)
    return await service.current(deps, thread["id"], req.params["run_id"])


@beta
async def create_run(req: ApiRequest, deps: Deps):
    params = parse_request(RunCreateParams, req)
    content = service.include_content(req.query)
    row = await _thread(req, deps)
    await service.idle(deps, row["id"], ACTIVE_RUN)
    thread = await stored.load(deps, row["body"])
    additional = params.additional_messages or []
    searchable = bool(request.store_ids(thread["tool_resources"])) or any(isinstance(m, dict) and m.get("attachments")
                                                         for m in additional)
    planned = await service.plan(deps, req.key.owner, params, _permitted(req, deps), searchable,
                                 params.additional_instructions)
    run = await service.start(deps, req.key, thread, planned, content, Batch(deps), additional=additional,
                              thread_row=row)
    if params.stream:
        return service.stream(deps, run["id"], -1, req.id)
    return ApiResponse(objects.shown(run))


@beta
async def list_runs(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(ListParams, req.query)
    thread = await _thread(req, deps)
    active = await store.active_run(deps, thread["id"])
    if active is not None:
        await service.expire(deps, active)
    body = await store.page(deps, "thread_runs", ("thread_id = ?", thread["id"]), "run", params,
                            columns="id, n, metadata, body", load=store.run_body)
    return ApiResponse({**body, "data": [objects.shown(run) for run in body["data"]]})


@beta
async def retrieve_run(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _run(req, deps)
    running = {"openai-poll-after-ms": POLL_AFTER_MS} if row["status"] in store.RUNNING else {}
    return ApiResponse(objects.shown(await store.run_body(deps, row)), headers=running)


@beta
async def modify_run(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(MetadataParams, req)
    row = await _run(req, deps)
    await deps.db.execute("UPDATE thread_runs SET metadata = ? WHERE id = ?",
                          (stored.dumps(params.metadata or {}), row["id"]))
    return ApiResponse(objects.shown(await store.run_body(deps, await store.run(deps, row["thread_id"], row["id"]))))


@beta
async def cancel_run(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(objects.shown(await service.cancel(deps, await _run(req, deps))))


@beta
async def submit_tool_outputs(req: ApiRequest, deps: Deps):
    params = parse_request(SubmitToolOutputsParams, req)
    row = await _run(req, deps)
    run, after = await service.submit_tool_outputs(deps, row, [o.dict() for o in params.tool_outputs],
                                                   bool(params.stream), _permitted(req, deps))
    if params.stream:
        return service.stream(deps, run["id"], after, req.id)
    return ApiResponse(objects.shown(run))


@beta
async def list_run_steps(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(ListParams, {k: v for k, v in req.query.items() if not k.startswith("include")})
    content = service.include_content(req.query)
    run = await _run(req, deps)
    body = await store.page(deps, "run_steps", ("run_id = ?", run["id"]), "run step", params)
    return ApiResponse({**body, "data": [objects.shown(step, content) for step in body["data"]]})


@beta
async def retrieve_run_step(req: ApiRequest, deps: Deps) -> ApiResponse:
    content = service.include_content(req.query)
    run = await _run(req, deps)
    found = await store.step(deps, run["id"], req.params["step_id"])
    return ApiResponse(objects.shown(await stored.load(deps, found["body"]), content))
