"""Forced tool calls (tool_choice "required" or a named function). On models with JSON mode the call
is asked for as a JSON document constrained by a schema made from the tools, as vLLM and SGLang do
with guided decoding, and turned back into the call; other models' own calls are checked. Either
way the arguments are validated (against the schema of `strict` tools), never passed on unchecked."""
import json
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from api import safejson
from api.catalog import JSON_MODE, ModelSpec
from api.errors import ModelOutputError
from api.generation import structured
from api.generation.outputs import Generation, NewId, ToolCall, arguments_text, recover_leaked_call
from api.types.chat import ToolParam

EMPTY_PARAMETERS = {"type": "object", "properties": {}}
ANY_TOOL = "tool_call"  # the JSON-mode schema's name when any of several tools may be called


@dataclass
class Forced:
    """The call a client forced: `name` for a named tool, "" for any of `validators`' tools."""
    name: str
    validators: Dict[str, Optional[Callable]] = field(default_factory=dict)  # tool → strict schema check
    as_json: bool = False  # asked for in the model's JSON mode, turned into the call by `to_call`

    @property
    def wanted(self) -> str:
        return f"'{self.name}'" if self.name else "a tool"


def _parameters(tool: ToolParam) -> dict:
    return tool.function.parameters or EMPTY_PARAMETERS


def validators(tools: List[ToolParam]) -> Dict[str, Optional[Callable]]:
    """Each tool's check of its arguments: the compiled schema of a strict tool, else None. A strict
    tool's broken schema is the caller's 400, as for response_format."""
    return {tool.function.name: structured.validator(json.dumps(_parameters(tool), sort_keys=True),
                                                     f"tools[{index}].function.parameters")
            if tool.function.strict else None for index, tool in enumerate(tools)}


def forced(checks: Dict[str, Optional[Callable]], name: str, spec: ModelSpec) -> Forced:
    """The call forced to `name`, or to any of the tools ("")."""
    return Forced(name, {tool: check for tool, check in checks.items() if not name or tool == name},
                  spec.has(JSON_MODE))


def _relocated(schema, at: str):
    """`schema` moved to the JSON pointer `at` of a bigger document: its local $refs follow it."""
    if isinstance(schema, list):
        return [_relocated(item, at) for item in schema]
    if not isinstance(schema, dict):
        return schema
    moved = {key: _relocated(value, at) for key, value in schema.items()}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        moved["$ref"] = at + ref[1:]
    return moved


def _schema(tools: List[ToolParam]) -> dict:
    """A named tool: its parameters. Any of several: one of {name, arguments} per tool."""
    if len(tools) == 1:
        return _parameters(tools[0])
    return {"anyOf": [
        {"type": "object", "additionalProperties": False, "required": ["name", "arguments"],
         "properties": {"name": {"const": tool.function.name},
                        "arguments": _relocated(_parameters(tool), f"#/anyOf/{i}/properties/arguments")}}
        for i, tool in enumerate(tools)]}


def _instruction(tools: List[ToolParam]) -> str:
    described = "\n".join(f"- {t.function.name}: {t.function.description or t.function.name}; parameters "
                          f"(JSON Schema): {json.dumps(_parameters(t), separators=(',', ':'))}" for t in tools)
    if len(tools) == 1:
        return (f"Call the function `{tools[0].function.name}`. Answer with only its arguments, as one JSON "
                f"object.\n{described}")
    return ('Call exactly one of these functions. Answer with only a JSON object {"name": <the function\'s '
            f'name>, "arguments": <its arguments>}}.\n{described}')


def json_mode_inputs(inputs: dict, tools: List[ToolParam], call: Forced, spec: ModelSpec) -> dict:
    """The model inputs that ask for the call in JSON mode: no tools (a constrained document
    instead), and the functions described in a system message, since the schema alone does not
    tell the model what they are for."""
    chosen = [t for t in tools if t.function.name in call.validators]
    schema = _schema(chosen)
    if spec.shape == "openai":
        envelope = {"name": call.name or ANY_TOOL, "schema": schema}
        if all(check is not None for check in call.validators.values()):
            envelope["strict"] = True
        response_format = {"type": "json_schema", "json_schema": envelope}
    else:
        response_format = {"type": "json_schema", "json_schema": schema}  # native: the bare schema
    dropped = ("tools", "tool_choice", "parallel_tool_calls", "response_format")
    asked = {k: v for k, v in inputs.items() if k not in dropped}
    asked["messages"] = _with_instruction(inputs["messages"], _instruction(chosen))
    asked["response_format"] = response_format
    return asked


def _with_instruction(messages: List[dict], text: str) -> List[dict]:
    """One system message first, as every chat template accepts: the caller's, extended."""
    if messages and messages[0]["role"] == "system" and isinstance(messages[0]["content"], str):
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{text}".lstrip()}
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def to_call(result: Generation, call: Forced, model: str, new_id: NewId) -> Generation:
    """A JSON-mode answer as the call it stands for. A model may still answer with a real call."""
    if result.tool_calls:
        return result
    try:
        value = safejson.loads(result.text or "")
    except ValueError:
        raise ModelOutputError(f"{model} answered with text that is not JSON instead of calling "
                               f"{call.wanted}.", code="tool_call_missing") from None
    if call.name:
        name, arguments = call.name, value
    elif isinstance(value, dict) and isinstance(value.get("name"), str):
        name, arguments = value["name"], value.get("arguments", value.get("parameters"))
    else:
        raise ModelOutputError(f"{model} answered with JSON that names no tool instead of calling "
                               f"{call.wanted}.", code="tool_call_missing")
    result.tool_calls = [ToolCall(new_id(), name, arguments_text(arguments))]
    result.text, result.finish_reason = None, "tool_calls"
    return result


def check(result: Generation, call: Forced, model: str, new_id: NewId) -> Generation:
    """The forced call is there, to an allowed tool, with arguments that are a JSON object (valid
    against the schema of a strict tool); ModelOutputError otherwise, worth one more try. Output
    cut at max_tokens stays what it is, a "length" finish, without the unfinished document."""
    if result.finish_reason == "length" and not result.tool_calls:
        result.text = None
        return result
    if call.as_json:
        result = to_call(result, call, model, new_id)
    elif not result.tool_calls:
        result = recover_leaked_call(result, call.name, new_id)
    if not result.tool_calls:
        raise ModelOutputError(f"{model} did not call {call.wanted} though tool_choice required it.",
                               code="tool_call_missing")
    for tool_call in result.tool_calls:
        if tool_call.name not in call.validators:
            raise ModelOutputError(f"{model} called '{tool_call.name}', not {call.wanted} as tool_choice "
                                   "required.", code="tool_call_missing")
        _check_arguments(tool_call, call.validators[tool_call.name], model)
    return result


def _check_arguments(tool_call: ToolCall, validate: Optional[Callable], model: str) -> None:
    try:
        arguments = safejson.loads(tool_call.arguments)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise ModelOutputError(f"{model} called '{tool_call.name}' with arguments that are not a JSON "
                               "object.", code="invalid_tool_arguments")
    if validate is not None:
        import fastjsonschema  # noqa: PLC0415 - structured.validator() has loaded it
        try:
            validate(arguments)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise ModelOutputError(f"{model} called '{tool_call.name}' with arguments that do not match "
                                   f"its schema: {exc.message}.", code="invalid_tool_arguments") from None
