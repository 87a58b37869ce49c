"""POST /v1/chat/completions on Workers AI text-generation models: whole or streamed, with tools,
structured output, stop sequences, n choices, images, reasoning and prompt caching."""
import asyncio
from dataclasses import dataclass
from typing import AsyncIterator, Callable, List, Optional

from api import catalog, sse, usage
from api.generation import messages, structured, sampling
from api.catalog import NO_STREAM, REASONING, TOOLS, ModelSpec
from api.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from api.generation.choices import ChoiceStream, WholeChoice, tool_ids
from api.generation.outputs import (Delta, Generation, StreamedGeneration, Usage, generation, recover_leaked_call,
                         trim_logprobs)
from api.ports import Deps
from api.generation.stops import cut, stop_sequences
from api.types.chat import ChatCompletionCreateParams
from api.validate import parse_request, refuse_unsupported
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
# Parameters only OpenAI-shaped models take.
OPENAI_SHAPED_ONLY = ("logprobs", "top_logprobs", "logit_bias")


@dataclass
class Plan:
    """What to ask the model, and what to do with its answers."""
    spec: ModelSpec
    inputs: dict
    options: Optional[dict]
    limit: Optional[int]
    prompt_estimate: int
    n: int
    stops: List[str]
    check_json: Optional[structured.Check]
    forced_tool: Optional[str]  # "" for any tool (required), a name for a named tool
    single_call: bool  # parallel_tool_calls false: we keep the first call, whatever the model did
    whole: bool  # call without streaming, even when the client streams


def _tools(params: ChatCompletionCreateParams, spec: ModelSpec) -> tuple:
    """(inputs for tools, the tool a call is forced to: a name, "" for any, or None)."""
    choice = params.tool_choice
    if not params.tools:
        if choice not in (None, "none", "auto"):
            raise InvalidRequest("'tool_choice' needs 'tools'.", param="tool_choice")
        return {}, None
    if not spec.has(TOOLS):
        raise UnsupportedParameter("tools", f"cannot be used with {spec.id}, which has no function calling")
    if choice == "none":
        return {}, None  # the model cannot call what it is not shown
    names = messages.tool_names(params.tools)
    named = None if isinstance(choice, str) or choice is None else choice.function.name
    if named is not None and named not in names:
        raise InvalidRequest(f"'tool_choice' names '{named}', which is not in 'tools'.", param="tool_choice")
    if choice == "required" and len(names) == 1:
        named = names[0]  # a forced single tool is the same as naming it, which models enforce
    forced = named if named is not None else ("" if choice == "required" else None)
    tools = [t for t in params.tools if named is None or t.function.name == named]
    inputs = {"tools": messages.model_tools(tools, spec)}
    if params.parallel_tool_calls is False and spec.shape == "openai":
        inputs["parallel_tool_calls"] = False  # native schemas have no such field: we enforce it
    if spec.shape == "openai" and forced is not None:
        # Named choices are enforced upstream and "required" is advisory; we verify both, as
        # some models (gpt-oss) answer a forced call as JSON text instead.
        inputs["tool_choice"] = {"type": "function", "function": {"name": named}} if named else "required"
    return inputs, forced


def _reasoning(params: ChatCompletionCreateParams, spec: ModelSpec) -> dict:
    effort = params.reasoning_effort
    if not spec.has(REASONING) or spec.shape != "openai":
        if effort is not None:
            why = "always reasons and takes no effort setting" if spec.has(REASONING) else "is not a reasoning model"
            raise UnsupportedParameter("reasoning_effort", f"cannot be used with {spec.id}, which {why}")
        return {}
    if effort == "none":
        return {"chat_template_kwargs": {"enable_thinking": False}}
    if effort is not None:
        return {"reasoning_effort": "low" if effort == "minimal" else effort}
    if params.max_tokens is not None and params.max_completion_tokens is None:
        # The legacy max_tokens caps the visible answer; thinking, on by default, would eat it.
        return {"chat_template_kwargs": {"enable_thinking": False}}
    return {}


def _openai_only(params: ChatCompletionCreateParams, spec: ModelSpec) -> dict:
    chosen = {name: getattr(params, name) for name in OPENAI_SHAPED_ONLY if getattr(params, name)}
    if chosen and spec.shape != "openai":
        raise UnsupportedParameter(next(iter(chosen)), f"is not supported by {spec.id}")
    if params.top_logprobs and not params.logprobs:
        raise InvalidRequest("'top_logprobs' requires 'logprobs' to be true.", param="top_logprobs")
    return chosen


async def plan(params: ChatCompletionCreateParams, spec: ModelSpec, deps: Deps) -> Plan:
    converted = await messages.model_messages(params.messages, spec, deps.web.fetch_bytes)
    tool_inputs, forced_tool = _tools(params, spec)
    response_format = structured.model_response_format(params.response_format, spec)
    stops = stop_sequences(params.stop)
    prompt_estimate = messages.prompt_estimate(converted)
    limit = sampling.max_tokens(params, spec)
    if spec.context and prompt_estimate + (limit or 0) > spec.context:
        defaulted = params.max_tokens is None and params.max_completion_tokens is None
        if defaulted and prompt_estimate < spec.context:
            limit = spec.context - prompt_estimate  # our default must not be what overflows
        else:
            raise InvalidRequest(f"This model's maximum context length is {spec.context} tokens. However, "
                                 f"you requested about {prompt_estimate + (limit or 0)} tokens "
                                 f"({prompt_estimate} in the messages, {limit or 0} in the completion).",
                                 param="messages", code="context_length_exceeded")
    inputs = sampling.inputs(params, spec, limit, messages=converted.messages)
    inputs.update(tool_inputs, **_reasoning(params, spec), **_openai_only(params, spec))
    if converted.images:
        inputs["image"] = list(converted.images[0])
    if response_format:
        inputs["response_format"] = response_format
    if stops and spec.shape == "openai":
        inputs["stop"] = stops  # saves the tokens after it; we enforce it either way
    affinity = params.prompt_cache_key or params.user
    options = {"extraHeaders": {"x-session-affinity": affinity}} if affinity else None
    check_json = structured.checker(params.response_format, spec.id)
    whole = spec.has(NO_STREAM) or check_json is not None or forced_tool is not None or (
        response_format is not None and spec.shape != "openai")  # native JSON mode cannot stream
    return Plan(spec, inputs, options, limit, prompt_estimate, params.n or 1, stops, check_json,
                forced_tool, params.parallel_tool_calls is False, whole)


