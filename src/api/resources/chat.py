"""POST /v1/chat/completions on Workers AI text-generation models: whole or streamed, with tools,
structured output, stop sequences, n choices, images, reasoning and prompt caching; with `store`,
kept for the stored chat completion routes (list, retrieve, update, delete, messages)."""
from contextlib import aclosing
from functools import partial
from typing import AsyncIterator, Awaitable, Callable, Optional

from api import catalog, limits, sse, stored_completions, usage
from api.generation import engine, plan as planning, sampling
from api.generation.choices import ChoiceStream, WholeChoice
from api.generation.outputs import Delta, Generation
from api.ports import Deps
from api.types.chat import ChatCompletionCreateParams
from api.types.stored_completions import CompletionListParams, CompletionUpdateParams, MessageListParams
from api.validate import parse_request, parse_text, refuse_unsupported
from api.web import ApiRequest, ApiResponse, StreamResponse

# Parameters no Workers AI model can honour, with the values that would ask for them.
NEVER = {
    "functions": bool,
    "function_call": lambda v: v not in (None, "none", "auto"),
    "audio": lambda v: v is not None,
    "modalities": lambda v: bool(v) and v != ["text"],
    "prediction": lambda v: v is not None,
    "web_search_options": lambda v: v is not None,
    "service_tier": lambda v: v not in (None, "auto", "default"),
}


def message(result: Generation) -> dict:
    wired = {"role": "assistant", "content": result.text, "refusal": None}
    if result.reasoning:
        wired["reasoning_content"] = result.reasoning
    if result.tool_calls:
        wired["tool_calls"] = [call.wire() for call in result.tool_calls]
    return wired


async def create_chat_completion(req: ApiRequest, deps: Deps):
    params = parse_request(ChatCompletionCreateParams, req)
    refuse_unsupported(params, NEVER)
    include_usage = sampling.include_usage(params)
    spec = limits.resolve_model(req, deps, params.model, catalog.CHAT)
    plan = await planning.chat(params, spec, deps)
    base = {"id": deps.new_id("chatcmpl-"), "created": int(deps.now()), "model": spec.id}
    meter = usage.Meter.of(req)
    keep = partial(stored_completions.save, deps, req.key.owner, params=params, request_id=req.id) \
        if params.store else None  # keep(completion) stores it
    if params.stream:
        stream = await engine.stream(plan, deps, meter)  # upstream failures are still plain HTTP errors here
        return StreamResponse(sse.guarded(_frames(stream, base, include_usage, plan.single_call, keep),
                                          deps.log, req.id))
    results = await engine.whole(plan, deps, meter)
    body = {**base, "object": "chat.completion", "choices": [
        {"index": i, "message": message(r), "logprobs": r.logprobs, "finish_reason": r.finish_reason}
        for i, r in enumerate(results)], "usage": sum((r.usage for r in results), usage.Usage()).wire()}
    if keep:
        await keep(body)
    return ApiResponse(body)


def _wire(delta: Delta) -> dict:
    wired = {}
    if delta.reasoning:
        wired["reasoning_content"] = delta.reasoning
    if delta.text:
        wired["content"] = delta.text
    if delta.tool_calls:
        wired["tool_calls"] = delta.tool_calls
    return wired


async def _frames(stream: ChoiceStream, base: dict, include_usage: bool, single_call: bool,
                  keep: Optional[Callable[[dict], Awaitable[None]]] = None) -> AsyncIterator[str]:
    """The chunks; with `keep`, the completion they make is kept once the last choice finished."""
    # With include_usage, OpenAI sends "usage": null on every chunk and the totals in a last,
    # choice-less chunk.
    head = {**base, "object": "chat.completion.chunk", **({"usage": None} if include_usage else {})}
    framer = sse.ChunkFramer(head)
    kept = stored_completions.Assembled(base, len(stream.choices)) if keep else None

    def chunk(index: int, delta: dict, finish_reason=None, logprobs=None) -> str:
        return framer.choice({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason})

    for index, choice in enumerate(stream.choices):
        # OpenAI opens a reply that is only tool calls with null content; a whole result tells us.
        calls_only = isinstance(choice, WholeChoice) and choice.result.text is None
        yield chunk(index, {"role": "assistant", "content": None if calls_only else ""})
    async with aclosing(stream.events()) as events:
        async for index, delta, reason in events:
            if delta and single_call:
                delta.tool_calls = [call for call in delta.tool_calls if call["index"] == 0]
            if delta:
                wired = _wire(delta)
                yield chunk(index, wired, logprobs=delta.logprobs)
            elif reason:
                wired = {}
                yield chunk(index, wired, reason)
            if kept and (delta or reason):
                kept.add(index, wired, None if delta else reason, delta.logprobs if delta else None)
    if include_usage:
        yield sse.frame({**head, "choices": [], "usage": stream.usage.wire()})
    if kept:
        await keep(kept.completion(stream.usage.wire()))
    yield sse.DONE


# --- stored chat completions ---------------------------------------------------------------------

async def list_chat_completions(req: ApiRequest, deps: Deps) -> ApiResponse:
    """Filters: `model` (a name or its Workers AI id) and `metadata[key]=value` pairs."""
    params = parse_text(CompletionListParams, req.query)
    metadata = {key[len("metadata["):-1]: value for key, value in req.query.items()
                if key.startswith("metadata[") and key.endswith("]")}
    model = catalog.aliases(deps.config.model_aliases).get(params.model, params.model) if params.model else None
    return ApiResponse(await stored_completions.page(deps, req.key.owner, params, model, metadata))


async def retrieve_chat_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await stored_completions.find(deps, req.key.owner, req.params["completion_id"])
    return ApiResponse(await stored_completions.load(deps, row))


async def update_chat_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    params = parse_request(CompletionUpdateParams, req)
    row = await stored_completions.find(deps, req.key.owner, req.params["completion_id"])
    return ApiResponse(await stored_completions.update(deps, row, params.metadata))


async def delete_chat_completion(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await stored_completions.find(deps, req.key.owner, req.params["completion_id"])
    await stored_completions.delete(deps, row)
    return ApiResponse({"object": "chat.completion.deleted", "id": row["id"], "deleted": True})


async def list_chat_completion_messages(req: ApiRequest, deps: Deps) -> ApiResponse:
    row = await stored_completions.find(deps, req.key.owner, req.params["completion_id"])
    params = parse_text(MessageListParams, req.query)
    return ApiResponse(await stored_completions.message_page(deps, row["id"], params))
