"""/v1/responses through api.app: input items to model messages, tools and refusals, output items
and the order of typed stream events, storage and chains, conversations, truncation."""
import json

import pytest

from api.responses.generate import fit
from unit.support import (DONE, choices_result, drain, frames, native, native_stream, native_tools, oai_chunks,
                          oai_tool_deltas, post, call, run)

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GLM = "@cf/zai-org/glm-4.7-flash"
WEATHER = {"type": "function", "name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def create(deps, *answers, **body):
    for answer in answers:
        deps.ai.answer(answer)
    return post(deps, "/v1/responses", {"model": "gpt-4o", **body})


def events(response) -> list:
    parsed = []
    for frame in frames(response):
        head, data = frame.split("\n", 1)
        event = json.loads(data[len("data: "):].strip())
        assert head == f"event: {event['type']}" and data != DONE
        parsed.append(event)
    assert [e["sequence_number"] for e in parsed] == list(range(len(parsed)))
    return parsed


def sent_messages(deps, call_index=-1):
    return deps.ai.calls[call_index][1]["messages"]


def test_string_input_and_instructions(deps):
    response = create(deps, native("Hi!", 5, 2), input="Hello", instructions="Be kind.")
    assert response.status == 200 and response.body["output"][0]["content"][0]["text"] == "Hi!"
    assert sent_messages(deps) == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hello"}]
    assert response.body["usage"] == {"input_tokens": 5, "input_tokens_details": {"cached_tokens": 0},
                                      "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0},
                                      "total_tokens": 7}


def test_items_become_the_models_messages(deps):
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
             {"type": "function_call", "call_id": "call_abc", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
             {"type": "function_call_output", "call_id": "call_abc", "output": "snow"},
             {"type": "reasoning", "id": "rs_1", "summary": []}]
    create(deps, choices_result("It snows.", model=GLM), model=GLM, input=items, tools=[WEATHER])
    assert sent_messages(deps) == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_abc", "type": "function", "function": {
            "name": "get_weather", "arguments": '{"city":"Oslo"}'}}]},
        {"role": "tool", "content": "snow", "tool_call_id": "call_abc"}]


@pytest.mark.parametrize("item,param", [
    ({"type": "computer_call", "id": "x"}, "input[0].type"),
    ({"role": "user", "content": [{"type": "input_image"}]}, "input[0].content[0]"),
    ({"role": "wizard", "content": "x"}, "input[0].role"),
    ({"type": "function_call", "call_id": "c", "name": "f"}, "input[0].arguments"),
])
def test_bad_items_name_their_path(deps, item, param):
    response = create(deps, input=[item])
    assert (response.status, response.body["error"]["param"]) == (400, param)


@pytest.mark.parametrize("fields,param", [
    ({"tools": [{"type": "web_search_preview"}]}, "tools[0].type"),
    ({"tools": [{"type": "mcp", "server_label": "x"}]}, "tools[0].type"),
    ({"tools": [{"type": "image_generation"}]}, "tools[0].type"),
    ({"prompt": {"id": "pmpt_1"}}, "prompt"),
    ({"include": ["reasoning.encrypted_content"]}, "include[0]"),
    ({"conversation": "conv_1", "previous_response_id": "resp_1"}, "previous_response_id"),
    ({"reasoning": {"effort": "high"}}, "reasoning.effort"),
    ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
])
def test_what_workers_ai_cannot_do_is_refused_by_name(deps, fields, param):
    response = create(deps, input="x", **fields)
    assert (response.status, response.body["error"]["param"]) == (400, param), response.body


def test_function_calls_are_output_items(deps):
    response = create(deps, native_tools([{"name": "get_weather", "arguments": {"city": "Paris"}}]),
                      input="Weather in Paris?", tools=[WEATHER])
    [item] = response.body["output"]
    assert (item["type"], item["name"], json.loads(item["arguments"]), item["status"]) == (
        "function_call", "get_weather", {"city": "Paris"}, "completed")
    assert item["call_id"].startswith("call_") and item["id"].startswith("fc_")


