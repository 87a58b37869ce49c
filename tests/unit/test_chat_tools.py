"""Chat completions with tools: tools and tool_choice as each model family takes them, tool calls
in responses and streams (from every upstream shape), multi-turn tool ids. Forced calls:
test_chat_forced_tools.py."""
import json
import re

import pytest

from api.generation.messages import model_tool_id
from unit.support import (DONE, USER, by_choice, choices_result, create_chat, drain, error, flat_call,
                          llama4_call, model_inputs, native, native_tools, oai_call, oai_chunks, oai_tool_deltas,
                          resplit, run, sse, stream_chat, tool, usage)

GLM = "@cf/zai-org/glm-4.7-flash"
LLAMA4 = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
QWQ = "@cf/qwen/qwq-32b"  # no function calling

WEATHER = tool("get_weather", "Current weather", city={"type": "string"})
TIME = tool("get_time", zone={"type": "string", "description": "IANA zone"})
NAMED_TIME = {"type": "function", "function": {"name": "get_time"}}
PARIS = {"city": "Paris"}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def oai_tool_result(*calls, content=None, model=GLM):
    return choices_result(content, "tool_calls", 10, 8, model=model, tool_calls=list(calls))


def wired_call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


# --- tools as the model takes them ----------------------------------------------------------------

def test_native_models_get_descriptions_on_functions_and_properties(deps):
    create_chat(deps, tools=[WEATHER, TIME])
    assert model_inputs(deps)["tools"] == [
        {"type": "function", "function": {
            "name": "get_weather", "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"description": "city", "type": "string"}},
                           "required": ["city"]}}},
        {"type": "function", "function": {
            "name": "get_time", "description": "get_time",
            "parameters": {"type": "object", "properties": {"zone": {"description": "IANA zone", "type": "string"}},
                           "required": ["zone"]}}}]
    assert "tool_choice" not in model_inputs(deps)


def test_openai_shaped_models_get_the_tools_as_sent(deps):
    strict = {"type": "function", "function": {**WEATHER["function"], "strict": True}}
    create_chat(deps, model=GLM, tools=[strict, TIME])
    assert model_inputs(deps)["tools"] == [
        {"type": "function", "function": {**WEATHER["function"], "strict": True}},
        {"type": "function", "function": {**TIME["function"], "description": "get_time"}}]
    assert "tool_choice" not in model_inputs(deps)


def test_a_function_without_parameters_gets_an_empty_object_schema(deps):
    create_chat(deps, tools=[{"type": "function", "function": {"name": "ping"}}])
    assert model_inputs(deps)["tools"] == [{"type": "function", "function": {
        "name": "ping", "description": "ping", "parameters": {"type": "object", "properties": {}}}}]


@pytest.mark.parametrize("model", ["gpt-4o", GLM])
def test_tool_choice_none_sends_no_tools(deps, model):
    create_chat(deps, model=model, tools=[WEATHER], tool_choice="none")
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & model_inputs(deps).keys()


@pytest.mark.parametrize("model", ["gpt-4o", GLM])
def test_tool_choice_auto_sends_the_tools_without_a_choice(deps, model):
    create_chat(deps, model=model, tools=[WEATHER, TIME], tool_choice="auto")
    inputs = model_inputs(deps)
    assert ([t["function"]["name"] for t in inputs["tools"]], "tool_choice" in inputs) == (
        ["get_weather", "get_time"], False)