def finish(result: Generation, plan: Plan, new_id: Callable[[], str]) -> Generation:
    """Apply stop sequences and the checks the model's own modes cannot guarantee."""
    if plan.stops and result.text:
        result.text, stopped = cut(result.text, plan.stops)
        if stopped:  # generation would have ended there, before any tool call that followed
            result.finish_reason, result.tool_calls = "stop", []
            result.logprobs = trim_logprobs(result.logprobs, len(result.text))
    if plan.single_call:
        result.tool_calls = result.tool_calls[:1]
    if plan.forced_tool is not None and not result.tool_calls:
        result = recover_leaked_call(result, plan.forced_tool, new_id)
    if plan.forced_tool is not None:
        names = [call.name for call in result.tool_calls]
        if not names or (plan.forced_tool and plan.forced_tool not in names):
            wanted = f"'{plan.forced_tool}'" if plan.forced_tool else "a tool"
            raise UpstreamError(f"{plan.spec.id} did not call {wanted} though tool_choice required it; "
                                "try again or use a model that enforces tool_choice.", code="tool_call_missing")
    if plan.check_json and result.finish_reason != "length" and not result.tool_calls:
        plan.check_json(result.text or "")
    return result


async def _whole(plan: Plan, deps: Deps) -> List[Generation]:
    results = await asyncio.gather(*(deps.ai.run(plan.spec.id, plan.inputs, plan.options) for _ in range(plan.n)))
    new_id = tool_ids(deps)
    return [finish(generation(r, plan.spec, plan.limit, plan.prompt_estimate, new_id), plan, new_id)
            for r in results]


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
    spec = catalog.resolve(params.model, catalog.CHAT, deps.config.model_aliases)
    the_plan = await plan(params, spec, deps)
    completion_id, created = deps.new_id("chatcmpl-"), int(deps.now())
    base = {"id": completion_id, "created": created, "model": spec.id}
    if params.stream:
        choices = await _choices(the_plan, deps)  # upstream failures are still plain HTTP errors here
        frames = _frames(req, deps, the_plan, choices, base, include_usage)
        return StreamResponse(sse.guarded(frames, deps.log, req.id))
    results = await _whole(the_plan, deps)
    total = sum((r.usage for r in results), Usage())
    usage.record(req, deps, spec.id, total)
    return ApiResponse({**base, "object": "chat.completion", "choices": [
        {"index": i, "message": message(r), "logprobs": r.logprobs, "finish_reason": r.finish_reason}
        for i, r in enumerate(results)], "usage": total.wire()})


async def _choices(plan: Plan, deps: Deps) -> list:
    if plan.whole:
        return [WholeChoice(r) for r in await _whole(plan, deps)]
    chunks = await asyncio.gather(*(deps.ai.stream(plan.spec.id, {**plan.inputs, "stream": True}, plan.options)
                                    for _ in range(plan.n)))
    return [StreamedGeneration(c, plan.spec, plan.limit, plan.prompt_estimate, tool_ids(deps)) for c in chunks]


def _wire(delta: Delta) -> dict:
    wired = {}
    if delta.reasoning:
        wired["reasoning_content"] = delta.reasoning
    if delta.text:
        wired["content"] = delta.text
    if delta.tool_calls:
        wired["tool_calls"] = delta.tool_calls
    return wired


async def _frames(req: ApiRequest, deps: Deps, plan: Plan, choices: list, base: dict,
                  include_usage: bool) -> AsyncIterator[str]:
    # With include_usage, OpenAI sends "usage": null on every chunk and the totals in a last,
    # choice-less chunk.
    head = {**base, "object": "chat.completion.chunk", **({"usage": None} if include_usage else {})}
    framer = sse.ChunkFramer(head)

    def chunk(index: int, delta: dict, finish_reason=None, logprobs=None) -> str:
        return framer.choice({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason})

    for index, choice in enumerate(choices):
        # OpenAI opens a reply that is only tool calls with null content; a whole result tells us.
        calls_only = isinstance(choice, WholeChoice) and choice.result.text is None
        yield chunk(index, {"role": "assistant", "content": None if calls_only else ""})
    stream = ChoiceStream(choices, plan.stops)
    async for index, delta, reason in stream.events():
        if delta and plan.single_call:
            delta.tool_calls = [call for call in delta.tool_calls if call["index"] == 0]
        if delta:
            yield chunk(index, _wire(delta), logprobs=delta.logprobs)
        elif reason:
            yield chunk(index, {}, reason)
    if include_usage:
        yield sse.frame({**head, "choices": [], "usage": stream.usage.wire()})
    yield sse.DONE
    usage.record(req, deps, plan.spec.id, stream.usage)