def test_allowed_tools_narrow_what_the_model_sees(deps):
    other = {**WEATHER, "name": "get_time"}
    create(deps, native("ok"), input="x", tools=[WEATHER, other],
           tool_choice={"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]})
    assert [t["function"]["name"] for t in deps.ai.calls[0][1]["tools"]] == ["get_time"]


def test_stream_event_order_for_reasoning_text_and_calls(deps):
    deltas = [{"reasoning_content": "Hm."}, {"content": "Let me check."},
              *oai_tool_deltas(0, "call_1", "get_weather", ['{"city":', '"Rome"}'])]
    response = create(deps, oai_chunks(deltas, "tool_calls", completion=5), model=GLM, input="x", tools=[WEATHER],
                      stream=True)
    types = [e["type"] for e in events(response)]
    assert types == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added", "response.reasoning_text.delta",
        "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
        "response.output_item.added", "response.content_part.added", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed"]


def test_length_ends_incomplete(deps):
    response = create(deps, native("a b c", 3, 16), input="x", max_output_tokens=16)
    assert (response.body["status"], response.body["incomplete_details"]) == ("incomplete",
                                                                              {"reason": "max_output_tokens"})
    assert response.body["output"][0]["status"] == "incomplete"


def test_a_chain_gives_the_model_every_earlier_item(deps):
    first = create(deps, native_tools([{"name": "get_weather", "arguments": {"city": "Rome"}}]), input="Rome?",
                   tools=[WEATHER]).body
    call_id = first["output"][0]["call_id"]
    second = create(deps, native("Sunny."), previous_response_id=first["id"], tools=[WEATHER],
                    input=[{"type": "function_call_output", "call_id": call_id, "output": "sun"}]).body
    create(deps, native("Bye."), previous_response_id=second["id"], input="Thanks")
    assert [m["role"] for m in sent_messages(deps)] == ["user", "assistant", "tool", "assistant", "user"]
    listed = call(deps, "GET", f"/v1/responses/{second['id']}/input_items").body
    assert [i["type"] for i in listed["data"]] == ["function_call_output"]


def test_store_false_and_other_owners(deps):
    kept = create(deps, native("x"), input="a", store=False).body
    assert call(deps, "GET", f"/v1/responses/{kept['id']}").status == 404


def test_conversations_gather_items(deps):
    conversation = post(deps, "/v1/conversations", {"items": [{"role": "user", "content": "Remember 7."}]}).body
    create(deps, native("Noted."), input="And 8.", conversation=conversation["id"])
    create(deps, native("7 and 8."), input="Which?", conversation=conversation["id"])
    assert [m["content"] for m in sent_messages(deps)] == ["Remember 7.", "And 8.", "Noted.", "Which?"]
    items = call(deps, "GET", f"/v1/conversations/{conversation['id']}/items", query={"order": "asc"}).body["data"]
    assert [i["type"] for i in items] == ["message"] * 5


def test_fit_drops_the_oldest_items_but_not_the_instructions():
    messages = [{"role": "system", "content": "rules"}, {"role": "user", "content": "old " * 50},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "content": "result", "tool_call_id": "c"}, {"role": "user", "content": "new"}]
    assert fit(messages, context=40, reserve=10) == messages[:1] + messages[2:]  # a call keeps its result
    fitted = fit(messages, context=14, reserve=10)
    assert [m["role"] for m in fitted] == ["system", "user"] and fitted[-1]["content"] == "new"


def test_cancel_needs_a_background_response(deps):
    done = create(deps, native("x"), input="a").body
    assert post(deps, f"/v1/responses/{done['id']}/cancel", {}).status == 400


def test_delete_removes_the_response_and_its_items(deps):
    done = create(deps, native("x"), input="a").body
    assert call(deps, "DELETE", f"/v1/responses/{done['id']}").body == {
        "id": done["id"], "object": "response", "deleted": True}
    assert deps.db.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0


def test_stream_usage_is_recorded_once(deps):
    response = create(deps, native_stream(["a ", "b"], 4, 2), input="x", stream=True)
    events(response)
    run(drain(deps))
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent] == [(4, 2)]


def test_verbosity_is_said_to_the_model(deps):
    create(deps, native("ok"), input="Explain", instructions="Be kind.", text={"verbosity": "low"})
    assert sent_messages(deps)[0] == {"role": "system",
                                      "content": "Be kind.\n\nAnswer as briefly as the question allows."}


@pytest.mark.parametrize("fields,param", [
    ({"stream_options": {"include_obfuscation": False}}, "stream_options"),
    ({"stream": True, "stream_options": {"include_obfuscation": True}}, "stream_options.include_obfuscation"),
])
def test_stream_options_are_checked(deps, fields, param):
    response = create(deps, input="x", **fields)
    assert (response.status, response.body["error"]["param"]) == (400, param)
