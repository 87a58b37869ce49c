"""Streamed runs (create, create-and-run, submit_tool_outputs): Assistants events in OpenAI's
order, each valid against OpenAI's schema, followed from the run's event log; and file_search
over the thread's attached files, shown in run steps (result content with `include`) and cited."""
import json

import pytest

from api.assistants.service import CONTENT
from api.errors import workers_ai_error
from openai_spec import check
from unit.assistants_support import (BETA, WEATHER, api, assistant, deliver, listed, ok, retrieve,
                                     second_key_and_deferred_work, stream_events, thread)
from unit.stores_support import embedder, ingest_all, upload
from unit.support import AUTH, frames, native, native_stream, native_tools

assert second_key_and_deferred_work  # the autouse fixture


def checked(events: list) -> list:
    """The event names, each event valid as OpenAI's AssistantStreamEvent (one of its kinds)."""
    for name, data in events:
        check("AssistantStreamEvent", {"event": name, "data": data})
    return [name for name, _ in events]


def test_a_streamed_run_through_tool_outputs(deps):
    body = thread(deps, "Weather in Paris?")
    helper = assistant(deps, tools=[WEATHER])
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": helper["id"], "stream": True})
    deps.ai.answer(native_tools([{"name": "get_weather", "arguments": {"city": "Paris"}}]))
    deliver(deps)
    events = stream_events(response)
    assert checked(events) == [
        "thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
        "thread.run.step.in_progress", "thread.run.step.delta", "thread.run.step.delta", "thread.run.requires_action"]
    call = events[-1][1]["required_action"]["submit_tool_outputs"]["tool_calls"][0]
    assert events[5][1]["delta"]["step_details"]["tool_calls"] == [
        {"index": 0, "id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": "",
                                                                         "output": None}}]
    resumed = api(deps, "POST", f"/v1/threads/{body['id']}/runs/{events[0][1]['id']}/submit_tool_outputs",
                  {"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}], "stream": True})
    deps.ai.answer(native_stream(["It is ", "sunny."], 20, 3))
    deliver(deps)
    events = stream_events(resumed)
    assert checked(events) == [
        "thread.run.step.completed", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
        "thread.run.step.in_progress", "thread.message.created", "thread.message.in_progress",
        "thread.message.delta", "thread.message.delta", "thread.message.completed", "thread.run.step.completed",
        "thread.run.completed"]
    assert events[0][1]["step_details"]["tool_calls"][0]["function"]["output"] == "sunny"
    assert "".join(d["delta"]["content"][0]["text"]["value"] for n, d in events if n == "thread.message.delta") == (
        "It is sunny.")
    assert events[-1][1]["usage"]["total_tokens"] > 0


def test_create_and_run_streams_the_thread_first(deps):
    helper = assistant(deps)
    response = api(deps, "POST", "/v1/threads/runs", {"assistant_id": helper["id"], "stream": True,
                                                      "thread": {"messages": [{"role": "user", "content": "Hi"}]}})
    deps.ai.answer(native_stream(["Hello"], 5, 1))
    deliver(deps)
    events = stream_events(response)
    assert checked(events)[:3] == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert events[-1][0] == "thread.run.completed" and events[1][1]["thread_id"] == events[0][1]["id"]


def test_a_failed_run_streams_its_failure(deps):
    body = thread(deps, "Hi")
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs",
                   {"assistant_id": assistant(deps)["id"], "stream": True})
    deps.ai.answer(workers_ai_error(5004, "bad input", "@cf/meta/llama-3.3-70b-instruct-fp8-fast"))
    deliver(deps)
    events = stream_events(response)
    assert checked(events) == ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                               "thread.run.failed"]
    assert events[-1][1]["last_error"]["code"] == "invalid_prompt"


@pytest.fixture
def search_model(deps):
    """Workers AI with the bge embedder for ingestion and search, and the scripted chat model."""
    scripted, embed = deps.ai.run, embedder(deps.ai.calls)

    async def run_model(model, inputs, options=None):
        return await (embed if "bge" in model else scripted)(model, inputs, options)
    deps.ai.run = run_model
    yield


