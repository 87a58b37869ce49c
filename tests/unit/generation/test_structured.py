"""api.generation.structured: response_format per model family, schemas checked up front, output checked after."""
import urllib.request

import pytest

from api.generation import structured
from api.catalog import BY_ID
from api.errors import InvalidRequest, UnsupportedParameter, UpstreamError
from api.types.chat import ResponseFormat

NATIVE = BY_ID["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]
CHOICES = BY_ID["@cf/qwen/qwen3-30b-a3b-fp8"]
OPENAI = BY_ID["@cf/zai-org/glm-4.7-flash"]
NO_JSON_MODE = BY_ID["@cf/mistralai/mistral-small-3.1-24b-instruct"]
PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
          "required": ["name", "age"], "additionalProperties": False}


def fmt(type_="json_schema", schema=PERSON, strict=None, name="person"):
    if type_ != "json_schema":
        return ResponseFormat(type=type_)
    envelope = {"name": name, **({} if schema is None else {"schema": schema}),
                **({} if strict is None else {"strict": strict})}
    return ResponseFormat(type=type_, json_schema=envelope)


# --- mapping --------------------------------------------------------------------------------------

@pytest.mark.parametrize("response_format,spec,expected", [
    (None, NATIVE, None),
    (fmt("text"), NATIVE, None),
    (fmt("text"), NO_JSON_MODE, None),
    (fmt("json_object"), NATIVE, {"type": "json_object"}),
    (fmt("json_object"), OPENAI, {"type": "json_object"}),
    (fmt(), NATIVE, {"type": "json_schema", "json_schema": PERSON}),
    (fmt(strict=True), NATIVE, {"type": "json_schema", "json_schema": PERSON}),
    (fmt(), CHOICES, {"type": "json_schema", "json_schema": PERSON}),
    (fmt(strict=True), OPENAI,
     {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}),
    (fmt(strict=False), OPENAI,
     {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": False}}),
    (fmt(), OPENAI, {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}),
    (fmt(schema=None), NATIVE, {"type": "json_schema", "json_schema": {"type": "object"}}),
], ids=["none", "text", "text-without-json-mode", "object-native", "object-openai", "schema-native-bare",
        "schema-native-strict-still-bare", "schema-choices-bare", "schema-openai-strict", "schema-openai-not-strict",
        "schema-openai-no-strict", "schema-missing"])
def test_model_response_format(response_format, spec, expected):
    assert structured.model_response_format(response_format, spec) == expected


@pytest.mark.parametrize("response_format", [fmt("json_object"), fmt()])
def test_models_without_a_json_mode(response_format):
    with pytest.raises(UnsupportedParameter) as raised:
        structured.model_response_format(response_format, NO_JSON_MODE)
    assert (raised.value.param, raised.value.status) == ("response_format", 400)


@pytest.mark.parametrize("schema", [
    {"type": "nope"},
    {"type": "object", "required": "name"},
    {"$ref": "#/definitions/missing"},
], ids=["unknown-type", "required-not-a-list", "unresolvable-ref"])  # more in test_chat_structured.py
def test_a_broken_schema_is_the_callers_400(schema):
    with pytest.raises(InvalidRequest) as raised:
        structured.model_response_format(fmt(schema=schema), NATIVE)
    assert (raised.value.status, raised.value.param, raised.value.code) == (
        400, "response_format.json_schema.schema", "invalid_value")


def test_a_remote_ref_is_never_fetched(monkeypatch):
    fetched = []

    def urlopen(url, *args, **kwargs):
        fetched.append(url)
        raise OSError("no network in unit tests")
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(InvalidRequest) as raised:
        structured.model_response_format(fmt(schema={"$ref": "http://169.254.169.254/latest/meta-data"}), NATIVE)
    assert (fetched, raised.value.param) == ([], "response_format.json_schema.schema")


# --- checks of the output -------------------------------------------------------------------------

@pytest.mark.parametrize("response_format", [None, fmt("text")])
def test_nothing_to_check(response_format):
    assert structured.checker(response_format, "m") is None


@pytest.mark.parametrize("response_format,content", [
    (fmt("json_object"), '{"a": 1}'),
    (fmt("json_object"), ' {"a": [1, 2]}\n'),
    (fmt(strict=True), '{"name": "Ada", "age": 36}'),
    (fmt(), '{"name": "Ada"}'),  # not strict: any JSON will do
    (fmt(), "[1, 2]"),
    (fmt(strict=False), '"just a string"'),
    (fmt(schema=None, strict=True), '{"anything": true}'),
])
def test_acceptable_output(response_format, content):
    structured.checker(response_format, "m")(content)


@pytest.mark.parametrize("response_format,content,why", [
    (fmt("json_object"), "Sure! {\"a\": 1}", "returned invalid JSON for response_format 'json_object'"),
    (fmt("json_object"), "", "returned invalid JSON for response_format 'json_object'"),
    (fmt("json_object"), "[1, 2]", "returned JSON that is not an object"),
    (fmt("json_object"), '{"a": 1', "returned invalid JSON for response_format 'json_object'"),
    (fmt(), "{'name': 'Ada'}", "returned invalid JSON for response_format 'json_schema'"),
    (fmt(strict=True), '{"name": "Ada"}', "returned JSON that does not match the schema 'person'"),
    (fmt(strict=True), '{"name": "Ada", "age": "36"}', "returned JSON that does not match the schema 'person'"),
    (fmt(strict=True), '{"name": "Ada", "age": 36, "x": 1}', "returned JSON that does not match the schema 'person'"),
])
def test_unacceptable_output_is_a_502(response_format, content, why):
    with pytest.raises(UpstreamError) as raised:
        structured.checker(response_format, "@cf/some/model")(content)
    assert (raised.value.status, raised.value.code) == (502, "invalid_model_output")
    assert raised.value.message.startswith(f"@cf/some/model {why}")


# --- hostile schemas and output -------------------------------------------------------------------

def chain_of_refs(length: int) -> dict:
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(length)}
    return {"$defs": {**defs, f"d{length}": {"type": "object"}}, "$ref": "#/$defs/d0"}


def nested(keyword: str, depth: int) -> dict:
    schema = {"type": "object"}
    for _ in range(depth):
        schema = {keyword: [schema, {"type": "string"}]} if keyword == "anyOf" else {keyword: schema}
    return schema


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5_000)}},
    nested("not", 63), nested("anyOf", 31),
    {"type": "object", "properties": {"a": {"type": "array", "items": nested("items", 60)}}},
], ids=["huge", "deep-not", "deep-anyOf", "deep-items"])
def test_hostile_schemas_are_the_callers_400(schema):
    with pytest.raises(InvalidRequest) as raised:
        structured.model_response_format(fmt(schema=schema, strict=True), OPENAI)
    assert (raised.value.status, raised.value.param) == (400, "response_format.json_schema.schema")


def test_refs_that_nest_too_deeply_to_check_are_the_callers_400():
    check = structured.checker(fmt(schema=chain_of_refs(2_000), strict=True), "m")
    with pytest.raises(InvalidRequest) as raised:
        check("{}")
    assert (raised.value.status, raised.value.param) == (400, "response_format.json_schema.schema")
    structured.checker(fmt(schema=chain_of_refs(50), strict=True), "m")("{}")


def test_recursive_schemas_check_output_of_any_allowed_depth():
    tree = {"type": "object", "properties": {"child": {"$ref": "#"}}}
    output = '{"child": ' * 63 + "{}" + "}" * 63
    structured.checker(fmt(schema=tree, strict=True), "m")(output)


def test_output_nested_too_deeply_is_a_502_not_a_crash():
    with pytest.raises(UpstreamError) as raised:
        structured.checker(fmt("json_object"), "m")('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert raised.value.code == "invalid_model_output" and "nested more than 64 levels" in raised.value.message
