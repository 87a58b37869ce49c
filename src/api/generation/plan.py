"""Planning a generation: OpenAI chat or completion parameters → the Workers AI calls to make (one
per choice) and what the engine must enforce on their answers (stops, tool calls, JSON)."""
from dataclasses import dataclass
from typing import List, Optional

from api import tokens
from api.catalog import NO_STREAM, REASONING, TOOLS, ModelSpec
from api.errors import InvalidRequest, UnsupportedParameter
from api.generation import forcing, messages, sampling, structured
from api.generation.forcing import Forced
from api.generation.stops import stop_sequences
from api.ports import Deps
from api.types.chat import ChatCompletionCreateParams
from api.types.completions import CompletionCreateParams
from api.web import ByteList

# Parameters only OpenAI-shaped models take.
OPENAI_SHAPED_ONLY = ("logprobs", "top_logprobs", "logit_bias")


@dataclass
class Plan:
    """What to ask the model, and what to do with its answers."""
    spec: ModelSpec
    calls: List[dict]  # the model inputs of each choice, in choice order
    prompt_estimates: List[int]  # per call: prompt tokens, should the model report no usage
    options: Optional[dict]
    limit: Optional[int]
    stops: List[str]
    check_json: Optional[structured.Check] = None
    forced: Optional[Forced] = None  # the tool call tool_choice requires (checked, retried once)
    single_call: bool = False  # parallel_tool_calls false: we keep the first call, whatever the model did
    whole: bool = False  # call without streaming, even when the client streams


def _tools(params: ChatCompletionCreateParams, spec: ModelSpec) -> tuple:
    """(inputs for tools, the call tool_choice forces or None)."""
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
    checks = forcing.validators(params.tools)
    forced = None if named is None and choice != "required" else forcing.forced(checks, named or "", spec)
    tools = [t for t in params.tools if named is None or t.function.name == named]
    inputs = {"tools": messages.model_tools(tools, spec)}
    if params.parallel_tool_calls is False and spec.shape == "openai":
        inputs["parallel_tool_calls"] = False  # native schemas have no such field: we enforce it
    if spec.shape == "openai" and forced is not None:
        # Without JSON mode these inputs are what the model gets: named choices are enforced
        # upstream and "required" is advisory; we check both.
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


def _fit(spec: ModelSpec, params, prompt_estimate: int, limit: Optional[int], param: str) -> Optional[int]:
    """The output limit, checked against the model's context window."""
    if not spec.context or prompt_estimate + (limit or 0) <= spec.context:
        return limit
    defaulted = params.max_tokens is None and getattr(params, "max_completion_tokens", None) is None
    if defaulted and prompt_estimate < spec.context:
        return spec.context - prompt_estimate  # our default must not be what overflows
    raise InvalidRequest(f"This model's maximum context length is {spec.context} tokens. However, "
                         f"you requested about {prompt_estimate + (limit or 0)} tokens "
                         f"({prompt_estimate} in the {param}, {limit or 0} in the completion).",
                         param=param, code="context_length_exceeded")


async def chat(params: ChatCompletionCreateParams, spec: ModelSpec, deps: Deps) -> Plan:
    converted = await messages.model_messages(params.messages, spec, deps.web.fetch_bytes)
    tool_inputs, forced = _tools(params, spec)
    response_format = structured.model_response_format(params.response_format, spec)
    stops = stop_sequences(params.stop)
    prompt_estimate = messages.prompt_estimate(converted)
    limit = _fit(spec, params, prompt_estimate, sampling.max_tokens(params, spec), "messages")
    inputs = sampling.inputs(params, spec, limit, messages=converted.messages)
    inputs.update(tool_inputs, **_reasoning(params, spec), **_openai_only(params, spec))
    if converted.images:
        inputs["image"] = ByteList(converted.images[0])
    if response_format:
        inputs["response_format"] = response_format
    if stops and spec.shape == "openai":
        inputs["stop"] = stops  # saves the tokens after it; we enforce it either way
    affinity = params.prompt_cache_key or params.user
    options = {"extraHeaders": {"x-session-affinity": affinity}} if affinity else None
    check_json = structured.checker(params.response_format, spec.id)
    if forced is not None and forced.as_json:
        inputs = forcing.json_mode_inputs(inputs, params.tools, forced, spec)
    whole = spec.has(NO_STREAM) or check_json is not None or forced is not None or (
        response_format is not None and spec.shape != "openai")  # native JSON mode cannot stream
    n = params.n or 1
    return Plan(spec, [inputs] * n, [prompt_estimate] * n, options, limit, stops, check_json, forced,
                params.parallel_tool_calls is False, whole)


def completion(params: CompletionCreateParams, spec: ModelSpec, prompts: List[str]) -> Plan:
    """n choices per prompt, ordered prompt by prompt as OpenAI orders them."""
    n, limit = params.n or 1, sampling.max_tokens(params, spec)
    calls = [sampling.inputs(params, spec, limit, prompt=p) for p in prompts for _ in range(n)]
    return Plan(spec, calls, [tokens.estimate(call["prompt"]) for call in calls], None, limit,
                stop_sequences(params.stop))
