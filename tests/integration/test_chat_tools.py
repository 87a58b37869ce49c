"""Function calling through the official SDK, per model family: tool calls whole and streamed
(reassembled by hand and by the SDK's stream helper), parallel calls, the multi-turn round trip and
tool_choice none/auto (forced calls: test_chat_forced_tools.py).

The AI stand-in calls the first tool on [[call]] (the named ones on [[call:A,B]]) with arguments it
generates from the tool's JSON Schema (every property; strings "text", integers 1, the first enum
value, booleans true), and answers a trailing tool message with "Tool said: <content>"."""
import json
import re

import openai
import pytest
from pydantic import BaseModel

NATIVE = "gpt-4o"  # llama-3.3: flat calls, arguments as an object, no ids
LLAMA4 = "gpt-4.1"  # llama-4 scout: {id, function}, ids of 9 alphanumerics it checks on the way back
OPENAI_SHAPED = "@cf/zai-org/glm-4.7-flash"  # OpenAI's own shape; enforces a named tool_choice
CHOICES = "@cf/qwen/qwen3-30b-a3b-fp8"  # native input, OpenAI-shaped output
FAMILIES = [NATIVE, LLAMA4, OPENAI_SHAPED, CHOICES]
# Families whose calls carry the model's own ids, the same for the same request streamed or not.
MODEL_IDS = [LLAMA4, OPENAI_SHAPED, CHOICES]
CALL_ID = re.compile(r"^call_[A-Za-z0-9]{9}$")

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather forecast for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"},
        "units": {"type": "string", "enum": ["metric", "imperial"]}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The time in a zone.",
    "parameters": {"type": "object", "properties": {
        "tz": {"type": "string", "enum": ["UTC", "CET"]}, "precise": {"type": "boolean"}}}}}
TOOLS = [WEATHER, TIME]
WEATHER_ARGS = {"city": "text", "days": 1, "units": "metric"}
TIME_ARGS = {"tz": "UTC", "precise": True}


class GetWeather(BaseModel):
    city: str
    days: int


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def calls_of(tool_calls) -> list:
    """(name, decoded arguments) of each call, in order."""
    return [(call.function.name, json.loads(call.function.arguments)) for call in tool_calls]


def assert_call_shape(call) -> None:
    assert CALL_ID.match(call.id), call.id
    assert call.type == "function"
    assert isinstance(call.function.arguments, str)


# --- whole replies -------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_call_marker_gives_a_tool_call(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[call]] weather in Paris?"), tools=TOOLS)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.role == "assistant"
    assert len(choice.message.tool_calls) == 1
    assert_call_shape(choice.message.tool_calls[0])
    assert calls_of(choice.message.tool_calls) == [("get_weather", WEATHER_ARGS)]


@pytest.mark.parametrize("model", FAMILIES)
def test_parallel_calls(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[call:get_weather,get_time]] both"),
                                           tools=TOOLS)
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert calls_of(message.tool_calls) == [("get_weather", WEATHER_ARGS), ("get_time", TIME_ARGS)]
    for call in message.tool_calls:
        assert_call_shape(call)
    assert message.tool_calls[0].id != message.tool_calls[1].id


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", FAMILIES)
def test_parallel_tool_calls_false_gives_one_call(client, model, stream):
    # Only OpenAI-shaped models take parallel_tool_calls; the native schemas lack it and their
    # models call what they like, so for them the worker itself must keep the first call only.
    params = dict(model=model, messages=user("[[call:get_weather,get_time]] both"), tools=TOOLS,
                  parallel_tool_calls=False)
    if stream:
        with client.chat.completions.stream(**params) as events:
            message = events.get_final_completion().choices[0].message
    else:
        message = client.chat.completions.create(**params).choices[0].message
    assert calls_of(message.tool_calls) == [("get_weather", WEATHER_ARGS)]


# --- the round trip ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_tool_result_round_trip(client, model):
    messages = user("[[call]] weather in Paris?")
    first = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    assistant = first.choices[0].message
    messages += [assistant,  # the SDK object itself, as the OpenAI docs append it
                 {"role": "tool", "tool_call_id": assistant.tool_calls[0].id, "content": "sunny, 21 C"}]
    answer = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    assert answer.choices[0].message.content == "Tool said: sunny, 21 C"
    assert answer.choices[0].message.tool_calls is None
    assert answer.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", FAMILIES)
