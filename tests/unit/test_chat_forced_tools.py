"""Forced tool calls (tool_choice "required" or a named function): asked for in JSON mode on models
that have it and turned into the call; checked on the others; arguments validated; one retry; and
never a "tool_calls" finish without calls."""
import json

import fastjsonschema
import pytest

from unit.support import (DONE, LLAMA, USER, by_choice, choices_result, create_chat, drain, error, flat_call,
                          model_inputs, native, native_tools, oai_stream, run, stream_chat, tool, usage)

GLM = "@cf/zai-org/glm-4.7-flash"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # function calling, no JSON mode

WEATHER = tool("get_weather", "Current weather", city={"type": "string"})
TIME = tool("get_time", zone={"type": "string", "enum": ["UTC", "CET"]})
NAMED_TIME = {"type": "function", "function": {"name": "get_time"}}
STRICT_TIME = {"type": "function", "function": {**TIME["function"], "strict": True}}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def inputs_of(deps, call=0) -> dict:
    return deps.ai.calls[call][1]


def calls_of(response) -> list:
    message = response.body["choices"][0]["message"]
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message["tool_calls"]]


def assert_called(response, *calls):
    assert response.status == 200, response.body
    choice = response.body["choices"][0]
    assert (choice["finish_reason"], choice["message"]["content"]) == ("tool_calls", None)
    assert calls_of(response) == list(calls)


# --- JSON mode: what the model is asked ------------------------------------------------------------

def test_a_named_tool_on_a_native_model_is_asked_for_as_its_arguments_in_json_mode(deps):
    response = create_chat(deps, native({"zone": "UTC"}), tools=[WEATHER, TIME], tool_choice=NAMED_TIME)
    assert_called(response, ("get_time", {"zone": "UTC"}))
    inputs = model_inputs(deps)
    assert not {"tools", "tool_choice", "stream"} & inputs.keys()
    assert inputs["response_format"] == {"type": "json_schema", "json_schema": TIME["function"]["parameters"]}
    system, user = inputs["messages"]
    assert (system["role"], user) == ("system", USER)
    assert system["content"].startswith("Call the function `get_time`. Answer with only its arguments")
    assert '"enum":["UTC","CET"]' in system["content"]  # the model is told what it fills in


