"""/v1/conversations: create (with up to 20 items), retrieve, update metadata, delete; items list,
create, retrieve, delete. A response made with `conversation` reads the items as its context and
appends its input and output items (api.responses.service). Conversations belong to the key's owner."""
import json

from api import stored
from api.errors import NotFound
from api.ports import Deps
from api.responses import inputs, store
from api.types.responses import ConversationCreateParams, ConversationUpdateParams, ItemCreateParams, ListParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse


def conversation_object(row) -> dict:
    return {"id": row["id"], "object": "conversation", "created_at": row["created_at"],
            "metadata": json.loads(row["metadata"])}


async def _items(req: ApiRequest, deps: Deps, given, param: str) -> list:
    return await inputs.resolve(deps, req.key.owner, inputs.normalise(given, param, deps.new_id), param)


async def create_conversation(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ConversationCreateParams, req)
    items = await _items(req, deps, params.items or [], "items")
    row = {"id": deps.new_id("conv_"), "created_at": int(deps.now()), "metadata": stored.dumps(params.metadata or {})}
    await deps.db.batch([("INSERT INTO conversations (id, owner, created_at, metadata) VALUES (?, ?, ?, ?)",
                          (row["id"], req.key.owner, row["created_at"], row["metadata"])),
                         *await store.appended(deps, row["id"], req.key.owner, items, row["created_at"])])
    return ApiResponse(conversation_object(row))


async def _conversation(req: ApiRequest, deps: Deps):
    return await store.conversation(deps, req.key.owner, req.params["conversation_id"], "conversation_id")


async def retrieve_conversation(req: ApiRequest, deps: Deps) -> ApiResponse:
    return ApiResponse(conversation_object(await _conversation(req, deps)))


async def update_conversation(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ConversationUpdateParams, req)
    row = await _conversation(req, deps)
    metadata = stored.dumps(params.metadata)
    await deps.db.execute("UPDATE conversations SET metadata = ? WHERE id = ?", (metadata, row["id"]))
    return ApiResponse(conversation_object({**row, "metadata": metadata}))


async def delete_conversation(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _conversation(req, deps)
    await store.delete(deps, "conversations", row["id"], req.key.owner)
    return ApiResponse({"id": row["id"], "object": "conversation.deleted", "deleted": True})


async def list_conversation_items(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _conversation(req, deps)
    params = parse_text(ListParams, {k: v for k, v in req.query.items() if not k.startswith("include")})
    return ApiResponse(await store.item_page(deps, row["id"], "item", params))


async def create_conversation_items(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ItemCreateParams, req)
    row = await _conversation(req, deps)
    items = await _items(req, deps, params.items, "items")
    await deps.db.batch(await store.appended(deps, row["id"], req.key.owner, items, int(deps.now())))
    return ApiResponse({"object": "list", "data": items, "first_id": items[0]["id"], "last_id": items[-1]["id"],
                        "has_more": False})


async def _item(deps: Deps, conversation_id: str, item_id: str):
    rows = await deps.db.query("SELECT position, body FROM items WHERE parent = ? AND id = ? AND role = 'item'",
                               (conversation_id, item_id))
    if not rows:
        raise NotFound(f"Item with id '{item_id}' not found.", param="item_id")
    return rows[0]


async def retrieve_conversation_item(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _conversation(req, deps)
    found = await _item(deps, row["id"], req.params["item_id"])
    return ApiResponse(await stored.load(deps, found["body"]))


async def delete_conversation_item(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Returns the conversation, as OpenAI does."""
    row = await _conversation(req, deps)
    found = await _item(deps, row["id"], req.params["item_id"])
    await deps.db.execute("DELETE FROM items WHERE parent = ? AND position = ?", (row["id"], found["position"]))
    await stored.forget(deps, [found["body"]])
    return ApiResponse(conversation_object(row))
