"""POST /v1/chat/completions on Workers AI text-generation models, whole or streamed."""
from typing import AsyncIterator, List

from api import catalog, sse, textgen, tokens, usage
from api.catalog import ModelSpec
from api.errors import InvalidRequest, UnsupportedParameter
from api.ports import Deps
from api.textgen import StreamedGeneration
from api.types.chat import ChatCompletionCreateParams, ChatMessage
from api.validate import parse_request, refuse_unsupported
from api.web import ApiRequest, ApiResponse, StreamResponse

# Parameters this server cannot honour yet, with the values that would ask for them.
NOT_YET = {
    "tools": bool,
    "tool_choice": lambda v: v not in (None, "none", "auto"),
    "functions": bool,
    "function_call": lambda v: v not in (None, "none", "auto"),
    "response_format": lambda v: bool(v) and v.get("type") != "text",
    "stop": bool,
    "n": lambda v: v not in (None, 1),
    "logprobs": bool,
    "top_logprobs": bool,
    "logit_bias": bool,
    "audio": lambda v: v is not None,
    "modalities": lambda v: bool(v) and v != ["text"],
    "prediction": lambda v: v is not None,
    "reasoning_effort": lambda v: v is not None,
    "web_search_options": lambda v: v is not None,
    "prompt_cache_key": lambda v: v is not None,
    "service_tier": lambda v: v not in (None, "auto", "default"),
}


def _text(message: ChatMessage, index: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    for part_index, part in enumerate(message.content):
        param = f"messages[{index}].content[{part_index}]"
        if part.type != "text":
            raise UnsupportedParameter(param, f"has type '{part.type}'; only text content is supported yet")
        if part.text is None:
            raise InvalidRequest(f"Missing required parameter: '{param}.text'.", param=f"{param}.text",
                                 code="missing_required_parameter")
    return "\n".join(part.text for part in message.content)


def model_messages(messages: List[ChatMessage], spec: ModelSpec) -> List[dict]:
    """OpenAI messages → the model's: text content; `developer` is `system` to native models."""
    converted = []
    for index, message in enumerate(messages):
        if message.role in ("tool", "function") or message.tool_calls or message.function_call:
            raise UnsupportedParameter(f"messages[{index}]", "uses tool calling, which is not supported yet")
        role = "system" if message.role == "developer" and spec.shape != "openai" else message.role
        item = {"role": role, "content": _text(message, index)}
        if message.name is not None:
            if spec.shape != "openai":
                raise UnsupportedParameter(f"messages[{index}].name", f"is not supported by {spec.id}")
            item["name"] = message.name
        converted.append(item)
    return converted


async def create_chat_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(ChatCompletionCreateParams, req)
    refuse_unsupported(params, NOT_YET)
    include_usage = textgen.include_usage(params)
    spec = catalog.resolve(params.model, catalog.CHAT, deps.config.model_aliases)
    messages = model_messages(params.messages, spec)
    limit = textgen.max_tokens(params, spec)
    inputs = textgen.inputs(params, spec, limit, messages=messages)
    prompt_estimate = sum(tokens.estimate(m["content"]) for m in messages)
    completion_id, created = deps.new_id("chatcmpl-"), int(deps.now())
    if params.stream:
        chunks = await deps.ai.stream(spec.id, {**inputs, "stream": True})
        upstream = StreamedGeneration(chunks, limit, prompt_estimate)
        frames = _frames(req, deps, spec, upstream, completion_id, created, include_usage)
        return StreamResponse(sse.guarded(frames, deps.log, req.id))
    result = textgen.generation(await deps.ai.run(spec.id, inputs), limit, prompt_estimate)
    usage.record(req, deps, spec.id, result.usage)
    return ApiResponse({
        "id": completion_id, "object": "chat.completion", "created": created, "model": spec.id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": result.finish_reason}],
        "usage": result.usage.wire(),
    })


async def _frames(req: ApiRequest, deps: Deps, spec: ModelSpec, upstream: StreamedGeneration,
                  completion_id: str, created: int, include_usage: bool) -> AsyncIterator[str]:
    # With include_usage, OpenAI sends "usage": null on every chunk and the totals in a last,
    # choice-less chunk.
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": spec.id, **({"usage": None} if include_usage else {})}

    def chunk(delta: dict, finish_reason=None) -> str:
        return sse.frame({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                               "finish_reason": finish_reason}]})

    yield chunk({"role": "assistant", "content": ""})
    async for text in upstream.texts():
        yield chunk({"content": text})
    reason, used = upstream.ending()
    yield chunk({}, reason)
    if include_usage:
        yield sse.frame({**base, "choices": [], "usage": used.wire()})
    yield sse.DONE
    usage.record(req, deps, spec.id, used)