def test_an_openai_shaped_model_gets_the_schema_in_openais_envelope(deps):
    response = create_chat(deps, choices_result('{"zone": "CET"}'), model=GLM, tools=[WEATHER, STRICT_TIME],
                           tool_choice=NAMED_TIME)
    assert_called(response, ("get_time", {"zone": "CET"}))
    assert model_inputs(deps)["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "get_time", "schema": TIME["function"]["parameters"], "strict": True}}
    assert not {"tools", "tool_choice"} & model_inputs(deps).keys()


def test_required_with_one_tool_is_the_same_as_naming_it(deps):
    assert_called(create_chat(deps, native({"city": "Paris"}), tools=[WEATHER], tool_choice="required"),
                  ("get_weather", {"city": "Paris"}))
    assert model_inputs(deps)["response_format"]["json_schema"] == WEATHER["function"]["parameters"]


def test_required_with_several_tools_asks_for_one_of_name_and_arguments(deps):
    answer = native({"name": "get_time", "arguments": {"zone": "UTC"}})
    assert_called(create_chat(deps, answer, tools=[WEATHER, TIME], tool_choice="required"),
                  ("get_time", {"zone": "UTC"}))
    schema = model_inputs(deps)["response_format"]["json_schema"]
    assert [branch["properties"]["name"] for branch in schema["anyOf"]] == [{"const": "get_weather"},
                                                                            {"const": "get_time"}]
    check = fastjsonschema.compile(schema)
    check({"name": "get_weather", "arguments": {"city": "Paris"}})
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        check({"name": "get_time", "arguments": {"zone": "Mars"}})


def test_local_refs_of_several_tools_follow_them_into_the_combined_schema(deps):
    with_refs = tool("book", trip={"$ref": "#/$defs/Trip"})
    with_refs["function"]["parameters"]["$defs"] = {"Trip": {"type": "object", "required": ["to"],
                                                             "properties": {"to": {"type": "string"}}}}
    create_chat(deps, native({"name": "book", "arguments": {"trip": {"to": "Oslo"}}}), tools=[WEATHER, with_refs],
                tool_choice="required")
    schema = model_inputs(deps)["response_format"]["json_schema"]
    assert schema["anyOf"][1]["properties"]["arguments"]["properties"]["trip"] == {
        "$ref": "#/anyOf/1/properties/arguments/$defs/Trip"}
    check = fastjsonschema.compile(schema)
    check({"name": "book", "arguments": {"trip": {"to": "Oslo"}}})
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        check({"name": "book", "arguments": {"trip": {}}})


def test_the_callers_system_message_is_extended_not_doubled(deps):
    messages = [{"role": "system", "content": "Be brief."}, USER]
    create_chat(deps, native({"zone": "UTC"}), tools=[TIME], tool_choice="required", messages=messages)
    system, user = model_inputs(deps)["messages"]
    assert system["content"].startswith("Be brief.\n\nCall the function `get_time`.") and user == USER


def test_a_real_call_is_accepted_too(deps):
    response = create_chat(deps, native_tools([flat_call("get_time", {"zone": "UTC"})]), tools=[TIME],
                           tool_choice="required")
    assert_called(response, ("get_time", {"zone": "UTC"}))


# --- checks and the one retry ------------------------------------------------------------------------

@pytest.mark.parametrize("bad,code", [
    (native("Sure, it is noon."), "tool_call_missing"),  # prose
    (native({"tool": "get_time"}), "tool_call_missing"),  # required: names no tool
    (native({"name": "get_date", "arguments": {}}), "tool_call_missing"),  # not an allowed tool
    (native({"name": "get_time", "arguments": [1]}), "invalid_tool_arguments"),  # not an object
], ids=["prose", "no-name", "other-tool", "array-arguments"])
def test_a_bad_answer_is_asked_for_once_more(deps, bad, code):
    good = native({"name": "get_time", "arguments": {"zone": "UTC"}}, 10, 5)
    response = create_chat(deps, bad, good, tools=[WEATHER, TIME], tool_choice="required")
    assert_called(response, ("get_time", {"zone": "UTC"}))
    assert inputs_of(deps, 0) == inputs_of(deps, 1)
    assert response.body["usage"] == usage(20, 8)  # both attempts were generated, and are paid for


def test_twice_bad_is_a_502(deps):
    response = create_chat(deps, native("No."), native("Still no."), tools=[WEATHER, TIME], tool_choice="required")
    assert (response.status, response.body) == (502, error(
        f"{LLAMA} answered with text that is not JSON instead of calling a tool, also when asked again.",
        code="tool_call_missing", type="server_error"))
    run(drain(deps))
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [(20, 6)]


def test_strict_arguments_are_validated_against_the_schema(deps):
    off_schema = choices_result('{"zone": "Mars"}', model=GLM)
    response = create_chat(deps, off_schema, off_schema, model=GLM, tools=[STRICT_TIME], tool_choice="required")
    assert (response.status, response.body["error"]["code"]) == (502, "invalid_tool_arguments")
    assert response.body["error"]["message"].startswith(
        f"{GLM} called 'get_time' with arguments that do not match its schema: ")


def test_non_strict_arguments_need_only_be_an_object(deps):
    response = create_chat(deps, choices_result('{"zone": "Mars"}', model=GLM), model=GLM, tools=[TIME],
                           tool_choice="required")
    assert_called(response, ("get_time", {"zone": "Mars"}))


def test_a_strict_tool_with_a_broken_schema_is_the_callers_400(deps):
    broken = {"type": "function", "function": {"name": "f", "strict": True,
                                               "parameters": {"type": "object", "pattern": "("}}}
    response = create_chat(deps, tools=[WEATHER, broken], tool_choice="auto")
    assert (response.status, response.body["error"]["param"]) == (400, "tools[1].function.parameters")
    assert deps.ai.calls == []


def test_a_call_cut_at_max_tokens_is_a_length_finish_without_the_unfinished_document(deps):
    cut = choices_result('{"zone": "U', "length", model=GLM)
    response = create_chat(deps, cut, model=GLM, tools=[TIME], tool_choice="required", max_tokens=3)
    choice = response.body["choices"][0]
    assert (choice["finish_reason"], choice["message"]["content"], "tool_calls" in choice["message"]) == (
        "length", None, False)
    assert len(deps.ai.calls) == 1  # more of the same would be cut again


# --- models without JSON mode: their own calls, checked and retried -----------------------------------

def test_a_model_without_json_mode_gets_the_tools_and_is_checked(deps):
    response = create_chat(deps, native("I would rather chat."), native_tools([flat_call("get_time", {})]),
                           model=MISTRAL, tools=[WEATHER, TIME], tool_choice=NAMED_TIME)
    assert_called(response, ("get_time", {}))
    assert [t["function"]["name"] for t in inputs_of(deps)["tools"]] == ["get_time"]
    assert "response_format" not in inputs_of(deps)


@pytest.mark.parametrize("answer", [native("No."), native_tools([flat_call("get_weather", {})])],
                         ids=["prose", "other-tool"])
def test_a_model_without_json_mode_that_never_calls_is_a_502(deps, answer):
    response = create_chat(deps, answer, answer, model=MISTRAL, tools=[WEATHER, TIME], tool_choice=NAMED_TIME)
    assert (response.status, response.body["error"]["code"]) == (502, "tool_call_missing")
    assert response.body["error"]["message"].endswith(", also when asked again.")
    assert len(deps.ai.calls) == 2


def test_a_call_written_as_json_text_becomes_the_call(deps):
    leaked = native('{"name": "get_time", "parameters": {"zone": "UTC"}}')
    response = create_chat(deps, leaked, model=MISTRAL, tools=[WEATHER, TIME], tool_choice="required")
    assert_called(response, ("get_time", {"zone": "UTC"}))


# --- streamed: played back from the checked whole result ---------------------------------------------

def test_a_streamed_forced_call_is_generated_whole_and_streamed_as_openai_streams_calls(deps):
    parsed = stream_chat(deps, choices_result('{"zone": "UTC"}', model=GLM), model=GLM, tools=[WEATHER, TIME],
                         tool_choice=NAMED_TIME)
    assert "stream" not in model_inputs(deps)
    [choices] = by_choice(parsed).values()
    assert choices[0]["delta"] == {"role": "assistant", "content": None}
    entries = [entry for c in choices for entry in c["delta"].get("tool_calls", [])]
    assert entries == [{"index": 0, "id": "call_0003", "type": "function",
                        "function": {"name": "get_time", "arguments": ""}},
                       {"index": 0, "function": {"arguments": '{"zone":"UTC"}'}}]
    assert (choices[-1]["finish_reason"], parsed[-1]) == ("tool_calls", DONE)


def test_a_missing_forced_call_fails_before_the_stream_starts(deps):
    response = create_chat(deps, native("No."), native("No."), tools=[WEATHER, TIME], tool_choice="required",
                           stream=True)
    assert (response.status, response.body["error"]["code"]) == (502, "tool_call_missing")


# --- never "tool_calls" without calls ------------------------------------------------------------------

def test_a_tool_calls_finish_without_calls_is_a_stop(deps):
    response = create_chat(deps, choices_result("Done.", "tool_calls", model=GLM), model=GLM, tools=[TIME])
    assert response.body["choices"][0]["finish_reason"] == "stop"


def test_a_streamed_tool_calls_finish_without_calls_is_a_stop(deps):
    parsed = stream_chat(deps, oai_stream(["Done."], "tool_calls"), model=GLM, tools=[TIME])
    assert by_choice(parsed)[0][-1]["finish_reason"] == "stop"


def test_the_model_inputs_of_a_forced_call_never_hold_tools_and_json_mode_together(deps):
    create_chat(deps, choices_result('{"zone": "UTC"}', model=GLM), model=GLM, tools=[TIME],
                tool_choice="required", response_format={"type": "json_object"})
    assert "tools" not in model_inputs(deps)
    assert model_inputs(deps)["response_format"]["json_schema"]["name"] == "get_time"
