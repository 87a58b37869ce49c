"""Threads and their messages: content parts and attachments checked (attached files go to the
thread's own vector store for file_search, made on first use as OpenAI does), threads and
messages written, and messages given to a run's model as Responses input items."""
from typing import List, Optional, Tuple

from api.assistants import objects, request, store
from api.assistants.store import Batch
from api.errors import ApiError, InvalidRequest, UnsupportedParameter
from api.ports import Deps
from api.types.assistants import (Attachment, ImageFilePart, ImageURLPart, MessageCreateParams, TextPart,
                                  ThreadCreateParams)
from api.types.vector_stores import AUTO
from api.validate import parse
from api.vector_stores import stores

PARTS = {"text": TextPart, "image_file": ImageFilePart, "image_url": ImageURLPart}
THREAD_STORE_EXPIRY = {"anchor": "last_active_at", "days": 7}  # OpenAI's for a thread's own store


def text(value: str, annotations: Optional[list] = None) -> dict:
    return {"type": "text", "text": {"value": value, "annotations": annotations or []}}


async def _owned_file(deps: Deps, owner: str, file_id: str, param: str) -> None:
    try:
        await stores.owned_files(deps, owner, [file_id])
    except ApiError as exc:
        exc.param = param
        raise


async def content(deps: Deps, owner: str, given, role: str, param: str) -> List[dict]:
    """Message content as the Message object shows it: text parts, and images in user messages."""
    if isinstance(given, str):
        return [text(given)]
    parts = []
    for index, data in enumerate(given):
        where, kind = f"{param}[{index}]", data.get("type") if isinstance(data, dict) else None
        if kind not in PARTS:
            raise InvalidRequest(f"Invalid value for '{where}.type': expected one of {', '.join(PARTS)}.",
                                 param=f"{where}.type", code="invalid_value")
        part = parse(PARTS[kind], data, where)
        if kind == "text":
            parts.append(text(part.text))
            continue
        if role != "user":
            raise InvalidRequest(f"'{where}': images are only allowed in user messages.", param=where,
                                 code="invalid_value")
        if kind == "image_file":
            await _owned_file(deps, owner, part.image_file.file_id, f"{where}.image_file.file_id")
        parts.append({"type": kind, kind: {"detail": "auto", **getattr(part, kind).dict(exclude_none=True)}})
    return parts


async def attach(deps: Deps, owner: str, thread: dict, attachments: Optional[List[Attachment]],
                 param: str) -> Tuple[List[dict], bool]:
    """(the attachments as shown, whether the thread's tool_resources changed): their files are
    added to the thread's vector store, which is made for the thread if it has none."""
    shown, files = [], []
    for index, attachment in enumerate(attachments or []):
        for number, tool in enumerate(attachment.tools):
            where = f"{param}[{index}].tools[{number}].type"
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind == "code_interpreter":
                raise UnsupportedParameter(where, f"'code_interpreter' {request.NO_SANDBOX}")
            if kind != "file_search":
                raise InvalidRequest(f"Invalid value for '{where}': expected file_search.", param=where,
                                     code="invalid_value")
        await _owned_file(deps, owner, attachment.file_id, f"{param}[{index}].file_id")
        shown.append({"file_id": attachment.file_id, "tools": [{"type": "file_search"}]})
        files.append(attachment.file_id)
    if not files:
        return shown, False
    existing = request.store_ids(thread["tool_resources"])
    if existing:
        store_id = (await stores.find_store(deps, owner, existing[0]))["id"]
    else:
        store_id = await stores.create_store(deps, owner, None, None, THREAD_STORE_EXPIRY, [], AUTO.stored())
        thread["tool_resources"] = {**thread["tool_resources"], "file_search": {"vector_store_ids": [store_id]}}
    files = list(dict.fromkeys(files))
    attached = {row["file_id"] for row in await deps.db.query(
        f"SELECT file_id FROM vector_store_files WHERE vector_store_id = ? AND file_id IN ({', '.join('?' * len(files))})",
        (store_id, *files))}
    new = [f for f in files if f not in attached]  # attached again: nothing to ingest again
    if new:
        await stores.attach(deps, owner, store_id, [{"file_id": f, "attributes": None,
                                                     "chunking_strategy": AUTO.stored()} for f in new])
    return shown, not existing


async def add_message(deps: Deps, owner: str, thread: dict, params: MessageCreateParams, param: str,
                      batch: Batch) -> Tuple[dict, bool]:
    """(the new message, written to `batch`; whether the thread changed and must be written too)."""
    parts = await content(deps, owner, params.content, params.role, f"{param}content")
    attachments, changed = await attach(deps, owner, thread, params.attachments, f"{param}attachments")
    message = objects.message(deps.new_id("msg_"), thread["id"], int(deps.now()), params.role, parts, attachments,
                              params.metadata)
    await store.put_message(batch, message)
    return message, changed


async def add_messages(deps: Deps, owner: str, thread: dict, given: List[dict], param: str,
                       batch: Batch) -> bool:
    """Messages given as a list (a new thread's, a run's additional ones): whether the thread changed."""
    changed = False
    for index, data in enumerate(given):
        where = f"{param}[{index}]"
        if not isinstance(data, dict):
            raise InvalidRequest(f"Invalid value for '{where}': expected an object.", param=where,
                                 code="invalid_type")
        _, made = await add_message(deps, owner, thread, parse(MessageCreateParams, data, where), where + ".", batch)
        changed = changed or made
    return changed


async def new_thread(deps: Deps, owner: str, params: ThreadCreateParams, prefix: str, batch: Batch) -> dict:
    """A thread with its first messages, written to `batch`."""
    resources = await request.tool_resources(deps, owner, params.tool_resources, f"{prefix}tool_resources")
    thread = objects.thread(deps.new_id("thread_"), int(deps.now()), resources, params.metadata)
    await add_messages(deps, owner, thread, params.messages, f"{prefix}messages", batch)
    await store.put_thread(batch, owner, thread)
    return thread


def item(message: dict) -> dict:
    """A thread message as the Responses input item the run's model is given."""
    role, parts = message["role"], []
    for part in message["content"]:
        if part["type"] == "text":
            parts.append({"type": "output_text" if role == "assistant" else "input_text",
                          "text": part["text"]["value"]})
        elif part["type"] == "image_file":
            parts.append({"type": "input_image", "file_id": part["image_file"]["file_id"]})
        elif part["type"] == "image_url":
            parts.append({"type": "input_image", "image_url": part["image_url"]["url"]})
    return {"type": "message", "role": role, "content": parts}
