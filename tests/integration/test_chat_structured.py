"""Structured output (response_format) through the official SDK: json_object, json_schema (strict:
checked against the schema before anyone sees it), `parse` and the stream helper with pydantic
models, and the 502 a model's broken JSON becomes.

The AI stand-in answers json_object with {"echo": <user text>} and json_schema with the instance a
constrained decoder would produce (strings "text", integers 1, the first enum value, one array
item). [[badjson]] makes native models drop every property (the schema is broken, the JSON valid)
and OpenAI-shaped ones cut the JSON text after its first key (invalid JSON)."""
import json
from typing import List, Literal, Optional

import jsonschema
import openai
import pytest
from pydantic import BaseModel

NATIVE = "gpt-4o"  # llama-3.3: the bare schema in, the parsed object out, cannot stream JSON
LLAMA4 = "gpt-4.1"
OPENAI_SHAPED = "@cf/zai-org/glm-4.7-flash"  # OpenAI's {name, schema, strict} envelope, JSON as text
CHOICES = "@cf/qwen/qwen3-30b-a3b-fp8"
FAMILIES = [NATIVE, LLAMA4, OPENAI_SHAPED, CHOICES]

PET_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "kind": {"type": "string", "enum": ["cat", "dog"]},
    },
    "required": ["name", "age", "tags", "kind"],
    "additionalProperties": False,
}
PET = {"name": "text", "age": 1, "tags": ["text"], "kind": "cat"}


def pet_format(strict: bool = True) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "pet", "schema": PET_SCHEMA, "strict": strict}}


class Pet(BaseModel):
    name: str
    age: int
    tags: List[str]
    kind: Literal["cat", "dog"]


class Address(BaseModel):
    street: str
    zip: int


class Person(BaseModel):  # nested models: the SDK's schema refers to $defs
    name: str
    home: Address
    previous: List[Address]
    nickname: Optional[str]


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def content_of(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("model", FAMILIES)
def test_json_object_gives_an_object(client, model):
    reply = client.chat.completions.create(model=model, messages=user("describe a pet"),
                                           response_format={"type": "json_object"})
    assert json.loads(reply.choices[0].message.content) == {"echo": "describe a pet"}
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_strict_json_schema_output_is_valid_against_the_schema(client, model):
    reply = client.chat.completions.create(model=model, messages=user("describe a pet"),
                                           response_format=pet_format())
    value = json.loads(reply.choices[0].message.content)
    jsonschema.validate(value, PET_SCHEMA)
    assert value == PET
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_parse_with_a_pydantic_model(client, model):
    reply = client.chat.completions.parse(model=model, messages=user("a pet"), response_format=Pet)
    message = reply.choices[0].message
    assert isinstance(message.parsed, Pet)
    assert message.parsed == Pet(**PET)
    assert json.loads(message.content) == PET


@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_parse_with_nested_models_resolves_defs(client, model):
    reply = client.chat.completions.parse(model=model, messages=user("a person"), response_format=Person)
    address = Address(street="text", zip=1)
    assert reply.choices[0].message.parsed == Person(name="text", home=address, previous=[address],
                                                     nickname="text")


@pytest.mark.parametrize("response_format", [{"type": "json_object"}, pet_format(), pet_format(strict=False)],
                         ids=["json_object", "strict", "not-strict"])
@pytest.mark.parametrize("model", FAMILIES)
def test_streamed_json_reassembles_to_the_whole_reply(client, model, response_format):
    messages = user("describe a pet")
    whole = client.chat.completions.create(model=model, messages=messages, response_format=response_format)
    chunks = list(client.chat.completions.create(model=model, messages=messages, response_format=response_format,
                                                 stream=True))
    text = content_of(chunks)
    assert text == whole.choices[0].message.content
    expected = {"echo": "describe a pet"} if response_format["type"] == "json_object" else PET
    assert json.loads(text) == expected
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]


@pytest.mark.parametrize("model", FAMILIES)
def test_sdk_stream_helper_with_a_pydantic_model(client, model):
    with client.chat.completions.stream(model=model, messages=user("a pet"), response_format=Pet) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    done = [e for e in events if e.type == "content.done"]
    assert len(done) == 1 and done[0].parsed == Pet(**PET)
    assert "".join(e.delta for e in events if e.type == "content.delta") == done[0].content
    assert final.choices[0].message.parsed == Pet(**PET)
    assert final.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", [NATIVE, LLAMA4, OPENAI_SHAPED, CHOICES])
def test_output_breaking_a_strict_schema_is_502(client, model, stream):
    # Native models return valid JSON that lacks the required properties; OpenAI-shaped ones return
    # JSON cut short. Either way the check runs before the first byte, so streams fail as HTTP 502.
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=model, messages=user("[[badjson]] describe a pet"),
                                       response_format=pet_format(), stream=stream)
    assert failed.value.status_code == 502
    assert (failed.value.body["type"], failed.value.body["code"]) == ("server_error", "invalid_model_output")
    assert failed.value.body["param"] is None


@pytest.mark.parametrize("model", [OPENAI_SHAPED, CHOICES])
def test_invalid_json_for_json_object_is_502(client, model):
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=model, messages=user("[[badjson]] anything"),
                                       response_format={"type": "json_object"})
    assert failed.value.status_code == 502
    assert failed.value.code == "invalid_model_output"
    assert "invalid JSON" in failed.value.body["message"]


def test_parse_surfaces_the_502(client):
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.parse(model=OPENAI_SHAPED, messages=user("[[badjson]] a pet"), response_format=Pet)
    assert (failed.value.status_code, failed.value.code) == (502, "invalid_model_output")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("response_format", [{"type": "json_object"}, pet_format()], ids=["json_object", "schema"])
def test_model_without_json_mode_is_refused(client, response_format, stream):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="@cf/ibm-granite/granite-4.0-h-micro", messages=user("hi"),
                                       response_format=response_format, stream=stream)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("response_format", "unsupported_parameter")


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"a": {"type": "no-such-type"}}},
    {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
    {"$ref": "http://127.0.0.1:9/remote.json"},  # never fetched
], ids=["unknown-type", "dangling-ref", "remote-ref"])
def test_broken_schema_is_the_callers_400(client, schema):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("hi"), response_format={
            "type": "json_schema", "json_schema": {"name": "broken", "schema": schema, "strict": True}})
    assert (refused.value.body["param"], refused.value.body["code"]) == (
        "response_format.json_schema.schema", "invalid_value")
