"""Parse JSON bodies into pydantic models; validation failures become InvalidRequest with `param`."""
from typing import Type, TypeVar

from pydantic.v1 import BaseModel, ValidationError

from api import safejson
from api.errors import InvalidRequest, UnsupportedParameter
from api.web import ApiRequest

Model = TypeVar("Model", bound=BaseModel)


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
        if part == "__root__":
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse(model: Type[Model], data: dict, prefix: str = "") -> Model:
    """`data` as `model`; a failure is an InvalidRequest naming the JSON path, under `prefix` (the
    path of `data` itself in the request, for parts parsed on their own)."""
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        inner = param_path(first["loc"])
        param = prefix + ("" if not inner else inner if inner.startswith("[") or not prefix else "." + inner)
        if first["type"] == "value_error.missing":
            raise InvalidRequest(f"Missing required parameter: '{param}'.", param=param,
                                 code="missing_required_parameter") from None
        raise InvalidRequest(f"Invalid value for '{param}': {first['msg']}.", param=param,
                             code="invalid_value") from None


def parse_request(model: Type[Model], req: ApiRequest) -> Model:
    return parse(model, json_body(req))


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