@pytest.mark.parametrize("model", ["gpt-4o", GLM])
def test_tool_choice_naming_an_unknown_tool(deps, model):
    response = create_chat(deps, model=model, tools=[WEATHER],
                           tool_choice={"type": "function", "function": {"name": "nope"}})
    assert (response.status, response.body) == (400, error(
        "'tool_choice' names 'nope', which is not in 'tools'.", "tool_choice"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("tools", [None, []])
@pytest.mark.parametrize("tool_choice", ["required", NAMED_TIME])
def test_tool_choice_needs_tools(deps, tools, tool_choice):
    response = create_chat(deps, tool_choice=tool_choice, **({} if tools is None else {"tools": tools}))
    assert (response.status, response.body) == (400, error("'tool_choice' needs 'tools'.", "tool_choice"))
    assert deps.ai.calls == []


@pytest.mark.parametrize("tool_choice", [None, "auto", "required"])
def test_tools_on_a_model_without_function_calling(deps, tool_choice):
    response = create_chat(deps, model=QWQ, tools=[WEATHER], **({"tool_choice": tool_choice} if tool_choice else {}))
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'tools' cannot be used with {QWQ}, which has no function calling.", "tools",
        "unsupported_parameter"))
    assert deps.ai.calls == []


def test_parallel_tool_calls_false_is_forwarded_where_the_schema_has_it(deps):
    create_chat(deps, model=GLM, tools=[WEATHER], parallel_tool_calls=False)
    assert model_inputs(deps)["parallel_tool_calls"] is False


def test_parallel_tool_calls_false_is_enforced_on_native_models(deps):
    answer = native_tools([{"name": "get_weather", "arguments": {}}, {"name": "get_time", "arguments": {}}])
    response = create_chat(deps, answer, model="gpt-4o", tools=[WEATHER, TIME], parallel_tool_calls=False)
    assert "parallel_tool_calls" not in model_inputs(deps)  # native schemas have no such field
    assert [c["function"]["name"] for c in response.body["choices"][0]["message"]["tool_calls"]] == ["get_weather"]


def test_parallel_tool_calls_true_is_the_default_and_not_sent(deps):
    create_chat(deps, model=GLM, tools=[WEATHER], parallel_tool_calls=True)
    assert "parallel_tool_calls" not in model_inputs(deps)


@pytest.mark.parametrize("name", ["", "has space", "a" * 65, "dot.name"])
def test_function_names_are_validated(deps, name):
    response = create_chat(deps, tools=[tool(name)])
    assert (response.status, response.body["error"]["param"]) == (400, "tools[0].function.name")


# --- tool calls in responses ----------------------------------------------------------------------

@pytest.mark.parametrize("model,answer,calls", [
    ("gpt-4o", native_tools([flat_call("get_weather", PARIS)]),
     [wired_call("call_0003", "get_weather", '{"city":"Paris"}')]),
    ("gpt-4o", native_tools([flat_call("get_weather", PARIS), flat_call("get_time", {})], response=None),
     [wired_call("call_0003", "get_weather", '{"city":"Paris"}'), wired_call("call_0004", "get_time", "{}")]),
    (LLAMA4, native_tools([llama4_call("Ab3dE6gH9", "get_weather", PARIS)]),
     [wired_call("call_Ab3dE6gH9", "get_weather", '{"city":"Paris"}')]),
    (GLM, oai_tool_result(oai_call("call_9f8e7d6c5b4a", "get_weather", '{"city": "Paris"}')),
     [wired_call("call_9f8e7d6c5b4a", "get_weather", '{"city": "Paris"}')]),
], ids=["native-flat", "native-two-calls", "llama-4", "openai-shaped"])
def test_tool_calls_in_the_response(deps, model, answer, calls):
    response = create_chat(deps, answer, model=model, tools=[WEATHER, TIME])
    assert response.body["choices"] == [{"index": 0, "logprobs": None, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "refusal": None, "tool_calls": calls}}]


def test_text_next_to_tool_calls_is_kept(deps):
    answer = oai_tool_result(oai_call("call_1", "get_weather", "{}"), content="Let me check.")
    message = create_chat(deps, answer, model=GLM, tools=[WEATHER]).body["choices"][0]["message"]
    assert (message["content"], len(message["tool_calls"])) == ("Let me check.", 1)