def test_parallel_round_trip_answers_every_call(client, model):
    # llama-4 and the OpenAI-shaped models refuse a tool_call_id that is not one of the assistant's
    # calls, so both ids must survive the trip (llama-4's as its own 9 characters).
    messages = user("[[call:get_weather,get_time]] both")
    first = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    weather, time = first.choices[0].message.tool_calls
    messages += [first.choices[0].message,
                 {"role": "tool", "tool_call_id": weather.id, "content": "rain"},
                 {"role": "tool", "tool_call_id": time.id, "content": "09:00"}]
    answer = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
    assert answer.choices[0].message.content == "Tool said: 09:00"


# --- streamed calls ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_streamed_calls_reassembled_by_hand_match_the_whole_reply(client, model):
    messages = user("[[call:get_weather,get_time]] both")
    whole = client.chat.completions.create(model=model, messages=messages, tools=TOOLS).choices[0].message
    chunks = list(client.chat.completions.create(model=model, messages=messages, tools=TOOLS, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    calls = {}
    for chunk in chunks:
        assert not chunk.choices[0].delta.content
        for delta in chunk.choices[0].delta.tool_calls or []:
            if delta.index not in calls:  # the first delta of a call: its id, type and name
                assert delta.type == "function" and delta.function.name and CALL_ID.match(delta.id)
                calls[delta.index] = {"id": delta.id, "name": delta.function.name,
                                      "arguments": delta.function.arguments or ""}
            else:  # later ones: argument fragments only
                assert (delta.id, delta.type, delta.function.name) == (None, None, None)
                calls[delta.index]["arguments"] += delta.function.arguments
    assert sorted(calls) == [0, 1]
    assert [(calls[i]["name"], json.loads(calls[i]["arguments"])) for i in (0, 1)] == calls_of(whole.tool_calls)
    if model in MODEL_IDS:
        assert [calls[i]["id"] for i in (0, 1)] == [call.id for call in whole.tool_calls]
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["tool_calls"]


@pytest.mark.parametrize("model", FAMILIES)
def test_sdk_stream_helper_assembles_the_calls(client, model):
    messages = user("[[call:get_weather,get_time]] both")
    whole = client.chat.completions.create(model=model, messages=messages, tools=TOOLS).choices[0].message
    with client.chat.completions.stream(model=model, messages=messages, tools=TOOLS) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.index, e.name, json.loads(e.arguments)) for e in done] == [
        (0, "get_weather", WEATHER_ARGS), (1, "get_time", TIME_ARGS)]
    for event in done:
        fragments = [e.arguments_delta for e in events
                     if e.type == "tool_calls.function.arguments.delta" and e.index == event.index]
        assert "".join(fragments) == event.arguments
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert calls_of(choice.message.tool_calls) == calls_of(whole.tool_calls)
    if model in MODEL_IDS:
        assert [c.id for c in choice.message.tool_calls] == [c.id for c in whole.tool_calls]


@pytest.mark.parametrize("model", FAMILIES)
def test_pydantic_function_tool_arguments_are_parsed(client, model):
    tools = [openai.pydantic_function_tool(GetWeather)]
    reply = client.chat.completions.parse(model=model, messages=user("[[call]] weather"), tools=tools)
    call = reply.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.parsed_arguments) == ("GetWeather", GetWeather(city="text", days=1))
    with client.chat.completions.stream(model=model, messages=user("[[call]] weather"), tools=tools) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
    assert [e.parsed_arguments for e in done] == [GetWeather(city="text", days=1)]


# --- tool_choice ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model", FAMILIES)
def test_tool_choice_none_answers_in_text(client, model):
    # The marker would call a tool, but with tool_choice "none" the model is not shown any.
    reply = client.chat.completions.create(model=model, messages=user("[[call]] just chat"), tools=TOOLS,
                                           tool_choice="none")
    message = reply.choices[0].message
    assert (message.content, message.tool_calls) == ("Echo: just chat", None)
    assert reply.choices[0].finish_reason == "stop"


def test_model_without_tools_refuses_tools_and_tool_history(client):
    model = "@cf/qwen/qwq-32b"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=user("[[call]] hi"), tools=TOOLS, tool_choice="auto")
    assert (refused.value.body["param"], refused.value.body["code"]) == ("tools", "unsupported_parameter")
    history = user("hi") + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_abc", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "09:00"}]
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=history)
    assert (refused.value.body["param"], refused.value.body["code"]) == ("messages[1]", "unsupported_parameter")
