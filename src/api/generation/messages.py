"""OpenAI chat messages and tools → what each Workers AI model family takes: text or image
content, tool calls and tool results, with ids the model accepts."""
import base64
import hashlib
import re
from typing import Awaitable, Callable, List, Optional, Tuple

from api import tokens
from api.catalog import IMAGE_FIELD, SHORT_TOOL_IDS, TOOLS, VISION, ModelSpec
from api.errors import ApiError, InvalidRequest, UnsupportedParameter
from api.types.chat import ChatMessage, ContentPart, ToolParam

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # OpenAI's limit per image
IMAGE_TOKENS = 85  # what OpenAI counts for a low-detail image; image bytes are not text to estimate
FetchImage = Callable[[str, int], Awaitable[Tuple[bytes, str]]]  # (url, max bytes) → (bytes, type)
_SHORT_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_DATA_URI = re.compile(r"^data:(image/[\w.+-]+);base64,", re.I)


def model_tool_id(proxy_id: str) -> str:
    """The 9 alphanumerics Llama-4 and Mistral insist on. Our own call_<9> ids map back exactly;
    any other id is hashed, so the same id always maps to the same, distinct value."""
    tail = proxy_id[5:] if proxy_id.startswith("call_") else proxy_id
    if _SHORT_ID.match(tail):
        return tail
    return "".join(_ALNUM[b % len(_ALNUM)] for b in hashlib.sha256(proxy_id.encode()).digest()[:9])


async def image_data(part: ContentPart, param: str, fetch: FetchImage) -> Tuple[str, bytes]:
    """(mime type, bytes) of an image part: a data: URI, or an http(s) URL fetched with a size cap
    (Workers AI itself only takes data: URIs)."""
    url = part.image_url.url if part.image_url else ""
    found = _DATA_URI.match(url)
    if found:
        try:
            data = base64.b64decode(url[found.end():], validate=True)
        except ValueError:
            raise InvalidRequest(f"Invalid base64 image data in '{param}'.", param=param,
                                 code="invalid_image") from None
        mime = found[1].lower()
    elif url.startswith(("https://", "http://")):
        try:
            data, mime = await fetch(url, MAX_IMAGE_BYTES)
        except ApiError as exc:
            exc.param = param
            raise
        mime = mime.split(";")[0].strip().lower()
    else:
        raise InvalidRequest(f"'{param}' must be an http(s) URL or a data:image/...;base64 URI.",
                             param=param, code="invalid_image_url")
    if not mime.startswith("image/"):
        raise InvalidRequest(f"'{param}' is not an image ({mime or 'no content type'}).", param=param,
                             code="invalid_image")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidRequest(f"The image in '{param}' is over {MAX_IMAGE_BYTES} bytes.", param=param,
                             code="image_too_large")
    return mime, data


class Converted:
    """The model's messages, plus the raw bytes of images for models that take a top-level field."""

    def __init__(self):
        self.messages: List[dict] = []
        self.images: List[bytes] = []


async def _content(message: ChatMessage, index: int, spec: ModelSpec, fetch: FetchImage, into: Converted):
    if message.content is None or isinstance(message.content, str):
        return message.content or ""  # never null: several models reject it
    texts, parts = [], []
    for part_index, part in enumerate(message.content):
        param = f"messages[{index}].content[{part_index}]"
        if part.type == "text":
            if part.text is None:
                raise InvalidRequest(f"Missing required parameter: '{param}.text'.", param=f"{param}.text",
                                     code="missing_required_parameter")
            texts.append(part.text)
            parts.append({"type": "text", "text": part.text})
        elif part.type == "image_url":
            if not (spec.has(VISION) or spec.has(IMAGE_FIELD)):
                raise UnsupportedParameter(param, f"is an image, and {spec.id} does not take images; "
                                                  "use a vision model")
            mime, data = await image_data(part, f"{param}.image_url.url", fetch)
            if spec.has(IMAGE_FIELD):
                into.images.append(data)
            else:
                uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
                parts.append({"type": "image_url", "image_url": {"url": uri}})
        else:
            raise UnsupportedParameter(param, f"has type '{part.type}', which is not supported")
    if len(parts) == len(texts):  # text only: a plain string suits every model
        return "\n".join(texts)
    return parts if spec.has(VISION) else "\n".join(texts)


def _tool_id(proxy_id: str, spec: ModelSpec) -> str:
    return model_tool_id(proxy_id) if spec.has(SHORT_TOOL_IDS) else proxy_id


async def model_messages(messages: List[ChatMessage], spec: ModelSpec, fetch: FetchImage) -> Converted:
    converted = Converted()
    for index, message in enumerate(messages):
        if message.role == "function" or message.function_call is not None:
            raise UnsupportedParameter(f"messages[{index}]", "uses the deprecated function calling; "
                                                            "use tools and role 'tool'")
        uses_tools = message.role == "tool" or message.tool_calls
        if uses_tools and not spec.has(TOOLS):
            raise UnsupportedParameter(f"messages[{index}]", f"uses tool calling, which {spec.id} does not support")
        role = "system" if message.role == "developer" and spec.shape != "openai" else message.role
        item = {"role": role, "content": await _content(message, index, spec, fetch, converted)}
        if message.role == "tool":
            if not message.tool_call_id:
                raise InvalidRequest(f"Missing required parameter: 'messages[{index}].tool_call_id'.",
                                     param=f"messages[{index}].tool_call_id", code="missing_required_parameter")
            item["tool_call_id"] = _tool_id(message.tool_call_id, spec)
        if message.tool_calls:
            item["tool_calls"] = [{"id": _tool_id(call.id, spec), "type": "function",
                                   "function": {"name": call.function.name, "arguments": call.function.arguments}}
                                  for call in message.tool_calls]
        if message.name is not None:
            if spec.shape != "openai":
                raise UnsupportedParameter(f"messages[{index}].name", f"is not supported by {spec.id}")
            item["name"] = message.name
        converted.messages.append(item)
    if len(converted.images) > 1:
        raise UnsupportedParameter("messages", f"holds {len(converted.images)} images; {spec.id} takes one")
    return converted


def prompt_estimate(converted: Converted) -> int:
    """Estimated prompt tokens of the converted messages: their text, tool-call arguments and images."""
    total = IMAGE_TOKENS * len(converted.images)
    for message in converted.messages:
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        total += sum(tokens.estimate(p["text"]) if p["type"] == "text" else IMAGE_TOKENS for p in parts)
        total += sum(tokens.estimate(c["function"]["arguments"]) for c in message.get("tool_calls", []))
    return total


def model_tools(tools: List[ToolParam], spec: ModelSpec) -> List[dict]:
    """OpenAI function tools. Native models' schemas require a description on the function and
    on every parameter, so missing ones get the name (never `false`, which they reject)."""
    converted = []
    for tool in tools:
        function = tool.function
        parameters = dict(function.parameters or {"type": "object", "properties": {}})
        if spec.shape != "openai":
            properties = parameters.get("properties") or {}
            parameters["properties"] = {name: {"description": name, **schema} if isinstance(schema, dict) else schema
                                        for name, schema in properties.items()}
        definition = {"name": function.name, "description": function.description or function.name,
                      "parameters": parameters}
        if function.strict is not None and spec.shape == "openai":
            definition["strict"] = function.strict
        converted.append({"type": "function", "function": definition})
    return converted


def tool_names(tools: Optional[List[ToolParam]]) -> List[str]:
    return [tool.function.name for tool in tools or []]