def test_a_tool_call_without_a_name_is_an_upstream_error(deps):
    response = create_chat(deps, native_tools([{"arguments": {}}]), tools=[WEATHER])
    assert (response.status, response.body["error"]["type"]) == (502, "server_error")


# --- multi-turn: tool calls and results sent back -------------------------------------------------

OURS, FOREIGN, OTHER = "call_Ab3dE6gH9", "call_2b9a1c7d4e5f60718293a4b5", "toolu_01A09q90qw90lq917835lq9"


def conversation(*ids):
    calls = [{"id": i, "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
             for i in ids]
    return [USER, {"role": "assistant", "content": None, "tool_calls": calls},
            *({"role": "tool", "tool_call_id": i, "content": "18°C"} for i in ids)]


def model_ids(inputs):
    """(ids in the assistant's tool_calls, ids in the tool messages) as sent to the model."""
    assistant, *results = inputs["messages"][1:]
    return [c["id"] for c in assistant["tool_calls"]], [r["tool_call_id"] for r in results]


@pytest.mark.parametrize("model", [LLAMA4, MISTRAL])
def test_short_id_models_get_nine_alphanumerics(deps, model):
    create_chat(deps, native("It is 18°C."), model=model, tools=[WEATHER], messages=conversation(OURS, FOREIGN, OTHER))
    calls, results = model_ids(model_inputs(deps))
    assert calls == results
    assert calls[0] == "Ab3dE6gH9"  # our own call_<9> ids map back exactly
    assert all(re.fullmatch(r"[a-zA-Z0-9]{9}", i) for i in calls) and len(set(calls)) == 3
    assert calls[1:] == [model_tool_id(FOREIGN), model_tool_id(OTHER)]  # the same every time


@pytest.mark.parametrize("model", [GLM, "gpt-4o"])
def test_other_models_get_the_ids_unchanged(deps, model):
    create_chat(deps, model=model, tools=[WEATHER], messages=conversation(OURS, FOREIGN, OTHER))
    assert model_ids(model_inputs(deps)) == ([OURS, FOREIGN, OTHER], [OURS, FOREIGN, OTHER])


def test_tool_turns_are_converted(deps):
    create_chat(deps, native("It is 18°C."), model=LLAMA4, tools=[WEATHER], messages=conversation(OURS))
    assert model_inputs(deps)["messages"] == [
        USER,
        {"role": "assistant", "content": "", "tool_calls": [  # never null content: models reject it
            oai_call("Ab3dE6gH9", "get_weather", '{"city":"Paris"}')]},
        {"role": "tool", "content": "18°C", "tool_call_id": "Ab3dE6gH9"}]


def test_a_round_trip_through_a_short_id_model(deps):
    first = create_chat(deps, native_tools([llama4_call("Zz9Yy8Xx7", "get_weather", PARIS)]), model=LLAMA4,
                        tools=[WEATHER])
    call = first.body["choices"][0]["message"]["tool_calls"][0]
    result = {"role": "tool", "tool_call_id": call["id"], "content": "18°C"}
    history = [USER, first.body["choices"][0]["message"], result]
    create_chat(deps, native("It is 18°C."), model=LLAMA4, tools=[WEATHER], messages=history)
    assert model_ids(deps.ai.calls[1][1]) == (["Zz9Yy8Xx7"], ["Zz9Yy8Xx7"])


def test_tool_messages_on_a_model_without_function_calling(deps):
    response = create_chat(deps, model=QWQ, messages=conversation(OURS))
    assert (response.status, response.body) == (400, error(
        f"Unsupported parameter: 'messages[1]' uses tool calling, which {QWQ} does not support.", "messages[1]",
        "unsupported_parameter"))


def test_a_tool_message_needs_its_tool_call_id(deps):
    response = create_chat(deps, tools=[WEATHER], messages=[USER, {"role": "tool", "content": "18°C"}])
    assert (response.status, response.body) == (400, error(
        "Missing required parameter: 'messages[1].tool_call_id'.", "messages[1].tool_call_id",
        "missing_required_parameter"))


# --- streamed tool calls --------------------------------------------------------------------------

def tool_call_entries(parsed):
    """Every delta.tool_calls entry we streamed, in order, and the finish reason."""
    [choices] = by_choice(parsed).values()
    entries = [entry for c in choices for entry in c["delta"].get("tool_calls", [])]
    return entries, choices[-1]["finish_reason"]


OAI_TWO_CALLS = oai_chunks(
    oai_tool_deltas(0, "call_up1", "get_weather", ['{"ci', 'ty": "Pa', 'ris"}'])
    + oai_tool_deltas(1, "call_up2", "get_time", ["{}"]), "tool_calls", completion=9)
EXPECTED_ENTRIES = [
    {"index": 0, "id": "call_up1", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    {"index": 0, "function": {"arguments": '{"ci'}}, {"index": 0, "function": {"arguments": 'ty": "Pa'}},
    {"index": 0, "function": {"arguments": 'ris"}'}},
    {"index": 1, "id": "call_up2", "type": "function", "function": {"name": "get_time", "arguments": ""}},
    {"index": 1, "function": {"arguments": "{}"}}]


def test_openai_shaped_tool_call_stream(deps):
    parsed = stream_chat(deps, OAI_TWO_CALLS, model=GLM, tools=[WEATHER, TIME])
    assert tool_call_entries(parsed) == (EXPECTED_ENTRIES, "tool_calls")  # the sentinels are dropped
    assert parsed[-1] == DONE
    assert model_inputs(deps)["stream"] is True


@pytest.mark.parametrize("seed", range(5))
def test_openai_shaped_tool_call_stream_split_anywhere(deps, seed):
    chunks = resplit(OAI_TWO_CALLS, range(seed * 5 + 1, len("".join(OAI_TWO_CALLS)), 29))
    entries, reason = tool_call_entries(stream_chat(deps, chunks, model=GLM, tools=[WEATHER, TIME]))
    assert (entries, reason) == (EXPECTED_ENTRIES, "tool_calls")


def test_a_whole_call_in_one_delta(deps):
    chunks = oai_chunks([{"tool_calls": [{"index": 0, **oai_call("call_up1", "get_weather", '{"city":"Paris"}')}]}],
                        "tool_calls", completion=5)
    assert tool_call_entries(stream_chat(deps, chunks, model=GLM, tools=[WEATHER])) == (
        [{"index": 0, "id": "call_up1", "type": "function",
          "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}], "tool_calls")


@pytest.mark.parametrize("model,call,call_id", [
    ("gpt-4o", flat_call("get_weather", PARIS), "call_0003"),
    (LLAMA4, llama4_call("Ab3dE6gH9", "get_weather", PARIS), "call_Ab3dE6gH9"),
], ids=["native-flat", "llama-4"])
def test_native_tool_call_stream(deps, model, call, call_id):
    events = [sse({"response": "", "tool_calls": [], "p": "abc"}),
              sse({"response": "", "tool_calls": [call], "p": "a"}),
              sse({"response": "", "usage": usage(20, 12)}), sse(DONE)]
    assert tool_call_entries(stream_chat(deps, events, model=model, tools=[WEATHER])) == (
        [{"index": 0, "id": call_id, "type": "function",
          "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}], "tool_calls")


def test_streamed_tool_call_arguments_reassemble_to_json(deps):
    entries, _ = tool_call_entries(stream_chat(deps, OAI_TWO_CALLS, model=GLM, tools=[WEATHER, TIME]))
    arguments = {}
    for entry in entries:
        arguments[entry["index"]] = arguments.get(entry["index"], "") + entry["function"]["arguments"]
    assert {i: json.loads(a) for i, a in arguments.items()} == {0: PARIS, 1: {}}
