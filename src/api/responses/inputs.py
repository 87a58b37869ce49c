"""Input items of the Responses and Conversations APIs: a string or item list checked item by item
(errors name `input[i]...`), normalised to the stored item shape with ids, and turned into the
chat messages the generation engine takes (files and images read from the caller's uploads)."""
import base64
import re
from typing import Callable, List, Tuple, Type

from api import stored
from api.errors import ApiError, InvalidRequest, NotFound
from api.ports import Deps
from api.types.common import Params
from api.types.responses import (FileSearchCall, FunctionCall, FunctionCallOutput, InputFile, InputImage,
                                 InputText, ItemReference, Message, Reasoning, Refusal)
from api.validate import parse
from api.vector_stores import chunking, stores

ITEM_TYPES = {"message": Message, "function_call": FunctionCall, "function_call_output": FunctionCallOutput,
              "reasoning": Reasoning, "file_search_call": FileSearchCall, "item_reference": ItemReference}
ID_PREFIX = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_", "reasoning": "rs_",
             "file_search_call": "fs_"}
PARTS = {"input_text": InputText, "output_text": InputText, "text": InputText, "input_image": InputImage,
         "input_file": InputFile, "refusal": Refusal}
MAX_FILE_BYTES = 10 * 1024 * 1024  # an input_file is read whole (its text goes to the model)
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?;base64,", re.I)
NewId = Callable[[str], str]


def _checked(model: Type[Params], data, param: str):
    if not isinstance(data, dict):
        raise InvalidRequest(f"Invalid value for '{param}': expected an object.", param=param, code="invalid_type")
    return parse(model, data, param)


def _part(data, param: str) -> dict:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in PARTS:
        raise InvalidRequest(f"Invalid value for '{param}.type': expected one of {', '.join(PARTS)}.",
                             param=f"{param}.type", code="invalid_value")
    part = _checked(PARTS[kind], data, param)
    if kind == "input_image" and not (part.image_url or part.file_id):
        raise InvalidRequest(f"'{param}' needs 'image_url' or 'file_id'.", param=param,
                             code="missing_required_parameter")
    if kind == "input_file" and not (part.file_id or part.file_data or part.file_url):
        raise InvalidRequest(f"'{param}' needs 'file_id', 'file_data' or 'file_url'.", param=param,
                             code="missing_required_parameter")
    return part.dict(exclude_none=True, by_alias=True)


def _content(content, role: str, param: str) -> list:
    """Message content as a list of parts: input parts for user/system/developer, output_text
    (and refusal) parts for the assistant's own turns given back."""
    if isinstance(content, str):
        content = [{"type": "output_text" if role == "assistant" else "input_text", "text": content}]
    parts = [_part(part, f"{param}.content[{i}]") for i, part in enumerate(content)]
    for part in parts:
        if part["type"] in ("output_text", "text", "input_text"):
            part["type"] = "output_text" if role == "assistant" else "input_text"
        if part["type"] == "output_text":
            part.setdefault("annotations", [])
        if role == "assistant" and part["type"] not in ("output_text", "refusal"):
            raise InvalidRequest(f"'{param}.content' of an assistant message holds only output_text and "
                                 "refusal parts.", param=f"{param}.content", code="invalid_value")
    return parts


def normalise(given, param: str, new_id: NewId) -> List[dict]:
    """The input (a string, or a list of items) as stored items, each with an id. Item references
    stay references here (see `resolve`)."""
    if given is None:
        return []
    if isinstance(given, str):
        given = [{"type": "message", "role": "user", "content": given}]
    items = []
    for index, data in enumerate(given):
        where = f"{param}[{index}]"
        kind = data.get("type", "message") if isinstance(data, dict) else None
        if kind not in ITEM_TYPES:
            raise InvalidRequest(f"Invalid value for '{where}.type': '{kind}' is not a supported input item "
                                 f"(supported: {', '.join(ITEM_TYPES)}).", param=f"{where}.type", code="invalid_value")
        item = _checked(ITEM_TYPES[kind], data, where).dict(exclude_none=True, by_alias=True)
        if kind == "message":
            item["content"] = _content(item["content"], item["role"], where)
        if kind == "reasoning" and item.get("encrypted_content"):
            raise InvalidRequest(f"'{where}.encrypted_content' is not supported: open models' reasoning is "
                                 "not encrypted; give it back as 'content'.", param=f"{where}.encrypted_content",
                                 code="unsupported_parameter")
        if kind != "item_reference":
            item.setdefault("id", new_id(ID_PREFIX[kind]))
            item["status"] = "completed"
        items.append(item)
    return items


async def resolve(deps: Deps, owner: str, items: List[dict], param: str) -> List[dict]:
    """Item references replaced by the owner's stored items they name."""
    resolved = []
    for index, item in enumerate(items):
        if item["type"] != "item_reference":
            resolved.append(item)
            continue
        rows = await deps.db.query("SELECT body FROM items WHERE id = ? AND owner = ? LIMIT 1", (item["id"], owner))
        if not rows:
            raise NotFound(f"Item with id '{item['id']}' not found.", param=f"{param}[{index}].id")
        resolved.append(await stored.load(deps, rows[0]["body"]))
    return resolved


