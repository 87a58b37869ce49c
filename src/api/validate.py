"""Parse JSON bodies into pydantic models; validation failures become InvalidRequest with `param`."""
import re
from typing import Any, List, Mapping, Optional, Type, TypeVar

from pydantic.v1 import BaseModel, StrictBool, ValidationError
from pydantic.v1.fields import SHAPE_LIST, SHAPE_SINGLETON

from api import safejson
from api.errors import InvalidRequest, UnsupportedParameter
from api.web import ApiRequest

Model = TypeVar("Model", bound=BaseModel)
_ABSENT = object()
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # JSON's number grammar
_KINDS = {"type_error.integer": "an integer", "type_error.float": "a number", "type_error.str": "a string",
          "type_error.bool": "a boolean", "value_error.strictbool": "a boolean", "type_error.dict": "an object",
          "type_error.list": "an array"}
_JSON_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "an array"), (dict, "an object"))


def json_body(req: ApiRequest) -> dict:
    # The body is parsed as JSON whatever its content-type says, as OpenAI does (curl -d sends
    # application/x-www-form-urlencoded).
    try:
        data = safejson.loads(req.body or b"null")
    except safejson.TooComplex as exc:
        raise InvalidRequest(f"The JSON body of your request is too complex: {exc}.",
                             code="json_too_complex") from None
    except ValueError:  # UnicodeDecodeError included: bodies are UTF-8
        raise InvalidRequest("We could not parse the JSON body of your request. "
                             "The OpenAI API expects a JSON payload.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return data


def param_path(loc) -> str:
    """('messages', 2, 'content') → 'messages[2].content'."""
    path = ""
    for part in loc:
        if part in ("__root__", "__key__"):
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse(model: Type[Model], data: dict, prefix: str = "") -> Model:
    """`data` as `model`; a failure is an InvalidRequest naming the JSON path, under `prefix` (the
    path of `data` itself in the request, for parts parsed on their own)."""
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        raise _invalid(exc.errors(), data, prefix) from None


def parse_request(model: Type[Model], req: ApiRequest) -> Model:
    return parse(model, json_body(req))


def parse_text(model: Type[Model], fields: Mapping[str, Any], prefix: str = "") -> Model:
    """`parse` for a query string or a multipart form, whose values are all text: those of integer,
    number and boolean fields (also in sub-objects and lists) become numbers and booleans when
    written as such ("10", "0.5", "true"); any other text stays text, which validation refuses."""
    return parse(model, _typed(model, fields), prefix)


def _typed(model: Type[BaseModel], fields: Mapping[str, Any]) -> dict:
    typed = dict(fields)
    for field in model.__fields__.values():
        if field.alias not in typed:
            continue
        value = typed[field.alias]
        if isinstance(value, dict) and isinstance(field.type_, type) and issubclass(field.type_, BaseModel):
            typed[field.alias] = _typed(field.type_, value)
        elif isinstance(value, list) and field.shape == SHAPE_LIST:
            typed[field.alias] = [_scalar(field.type_, item) for item in value]
        elif field.shape == SHAPE_SINGLETON:
            typed[field.alias] = _scalar(field.type_, value)
    return typed


def _scalar(kind, value):
    if not isinstance(value, str) or not isinstance(kind, type):
        return value
    if issubclass(kind, StrictBool):
        return {"true": True, "false": False}.get(value, value)
    if issubclass(kind, int) and _INTEGER.fullmatch(value):
        return int(value)
    if issubclass(kind, float) and _NUMBER.fullmatch(value):
        return float(value)
    return value


def _invalid(errors: List[dict], data: dict, prefix: str) -> InvalidRequest:
    """OpenAI's error for the first problem: a missing parameter, a value of the wrong JSON type
    (`invalid_type`, naming the types expected and given), or an unacceptable value."""
    chosen = errors[0]
    while True:  # a union reports each branch: the branch that went deeper matched the value's type
        deeper = [e for e in errors if len(e["loc"]) > len(chosen["loc"]) and e["loc"][:len(chosen["loc"])] == chosen["loc"]]
        if not deeper or _expects(chosen) is None:
            break
        chosen = deeper[0]
    inner = param_path(chosen["loc"])
    param = prefix + ("" if not inner else inner if inner.startswith("[") or not prefix else "." + inner)
    if chosen["type"] == "value_error.missing":
        return InvalidRequest(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    given = _kind(_at(data, chosen["loc"]))
    branches = [e for e in errors if e["loc"] == chosen["loc"]]
    expected = list(dict.fromkeys(_expects(e) for e in branches))
    if given and None not in expected and not any(_fits(given, kind) for kind in expected):
        wanted = ", ".join(expected[:-1]) + (" or " if len(expected) > 1 else "") + expected[-1]
        return InvalidRequest(f"Invalid type for '{param}': expected {wanted}, but got {given} instead.",
                              param=param, code="invalid_type")
    chosen = next((e for e in branches if _expects(e) is None), chosen)
    return InvalidRequest(f"Invalid value for '{param}': {chosen['msg']}.", param=param, code="invalid_value")


def _expects(error: dict) -> Optional[str]:
    """The JSON type an error says the value should have had; None when it had the right type."""
    if error["type"] == "value_error.const":
        return _kind(error["ctx"]["permitted"][0])
    if error["type"] == "type_error.none.not_allowed":
        return "a value"
    return _KINDS.get(error["type"])


def _fits(given: str, expected: str) -> bool:
    return given == expected or (expected == "a number" and given == "an integer")


def _kind(value) -> Optional[str]:
    if value is _ABSENT:
        return None
    if value is None:
        return "null"
    for kind, name in _JSON_KINDS:
        if isinstance(value, kind):
            return name
    return "a file"


def _at(data, loc):
    for part in loc:
        if part == "__root__":
            continue
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return data


def form_fields(req: ApiRequest) -> dict:
    """A multipart request's fields for a pydantic model: one value per name, except names ending
    in [] (OpenAI's convention for arrays, e.g. timestamp_granularities[]), which become lists."""
    if req.form_error:
        raise InvalidRequest(req.form_error, code="invalid_multipart")
    if req.form is None:
        raise InvalidRequest("This endpoint takes multipart/form-data.", code="invalid_content_type")
    return {name[:-2] if name.endswith("[]") else name: values if name.endswith("[]") else values[-1]
            for name, values in req.form.items()}


def refuse_unsupported(params, asks: dict) -> None:
    """`asks` maps a parameter to a test of whether its value asks for something we cannot do:
    such a request gets a 400 naming the parameter instead of being silently ignored."""
    for name, wants in asks.items():
        if wants(getattr(params, name)):
            raise UnsupportedParameter(name)
