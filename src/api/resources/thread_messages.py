"""/v1/threads/{thread_id}/messages (Assistants v2): create (text, images, attachments: files
added to the thread's vector store), list (also by run), retrieve, modify metadata, delete.
No message is added while the thread has an active run, as on OpenAI."""
from api import stored
from api.assistants import messages, service, store
from api.assistants.service import BUSY_THREAD, beta
from api.assistants.store import Batch
from api.ports import Deps
from api.types.assistants import MessageCreateParams, MessageListParams, MetadataParams
from api.validate import parse_request, parse_text
from api.web import ApiRequest, ApiResponse


async def _thread(req: ApiRequest, deps: Deps):
    return await store.thread(deps, req.key.owner, req.params["thread_id"], "thread_id")


@beta
async def create_message(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(MessageCreateParams, req)
    row = await _thread(req, deps)
    await service.idle(deps, row["id"], BUSY_THREAD)
    thread = await stored.load(deps, row["body"])
    batch = Batch(deps)
    batch.add(store.idle(row["id"]))  # a run created meanwhile wins: the message is not added
    message, changed = await messages.add_message(deps, req.key.owner, thread, params, "", batch)
    if changed:
        await store.put_thread(batch, req.key.owner, thread, row)
    try:
        await batch.commit()
    except Exception:
        await service.idle(deps, row["id"], BUSY_THREAD)
        raise
    return ApiResponse(message)


@beta
async def list_messages(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_text(MessageListParams, req.query)
    row = await _thread(req, deps)
    filters = [("run_id = ?", [params.run_id])] if params.run_id else []
    return ApiResponse(await store.page(deps, "thread_messages", ("thread_id = ?", row["id"]), "message", params,
                                        filters))


@beta
async def retrieve_message(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _thread(req, deps)
    found = await store.message(deps, row["id"], req.params["message_id"])
    return ApiResponse(await stored.load(deps, found["body"]))


@beta
async def modify_message(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(MetadataParams, req)
    row = await _thread(req, deps)
    found = await store.message(deps, row["id"], req.params["message_id"])
    message = {**await stored.load(deps, found["body"]), "metadata": params.metadata or {}}
    batch = Batch(deps)
    await store.put_message(batch, message, found)
    await batch.commit()
    return ApiResponse(message)


@beta
async def delete_message(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await _thread(req, deps)
    found = await store.message(deps, row["id"], req.params["message_id"])
    await deps.db.execute("DELETE FROM thread_messages WHERE id = ? AND thread_id = ?", (found["id"], row["id"]))
    await stored.forget(deps, [found["body"]])
    return ApiResponse({"id": found["id"], "object": "thread.message.deleted", "deleted": True})