async def _file(deps: Deps, owner: str, file_id: str, param: str) -> Tuple[bytes, str, str]:
    """(bytes, content type, filename) of one of the owner's uploaded files."""
    rows = await deps.db.query(f"SELECT filename FROM files WHERE id = ? AND {stores.LIVE_FILE}",
                               (file_id, owner, int(deps.now())))
    blob = await deps.blobs.get(stores.FILE_KEY + file_id) if rows else None
    if blob is None:
        raise NotFound(f"No such File object: {file_id}", param=param)
    if blob.size > MAX_FILE_BYTES:
        raise InvalidRequest(f"The file {file_id} is over {MAX_FILE_BYTES} bytes, the limit for input files.",
                             param=param, code="file_too_large")
    return await blob.read(), blob.content_type, rows[0]["filename"]


def _decoded(data: str, param: str) -> Tuple[bytes, str]:
    found = _DATA_URL.match(data)
    try:
        return base64.b64decode(data[found.end():] if found else data, validate=True), (found and found[1]) or ""
    except ValueError:
        raise InvalidRequest(f"Invalid base64 data in '{param}'.", param=param, code="invalid_value") from None


async def _file_text(deps: Deps, owner: str, part: dict, param: str) -> str:
    if part.get("file_id"):
        data, _, filename = await _file(deps, owner, part["file_id"], f"{param}.file_id")
    elif part.get("file_data"):
        data, _ = _decoded(part["file_data"], f"{param}.file_data")
        filename = part.get("filename") or "file.txt"
    else:
        try:
            data, _ = await deps.web.fetch_bytes(part["file_url"], MAX_FILE_BYTES)
        except ApiError as exc:
            exc.param = f"{param}.file_url"
            raise
        filename = part.get("filename") or part["file_url"].rsplit("/", 1)[-1] or "file.txt"
    try:
        text = chunking.extract(part.get("filename") or filename, data)
    except chunking.BadFile as bad:
        raise InvalidRequest(f"The file in '{param}' cannot be read: {bad.message}", param=param,
                             code=bad.code) from None
    return f"[file: {part.get('filename') or filename}]\n{text}"


async def _chat_part(deps: Deps, owner: str, part: dict, param: str) -> dict:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part["text"]}
    if kind == "refusal":
        return {"type": "text", "text": part["refusal"]}
    if kind == "input_file":
        return {"type": "text", "text": await _file_text(deps, owner, part, param)}
    url = part.get("image_url")
    if part.get("file_id"):
        data, content_type, _ = await _file(deps, owner, part["file_id"], f"{param}.file_id")
        url = f"data:{content_type};base64,{base64.b64encode(data).decode()}"
    return {"type": "image_url", "image_url": {"url": url}}


def _output_text(output) -> str:
    if isinstance(output, str):
        return output
    return "\n".join(part.get("text", "") for part in output if isinstance(part, dict))


def search_results_text(results: List[dict]) -> str:
    """File search results as the tool's answer to the model: each chunk with where it is from."""
    if not results:
        return "No results found."
    return "\n\n".join(f"[{i + 1}] {r.get('filename')} (file {r.get('file_id')}):\n{r.get('text', '')}"
                       for i, r in enumerate(results))


async def to_messages(deps: Deps, owner: str, items: List[dict], param: str = "input") -> List[dict]:
    """Chat messages for the model. Function calls join the assistant turn before them; reasoning
    items are context a model cannot take back, and are left out."""
    messages: List[dict] = []

    def assistant_turn() -> dict:
        if not messages or messages[-1]["role"] != "assistant" or "tool_calls" not in messages[-1]:
            last = messages[-1] if messages and messages[-1]["role"] == "assistant" else None
            if last is None:
                last = {"role": "assistant", "content": None}
                messages.append(last)
            last["tool_calls"] = []
        return messages[-1]

    for index, item in enumerate(items):
        where, kind = f"{param}[{index}]", item["type"]
        if kind == "message":
            parts = [await _chat_part(deps, owner, p, f"{where}.content[{i}]") for i, p in enumerate(item["content"])]
            content = "\n".join(p["text"] for p in parts) if all(p["type"] == "text" for p in parts) else parts
            messages.append({"role": item["role"], "content": content})
        elif kind == "function_call":
            assistant_turn()["tool_calls"].append(
                {"id": item["call_id"], "type": "function",
                 "function": {"name": item["name"], "arguments": item["arguments"]}})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": _output_text(item["output"])})
        elif kind == "file_search_call" and item.get("results") is not None:
            call_id = "call_" + item["id"][-9:]
            assistant_turn()["tool_calls"].append(
                {"id": call_id, "type": "function",
                 "function": {"name": "file_search", "arguments": stored.dumps({"queries": item["queries"]})}})
            messages.append({"role": "tool", "tool_call_id": call_id,
                             "content": search_results_text(item["results"])})
    return messages
