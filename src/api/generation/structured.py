"""Structured output: `response_format` mapped to each model family's JSON mode, and the output
checked — valid JSON, and with `strict` valid against the schema — before anyone sees it."""
import functools
import json
from typing import Callable, Optional

from api import safejson
from api.catalog import JSON_MODE, ModelSpec
from api.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from api.types.chat import ResponseFormat

Check = Callable[[str], None]
# Compiling costs ~6 µs of isolate CPU per character of schema (and compiled schemas are cached):
# real schemas are a few KB; OpenAI's own limits (5,000 properties, 120,000 characters of names
# and enum values) are about this large.
MAX_SCHEMA_CHARS = 100_000
_SCHEMA_PARAM = "response_format.json_schema.schema"


def model_response_format(fmt: Optional[ResponseFormat], spec: ModelSpec) -> Optional[dict]:
    if fmt is None or fmt.type == "text":
        return None
    if not spec.has(JSON_MODE):
        raise UnsupportedParameter("response_format", f"needs a JSON mode, which {spec.id} does not have")
    if fmt.type == "json_object":
        return {"type": "json_object"}
    schema = fmt.json_schema.schema_ or {"type": "object"}
    validator(json.dumps(schema, sort_keys=True))  # a broken schema is the caller's 400, not a 502
    if spec.shape == "openai":
        envelope = {"name": fmt.json_schema.name, "schema": schema}
        if fmt.json_schema.strict is not None:
            envelope["strict"] = fmt.json_schema.strict
        return {"type": "json_schema", "json_schema": envelope}
    return {"type": "json_schema", "json_schema": schema}  # native models take the bare schema


class _NoRemoteRefs(dict):
    """fastjsonschema fetches any $ref URI whose scheme has no handler: every scheme has ours,
    which refuses, so a client's schema can never make the server fetch anything."""

    def __contains__(self, scheme) -> bool:
        return True

    def __getitem__(self, scheme):
        return _refuse_remote


def _refuse_remote(uri: str):
    import fastjsonschema  # noqa: PLC0415 - as in validator()
    raise fastjsonschema.JsonSchemaDefinitionException(f"remote $ref {uri!r} is not allowed")


@functools.lru_cache(maxsize=64)
def validator(schema_json: str, param: str = _SCHEMA_PARAM) -> Callable:
    """The compiled check of a client's schema; a schema that does not compile, or is over
    MAX_SCHEMA_CHARS of JSON, is a 400 on `param`."""
    import fastjsonschema  # noqa: PLC0415 - loaded with the first schema, not with every chat request
    if len(schema_json) > MAX_SCHEMA_CHARS:
        raise InvalidRequest(f"Invalid JSON schema in '{param}': it is over {MAX_SCHEMA_CHARS} characters of JSON.",
                             param=param, code="invalid_value")
    try:
        return fastjsonschema.compile(json.loads(schema_json), handlers=_NoRemoteRefs())
    except Exception as exc:  # noqa: BLE001 - any failure to compile is a bad schema (re.error, ...)
        raise InvalidRequest(f"Invalid JSON schema in '{param}': {exc}", param=param,
                             code="invalid_value") from None


def checker(fmt: Optional[ResponseFormat], model: str) -> Optional[Check]:
    """A check of the final content, or None when the format asks for nothing to check."""
    if fmt is None or fmt.type == "text":
        return None
    strict = fmt.type == "json_schema" and fmt.json_schema.strict
    validate = validator(json.dumps(fmt.json_schema.schema_ or {}, sort_keys=True)) if strict else None

    def check(content: str) -> None:
        try:
            value = safejson.loads(content)
        except ValueError as exc:
            raise UpstreamError(f"{model} returned invalid JSON for response_format "
                                f"'{fmt.type}': {exc}.", code="invalid_model_output") from None
        if fmt.type == "json_object" and not isinstance(value, dict):
            raise UpstreamError(f"{model} returned JSON that is not an object.", code="invalid_model_output")
        if validate:
            import fastjsonschema  # noqa: PLC0415 - validator() has loaded it
            try:
                validate(value)
            except fastjsonschema.JsonSchemaValueException as exc:
                raise UpstreamError(f"{model} returned JSON that does not match the schema "
                                    f"'{fmt.json_schema.name}': {exc.message}.",
                                    code="invalid_model_output") from None
            except RecursionError:  # $refs that lead to $refs: each one is a call of the validator
                raise InvalidRequest(f"Invalid JSON schema in '{_SCHEMA_PARAM}': its $refs nest too deeply to "
                                     "check the output against it.", param=_SCHEMA_PARAM,
                                     code="invalid_value") from None
    return check
