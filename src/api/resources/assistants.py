"""/v1/assistants (Assistants v2: header OpenAI-Beta: assistants=v2): create, list, retrieve,
modify, delete. Assistants belong to the key's owner; other keys get 404s. Their settings are
checked against the model when set, as a run would use them (api.assistants.request)."""
from typing import Optional

from api import stored
from api.assistants import objects, request, store
from api.assistants.service import beta
from api.assistants.store import Batch
from api.ports import Deps
from api.types.assistants import AssistantCreateParams, AssistantUpdateParams, ListParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse

FIELDS = ("name", "description", "model", "instructions", "tools", "tool_resources", "metadata", "temperature",
          "top_p", "response_format", "reasoning_effort")
KEEP_WHEN_NULL = ("model", "tools")  # an update's null leaves these as they are; other nulls clear


async def _settings(req: ApiRequest, deps: Deps, params: AssistantCreateParams, base: Optional[dict]) -> dict:
    """The settings given (on update, over `base`), checked against the model before anything
    is made (tool_resources may make a vector store)."""
    given = params.__fields_set__ if base is not None else set(FIELDS)
    settings = dict(base or {})
    for name in FIELDS:
        value = getattr(params, name)
        if name in given and not (value is None and name in KEEP_WHEN_NULL and base is not None):
            settings[name] = value
    if "tools" in given and params.tools is not None:
        settings["tools"] = request.tools(params.tools)
    settings["metadata"] = settings["metadata"] or {}
    settings["response_format"] = request.shown(settings["response_format"], "auto")
    searchable = any(tool["type"] == "file_search" for tool in settings["tools"])
    await request.check({**settings, "tool_choice": "auto", "parallel_tool_calls": True}, searchable, deps)
    if "tool_resources" in given:
        settings["tool_resources"] = await request.tool_resources(deps, req.key.owner, params.tool_resources)
    return {name: settings[name] for name in FIELDS}


@beta
async def create_assistant(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(AssistantCreateParams, req)
    body = objects.assistant(deps.new_id("asst_"), int(deps.now()), await _settings(req, deps, params, None))
    batch = Batch(deps)
    await store.put_assistant(batch, req.key.owner, body)
    await batch.commit()
    return ApiResponse(objects.shown(body))


@beta
async def list_assistants(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(ListParams, req.query)
    body = await store.page(deps, "assistants", ("owner = ?", req.key.owner), "assistant", params)
    return ApiResponse({**body, "data": [objects.shown(a) for a in body["data"]]})


@beta
async def retrieve_assistant(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await store.assistant(deps, req.key.owner, req.params["assistant_id"])
    return ApiResponse(objects.shown(await stored.load(deps, row["body"])))


@beta
async def modify_assistant(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(AssistantUpdateParams, req)
    row = await store.assistant(deps, req.key.owner, req.params["assistant_id"])
    old = await stored.load(deps, row["body"])
    body = {**old, **await _settings(req, deps, params, old)}
    batch = Batch(deps)
    await store.put_assistant(batch, req.key.owner, body, row)
    await batch.commit()
    return ApiResponse(objects.shown(body))


@beta
async def delete_assistant(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Runs made with it keep its id; new runs of it get 404s."""
    row = await store.assistant(deps, req.key.owner, req.params["assistant_id"])
    await deps.db.execute("DELETE FROM assistants WHERE id = ? AND owner = ?", (row["id"], req.key.owner))
    await stored.forget(deps, [row["body"]])
    return ApiResponse({"id": row["id"], "object": "assistant.deleted", "deleted": True})
