"""A Responses request mapped onto the generation engine: tools, tool_choice, text.format,
reasoning and include become chat parameters; what Workers AI cannot serve is refused by name;
errors the engine raises in chat terms are renamed to the Responses parameters."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from api import catalog
from api.catalog import ModelSpec
from api.errors import ApiError, InvalidRequest, UnsupportedParameter
from api.generation import plan as planning
from api.ports import Deps
from api.types.chat import ChatCompletionCreateParams
from api.types.responses import FileSearchTool, FunctionTool, ResponseCreateParams
from api.validate import parse
from api.vector_stores import search

FILE_SEARCH = "file_search"  # the function our file_search tool is shown to the model as
INCLUDABLE = {"file_search_call.results", "message.output_text.logprobs"}
# Hosted tools of OpenAI's that have no Workers AI counterpart, and why.
NO_SUCH_TOOL = {
    "web_search": "there is no web search on Workers AI", "code_interpreter": "there is no sandbox on Workers",
    "computer_use": "there is no computer to use on Workers", "image_generation": "use /v1/images/generations",
    "mcp": "remote MCP servers are not called from this gateway", "local_shell": "there is no shell on Workers",
    "shell": "there is no shell on Workers", "apply_patch": "there is no workspace on Workers",
    "custom": "custom (free-form) tools need grammar-constrained output, which Workers AI lacks",
}
SEARCH_TOOL = {"type": "function", "function": {
    "name": FILE_SEARCH,
    "description": "Search the user's uploaded files for passages relevant to the question.",
    "parameters": {"type": "object", "properties": {"queries": {
        "type": "array", "items": {"type": "string"},
        "description": "One or more search queries that together cover what the user asked."}},
        "required": ["queries"]}}}
# text.verbosity as an instruction: no Workers AI model has the setting ("medium" is the default).
VERBOSITY = {"low": "Answer as briefly as the question allows.",
             "high": "Answer thoroughly, with detail and examples."}
# Chat parameter names in errors the engine raises → the Responses request's names.
RENAMED = {"response_format": "text.format", "max_completion_tokens": "max_output_tokens",
           "reasoning_effort": "reasoning.effort", "logprobs": "include"}


@dataclass
class Prepared:
    """What a response needs besides its context: the model, the chat parameters for each model
    call, and the built-in tool and outputs asked for."""
    spec: ModelSpec
    chat: dict
    file_search: Optional[FileSearchTool] = None
    max_tool_calls: Optional[int] = None
    include: Set[str] = field(default_factory=set)
    summary: bool = False  # reasoning.summary asked for: the reasoning goes out as its summary
    hint: Optional[str] = None  # text.verbosity, said to the model (open models take no such setting)


def _tool_kind(kind: str) -> str:
    for name in NO_SUCH_TOOL:
        if kind == name or kind.startswith(name + "_"):  # web_search_preview, computer_use_preview, …
            return name
    return kind


def _tools(params: ResponseCreateParams):
    functions, file_search = [], None
    for index, data in enumerate(params.tools or []):
        kind = data.get("type") if isinstance(data, dict) else None
        param = f"tools[{index}]"
        if kind == "function":
            tool = parse(FunctionTool, data, param)
            if tool.name == FILE_SEARCH and file_search is not None or tool.name in (t.name for t in functions):
                raise InvalidRequest(f"Duplicate tool name '{tool.name}' in 'tools'.", param=f"{param}.name")
            functions.append(tool)
        elif kind == "file_search":
            if file_search is not None:
                raise InvalidRequest("Only one file_search tool may be given.", param=param)
            file_search = parse(FileSearchTool, data, param)
            if file_search.filters is not None:
                search.check_filter(file_search.filters, f"{param}.filters")
            ranker = file_search.ranking_options.ranker if file_search.ranking_options else None
            if ranker not in (None, "auto", "none"):
                raise UnsupportedParameter(f"{param}.ranking_options.ranker", "supports only 'auto' and 'none'")
        elif isinstance(kind, str) and _tool_kind(kind) in NO_SUCH_TOOL:
            raise UnsupportedParameter(f"{param}.type", f"'{kind}' is not available: "
                                                       f"{NO_SUCH_TOOL[_tool_kind(kind)]}")
        else:
            raise InvalidRequest(f"Invalid value for '{param}.type': '{kind}'.", param=f"{param}.type",
                                 code="invalid_value")
    if file_search and any(t.name == FILE_SEARCH for t in functions):
        raise InvalidRequest(f"A function tool may not be named '{FILE_SEARCH}' beside the file_search tool.",
                             param="tools")
    return functions, file_search


def _choice(choice, names: List[str], file_search) -> tuple:
    """(chat tool_choice, the names of the tools the model is shown)."""
    if choice is None or isinstance(choice, str):
        return choice, names
    kind = choice.get("type")
    if kind == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}, names
    if kind == "file_search" and file_search is not None:
        return {"type": "function", "function": {"name": FILE_SEARCH}}, names
    if kind == "allowed_tools" and choice.get("mode") in ("auto", "required") and isinstance(choice.get("tools"), list):
        allowed = [FILE_SEARCH if t.get("type") == "file_search" else t.get("name") for t in choice["tools"]
                   if isinstance(t, dict)]
        unknown = [name for name in allowed if name not in names]
        if unknown:
            raise InvalidRequest(f"'tool_choice.tools' names {unknown[0]!r}, which is not in 'tools'.",
                                 param="tool_choice.tools")
        return choice["mode"], [name for name in names if name in allowed]
    if isinstance(kind, str) and _tool_kind(kind) in NO_SUCH_TOOL:
        raise UnsupportedParameter("tool_choice", f"names '{kind}', which is not available")
    raise InvalidRequest("Invalid value for 'tool_choice'.", param="tool_choice", code="invalid_value")


def _text_format(params: ResponseCreateParams) -> Optional[dict]:
    fmt = params.text.format if params.text else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "json_object"}
    schema = {"name": fmt.name, "schema": fmt.schema_, "strict": fmt.strict, "description": fmt.description}
    return {"type": "json_schema", "json_schema": {k: v for k, v in schema.items() if v is not None}}


def _refuse(params: ResponseCreateParams) -> None:
    if params.prompt is not None:
        raise UnsupportedParameter("prompt", "is not supported: prompt templates live in OpenAI's dashboard; "
                                             "send 'instructions' and 'input' instead")
    if params.service_tier not in (None, "auto", "default"):
        raise UnsupportedParameter("service_tier", "is not supported: Workers AI has one service tier")
    if params.prompt_cache_retention not in (None, "in_memory"):
        raise UnsupportedParameter("prompt_cache_retention", "is not supported: Workers AI's prefix cache keeps "
                                                             "no extended retention")
    for index, name in enumerate(params.include or []):
        if name not in INCLUDABLE:
            why = ("open models' reasoning is returned in the clear, never encrypted"
                   if name == "reasoning.encrypted_content" else "it names output that is never produced here")
            raise UnsupportedParameter(f"include[{index}]", f"'{name}' is not supported: {why}")
    if params.stream_options is not None and not params.stream:
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                             param="stream_options")
    if params.stream_options and params.stream_options.include_obfuscation:
        raise UnsupportedParameter("stream_options.include_obfuscation",
                                   "is not supported: stream events carry no obfuscation padding")
    if params.background and params.store is False:
        raise InvalidRequest("Background responses must be stored: 'background' needs 'store' true.",
                             param="background")
    if params.conversation is not None and params.previous_response_id is not None:
        raise InvalidRequest("'previous_response_id' cannot be used together with 'conversation'.",
                             param="previous_response_id", code="invalid_value")


def prepare(params: ResponseCreateParams, deps: Deps) -> Prepared:
    """Checks the request and maps it (the input is mapped separately: api.responses.inputs)."""
    _refuse(params)
    spec = catalog.resolve(params.model, catalog.CHAT, deps.config.model_aliases)
    functions, file_search = _tools(params)
    tools = [{"type": "function", "function": t.dict(exclude={"type"}, exclude_none=True)} for t in functions]
    if file_search:
        tools.append(SEARCH_TOOL)
    choice, shown = _choice(params.tool_choice, [t["function"]["name"] for t in tools], file_search)
    include = set(params.include or [])
    reasoning = params.reasoning
    chat: Dict = {"model": params.model, "max_completion_tokens": params.max_output_tokens,
                  "temperature": params.temperature, "top_p": params.top_p, "user": params.user,
                  "prompt_cache_key": params.prompt_cache_key, "parallel_tool_calls": params.parallel_tool_calls,
                  "response_format": _text_format(params), "reasoning_effort": reasoning and reasoning.effort,
                  "tools": [t for t in tools if t["function"]["name"] in shown] or None,
                  "tool_choice": choice if tools else None}
    if "message.output_text.logprobs" in include:
        chat.update(logprobs=True, top_logprobs=params.top_logprobs or 0)
    elif params.top_logprobs:
        raise InvalidRequest("'top_logprobs' needs 'message.output_text.logprobs' in 'include'.",
                             param="top_logprobs")
    chat = {name: value for name, value in chat.items() if value is not None}
    summary = bool(reasoning and (reasoning.summary or reasoning.generate_summary))
    verbosity = params.text.verbosity if params.text else None
    return Prepared(spec, chat, file_search, params.max_tool_calls, include, summary, VERBOSITY.get(verbosity))


def renamed(exc: ApiError) -> ApiError:
    """An engine error (in chat parameter names) in the Responses request's names."""
    if exc.param:
        head = exc.param.split(".")[0].split("[")[0]
        new = "input" if head == "messages" else RENAMED.get(exc.param, RENAMED.get(head))
        if new:
            exc.message = exc.message.replace(f"'{exc.param}'", f"'{new}'")
            exc.param = new
    return exc


async def plan(prepared: Prepared, messages: List[dict], deps: Deps, **overrides) -> planning.Plan:
    """The engine's plan for one model call of the response."""
    try:
        params = parse(ChatCompletionCreateParams, {**prepared.chat, **overrides, "messages": messages})
        return await planning.chat(params, prepared.spec, deps)
    except ApiError as exc:
        raise renamed(exc) from None
