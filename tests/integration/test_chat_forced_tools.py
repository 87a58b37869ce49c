"""Forced tool calls through the official SDK: on every model with JSON mode the call is asked for
as a schema-constrained JSON document and comes back as the call, whole and streamed, without any
marker; models without JSON mode are checked and asked twice; invalid arguments are a 502.

The stand-in's JSON mode writes the document a constrained decoder could: every property of the
schema, the first enum value and anyOf branch, strings "text", integers 1, booleans true."""
import json

import openai
import pytest

from api import catalog

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather forecast for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"},
        "units": {"type": "string", "enum": ["metric", "imperial"]}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The time in a zone.", "strict": True,
    "parameters": {"type": "object", "properties": {
        "tz": {"type": "string", "enum": ["UTC", "CET"]}, "precise": {"type": "boolean"}},
        "required": ["tz", "precise"], "additionalProperties": False}}}
TOOLS = [WEATHER, TIME]
WEATHER_ARGS = {"city": "text", "days": 1, "units": "metric"}
TIME_ARGS = {"tz": "UTC", "precise": True}
NAMED_TIME = {"type": "function", "function": {"name": "get_time"}}
JSON_MODE_MODELS = sorted(m.id for m in catalog.MODELS if m.has(catalog.TOOLS) and m.has(catalog.JSON_MODE))
NO_JSON_MODE = "@cf/ibm-granite/granite-4.0-h-micro"  # tools, no JSON mode (mistral: test_usage.py's own)


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def calls_of(message) -> list:
    return [(call.function.name, json.loads(call.function.arguments)) for call in message.tool_calls]


def test_every_tool_and_json_mode_model_is_covered():
    assert len(JSON_MODE_MODELS) >= 10 and NO_JSON_MODE not in JSON_MODE_MODELS


@pytest.mark.parametrize("model", JSON_MODE_MODELS)
@pytest.mark.parametrize("tool_choice,expected", [
    (NAMED_TIME, ("get_time", TIME_ARGS)), ("required", ("get_weather", WEATHER_ARGS))], ids=["named", "required"])
def test_a_forced_call_succeeds_without_a_marker(client, model, tool_choice, expected):
    reply = client.chat.completions.create(model=model, messages=user("what now"), tools=TOOLS,
                                           tool_choice=tool_choice)
    choice = reply.choices[0]
    assert (choice.finish_reason, choice.message.content) == ("tool_calls", None)
    assert calls_of(choice.message) == [expected]
    assert choice.message.tool_calls[0].id.startswith("call_")


@pytest.mark.parametrize("model", ["gpt-4o", "@cf/openai/gpt-oss-120b", "@cf/zai-org/glm-4.7-flash"])
def test_a_streamed_forced_call_arrives_as_openai_streams_calls(client, model):
    chunks = list(client.chat.completions.create(model=model, messages=user("what now"), tools=TOOLS,
                                                 tool_choice=NAMED_TIME, stream=True))
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    assert (deltas[0].id.startswith("call_"), deltas[0].function.name, deltas[0].function.arguments) == (
        True, "get_time", "")
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == TIME_ARGS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    with client.chat.completions.stream(model=model, messages=user("what now"), tools=TOOLS,
                                        tool_choice="required") as stream:
        final = stream.get_final_completion()
    assert calls_of(final.choices[0].message) == [("get_weather", WEATHER_ARGS)]


def test_pydantic_tools_as_instructor_forces_them(client):
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    tool = openai.pydantic_function_tool(Person)
    reply = client.chat.completions.parse(model="gpt-4o-mini", messages=user("Ada, 36"), tools=[tool],
                                          tool_choice={"type": "function", "function": {"name": "Person"}})
    assert reply.choices[0].message.tool_calls[0].function.parsed_arguments == Person(name="text", age=1)


@pytest.mark.parametrize("model,code", [("gpt-4o", "invalid_tool_arguments"),
                                        ("@cf/zai-org/glm-4.7-flash", "tool_call_missing")])
def test_a_document_that_is_not_the_call_is_a_502_after_a_retry(client, model, code):
    # [[badjson]]: native JSON mode drops every property (strict get_time needs two); OpenAI-shaped
    # JSON mode cuts the text short, so it is no JSON at all.
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=model, messages=user("[[badjson]] now"), tools=TOOLS,
                                       tool_choice=NAMED_TIME)
    assert (failed.value.status_code, failed.value.body["code"]) == (502, code)
    assert failed.value.body["message"].endswith("also when asked again.")


@pytest.mark.parametrize("stream", [False, True])
def test_a_model_without_json_mode_that_does_not_call_is_a_502(client, stream):
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=NO_JSON_MODE, messages=user("no marker here"), tools=TOOLS,
                                       tool_choice="required", stream=stream)
    assert (failed.value.status_code, failed.value.body["type"], failed.value.body["code"]) == (
        502, "server_error", "tool_call_missing")


def test_a_model_without_json_mode_that_calls_succeeds(client):
    reply = client.chat.completions.create(model=NO_JSON_MODE, messages=user("[[call:get_time]] now"), tools=TOOLS,
                                           tool_choice="required")
    assert calls_of(reply.choices[0].message) == [("get_time", TIME_ARGS)]