def test_file_search_over_an_attached_file(deps, search_model):
    file_id = upload(deps, b"Rocket engines burn liquid oxygen and kerosene.", "rocket.txt", headers=AUTH)
    body = thread(deps, messages=[{"role": "user", "content": "What do rocket engines burn?",
                                   "attachments": [{"file_id": file_id, "tools": [{"type": "file_search"}]}]}])
    assert ingest_all(deps) == {"m0": "ack"}
    helper = assistant(deps, tools=[{"type": "file_search"}])
    made = ok(api(deps, "POST", f"/v1/threads/{body['id']}/runs", {"assistant_id": helper["id"]}))
    deps.ai.answer(native_tools([{"name": "file_search", "arguments": {"queries": ["rocket engines burn"]}}]))
    deps.ai.answer(native("They burn liquid oxygen and kerosene.", 30, 7))
    deliver(deps)
    done = retrieve(deps, body["id"], made["id"])
    assert done["status"] == "completed", done
    tool_message = deps.ai.calls[-1][1]["messages"][-1]
    assert tool_message["role"] == "tool" and "liquid oxygen" in tool_message["content"]
    path = f"/v1/threads/{body['id']}/runs/{made['id']}/steps"
    plain, message_step = listed(deps, path, order="asc")
    [call] = plain["step_details"]["tool_calls"]
    assert (call["type"], call["file_search"]["ranking_options"]) == (
        "file_search", {"ranker": "auto", "score_threshold": 0.0})
    [result] = call["file_search"]["results"]
    assert (result["file_id"], result["file_name"], "content" in result) == (file_id, "rocket.txt", False)
    included = listed(deps, path, order="asc", **{"include[]": CONTENT})[0]
    assert included["step_details"]["tool_calls"][0]["file_search"]["results"][0]["content"] == [
        {"type": "text", "text": "Rocket engines burn liquid oxygen and kerosene."}]
    single = ok(api(deps, "GET", f"{path}/{plain['id']}", **{"include[]": CONTENT}))
    assert single == included
    bad = api(deps, "GET", path, **{"include[]": "step_details.other"})
    assert (bad.status, bad.body["error"]["param"]) == (400, "include[0]")
    for step in (plain, message_step):
        check("RunStepObject", step)
    [answer] = listed(deps, f"/v1/threads/{body['id']}/messages", run_id=made["id"])
    check("MessageObject", answer)
    text = answer["content"][0]["text"]
    [citation] = text["annotations"]
    assert text["value"] == "They burn liquid oxygen and kerosene.【0†rocket.txt】"
    assert (citation["file_citation"], text["value"][citation["start_index"]:citation["end_index"]]) == (
        {"file_id": file_id}, citation["text"])
    assert message_step["step_details"]["message_creation"]["message_id"] == answer["id"]


def test_the_beta_header_guards_streams_too(deps):
    response = api(deps, "POST", "/v1/threads/runs", {"assistant_id": "asst_1", "stream": True},
                   headers={k: v for k, v in BETA.items() if k != "openai-beta"})
    assert response.status == 400


def test_a_stream_that_cannot_be_read_ends_with_an_error_event(deps):
    body = thread(deps, "Hi")
    response = api(deps, "POST", f"/v1/threads/{body['id']}/runs",
                   {"assistant_id": assistant(deps)["id"], "stream": True})
    real_query = deps.db.query

    async def query(sql, params=()):
        if sql.startswith("SELECT sequence_number"):
            raise RuntimeError("D1_ERROR: simulated outage")
        return await real_query(sql, params)
    deps.db.query = query
    [text] = frames(response)
    assert text.startswith("event: error\ndata: ")
    error = json.loads(text.split("data: ", 1)[1])
    check("AssistantStreamEvent", {"event": "error", "data": error})
    assert error["type"] == "server_error"
