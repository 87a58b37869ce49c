"""/v1/responses: create (direct, streamed, background), retrieve (or follow and resume its stream),
delete, cancel, input items, input token counts. Responses belong to the key's owner; other keys
get 404s. The machinery is api.responses."""
from typing import AsyncIterator

from api import catalog, limits, sse, stored, tokens, usage
from api.errors import InvalidRequest
from api.ports import Deps
from api.responses import background, request, service, store
from api.responses.service import Sequenced
from api.runs import log
from api.types.responses import InputTokensParams, ListParams, ResponseCreateParams, RetrieveParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse, StreamResponse

RESULTS = "file_search_call.results"


def shown(body: dict, include) -> dict:
    """What the caller sees: file_search results only when asked for with `include`."""
    if RESULTS in (include or ()):
        return body
    return {**body, "output": [{**item, "results": None} if item["type"] == "file_search_call" else item
                               for item in body.get("output") or []]}


def _include(req: ApiRequest):
    """`include` of a query string: include[]=a&include[]=b, or include=a,b."""
    given = req.query.get("include[]") or req.query.get("include")
    return [name for name in (given or "").split(",") if name]


async def create_response(req: ApiRequest, deps: Deps):
    params = parse_request(ResponseCreateParams, req)
    limits.resolve_model(req, deps, params.model, catalog.CHAT)  # the key's model list and budgets
    job = await service.pending(params, req.key.owner, deps)
    include = params.include
    if params.background:
        body = await background.create(deps, job, req.key.id)
        if params.stream:
            return StreamResponse(_follow(deps, job.body["id"], -1, include, req.id))
        return ApiResponse(body)
    meter = usage.Meter.of(req)
    if not params.stream:
        return ApiResponse(shown(await service.generate(deps, job, meter), include))
    run = await service.started(deps, job, meter, streamed=True)  # failures here are still HTTP errors

    async def ready():
        return run
    number = Sequenced()

    async def frames() -> AsyncIterator[str]:
        for event in service.opening(job.body, number):
            yield service.sse(event)
        async for event in service.stream_events(deps, job, number, ready):
            yield service.sse(_visible(event, include))
    return StreamResponse(sse.guarded(frames(), deps.log, req.id))


def _visible(event: dict, include) -> dict:
    if "response" in event:
        return {**event, "response": shown(event["response"], include)}
    item = event.get("item")
    if item and item["type"] == "file_search_call" and RESULTS not in (include or ()):
        return {**event, "item": {**item, "results": None}}
    return event


async def _follow(deps: Deps, response_id: str, after: int, include, request_id: str) -> AsyncIterator[str]:
    async def finished() -> bool:
        rows = await deps.db.query("SELECT status FROM responses WHERE id = ?", (response_id,))
        return not rows or rows[0]["status"] not in store.UNFINISHED

    async def frames() -> AsyncIterator[str]:
        async for event in log.follow(deps, response_id, after, finished):
            yield service.sse(_visible(event, include))
    async for frame in sse.guarded(frames(), deps.log, request_id):
        yield frame


async def retrieve_response(req: ApiRequest, deps: Deps):
    query = parse_text(RetrieveParams, {k: v for k, v in req.query.items() if not k.startswith("include")})
    row = await store.find(deps, req.key.owner, req.params["response_id"])
    body = await store.load(deps, row)
    include = _include(req)
    if query.stream == "true":
        if not (body.get("background") and await _logged(deps, row["id"])):
            raise InvalidRequest("Only background responses created with 'stream' true can be streamed again.",
                                 param="stream")
        after = -1 if query.starting_after is None else query.starting_after
        return StreamResponse(_follow(deps, row["id"], after, include, req.id))
    return ApiResponse(shown(body, include))


async def _logged(deps: Deps, response_id: str) -> bool:
    return bool(await deps.db.query("SELECT 1 FROM run_events WHERE run_id = ? LIMIT 1", (response_id,)))


async def delete_response(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await store.find(deps, req.key.owner, req.params["response_id"])
    await store.delete(deps, "responses", row["id"], req.key.owner, [
        ("DELETE FROM runs WHERE id = ?", (row["id"],)), ("DELETE FROM run_events WHERE run_id = ?", (row["id"],))])
    return ApiResponse({"id": row["id"], "object": "response", "deleted": True})


async def cancel_response(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Background responses only, as on OpenAI. A queued one is cancelled outright; a running one
    is stopped by its consumer at its next lease renewal."""
    row = await store.find(deps, req.key.owner, req.params["response_id"])
    body = await stored.load(deps, row["body"])
    if not body.get("background"):
        raise InvalidRequest("Only background responses can be cancelled.", param="response_id")
    if row["status"] in store.UNFINISHED:
        await deps.db.batch(background.cancelled(row["id"]))
        row = await store.find(deps, req.key.owner, row["id"])
    return ApiResponse(shown(await store.load(deps, row), None))


async def list_input_items(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await store.find(deps, req.key.owner, req.params["response_id"])
    params = parse_text(ListParams, {k: v for k, v in req.query.items() if not k.startswith("include")})
    return ApiResponse(await store.item_page(deps, row["id"], "input", params))


async def count_input_tokens(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Estimated (Workers AI exposes no tokenizer): about one token per word or punctuation mark of
    the whole context — instructions, history, input and tool definitions."""
    given = parse_request(InputTokensParams, req)
    params = ResponseCreateParams(**{"model": "gpt-4o", **given.dict(exclude_none=True, by_alias=True)})
    job = await service.pending(params, req.key.owner, deps)
    plan = await request.plan(job.prepared, await service.context(deps, job), deps)
    tools = job.prepared.chat.get("tools")
    counted = plan.prompt_estimates[0] + (tokens.estimate(stored.dumps(tools)) if tools else 0)
    return ApiResponse({"object": "response.input_tokens", "input_tokens": counted},
                       headers={"x-token-count": "estimated"})
