"""Assistants v2 through the official SDK (`client.beta`) against the running worker (stand-in
model): assistants, threads and messages, function calling with create_and_poll and
submit_tool_outputs_and_poll, streamed runs with an AssistantEventHandler, file_search over an
attached file with its run steps, cancel, one active run per thread, expiry by the cron sweep,
and ownership between keys. Every body and stream event is checked against OpenAI's schemas."""
import time

import openai
import pytest
from openai import AssistantEventHandler

from integration.devserver import wrangler
from openai_spec import check

MODEL = "gpt-4o"  # llama-3.3-70b on the stand-in: tools
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CONTENT = "step_details.tool_calls[*].file_search.results[*].content"
BETA = {"openai-beta": "assistants=v2"}
FAST = 200  # ms between polls


def dumped(model) -> dict:
    return model.model_dump(mode="json", exclude_unset=True)


def checked(http, path: str, schema: str, **params) -> dict:
    """A GET of the raw body, valid as OpenAI's `schema`."""
    response = http.get(path, params=params, headers=BETA)
    assert response.status_code == 200, response.text
    check(schema, response.json())
    return response.json()


@pytest.fixture(scope="module")
def helper(client):
    return client.beta.assistants.create(model=MODEL, name="Weather", instructions="Use the tools.", tools=[WEATHER])


def test_assistants_crud_and_list(client, http):
    client.beta.assistants.create(model=MODEL, name="Older")
    made = client.beta.assistants.create(model=MODEL, name="Tutor", description="Helps", metadata={"k": "v"},
                                         tools=[{"type": "file_search"}], temperature=0.2)
    check("AssistantObject", dumped(made))
    assert (made.name, made.temperature, made.top_p, made.response_format) == ("Tutor", 0.2, 1.0, "auto")
    changed = client.beta.assistants.update(made.id, name="Tutor 2", response_format={"type": "json_object"})
    assert (changed.name, changed.description, changed.response_format.type) == ("Tutor 2", "Helps", "json_object")
    listed = checked(http, "/v1/assistants", "ListAssistantsResponse", limit=1, order="desc")
    assert listed["data"][0]["id"] == made.id and listed["has_more"] is True
    deleted = client.beta.assistants.delete(made.id)
    check("DeleteAssistantResponse", dumped(deleted))
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.retrieve(made.id)


def test_what_workers_cannot_do_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.assistants.create(model=MODEL, tools=[{"type": "code_interpreter"}])
    assert refused.value.param == "tools[0].type"
    thread = client.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.messages.create(thread.id, role="user", content="x", attachments=[
            {"file_id": "file-1", "tools": [{"type": "code_interpreter"}]}])
    assert refused.value.param == "attachments[0].tools[0].type"


def test_the_v2_header_is_required(http):
    response = http.get("/v1/assistants")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_beta"
    check("ErrorResponse", response.json())


def test_threads_and_messages(client, http):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "one"}], metadata={"a": "b"})
    message = client.beta.threads.messages.create(thread.id, role="user", content=[
        {"type": "text", "text": "two"}, {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}])
    shown = checked(http, f"/v1/threads/{thread.id}/messages/{message.id}", "MessageObject")
    assert shown["content"][1] == {"type": "image_url", "image_url": {"url": "https://example.com/x.png",
                                                                      "detail": "auto"}}
    assert client.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"n": "1"}).metadata == {
        "n": "1"}
    check("DeleteMessageResponse", dumped(client.beta.threads.messages.delete(message.id, thread_id=thread.id)))
    assert [m.content[0].text.value for m in client.beta.threads.messages.list(thread.id)] == ["one"]
    assert client.beta.threads.update(thread.id, metadata={"c": "d"}).metadata == {"c": "d"}
    check("ThreadObject", checked(http, f"/v1/threads/{thread.id}", "ThreadObject"))
    check("DeleteThreadResponse", dumped(client.beta.threads.delete(thread.id)))
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.retrieve(thread.id)


def test_function_calling_with_create_and_poll(client, http, helper):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[call]] Weather in Paris?"}],
                                        metadata={"topic": "weather"})
    check("ThreadObject", dumped(thread))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=helper.id,
                                                   poll_interval_ms=FAST)
    check("RunObject", checked(http, f"/v1/threads/{thread.id}/runs/{run.id}", "RunObject"))
    assert run.status == "requires_action" and run.expires_at > run.created_at
    [call] = run.required_action.submit_tool_outputs.tool_calls
    assert call.function.name == "get_weather" and "city" in call.function.arguments
    with pytest.raises(openai.BadRequestError):  # one active run per thread
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=helper.id)
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.messages.create(thread.id, role="user", content="Hurry")
    done = client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call.id, "output": "sunny, 21 C"}],
        poll_interval_ms=FAST)
    assert done.status == "completed" and done.usage.total_tokens > 0
    messages = checked(http, f"/v1/threads/{thread.id}/messages", "ListMessagesResponse", order="asc")["data"]
    assert [(m["role"], m["content"][0]["text"]["value"]) for m in messages] == [
        ("user", "[[call]] Weather in Paris?"), ("assistant", "Tool said: sunny, 21 C")]
    steps = checked(http, f"/v1/threads/{thread.id}/runs/{run.id}/steps", "ListRunStepsResponse", order="asc")["data"]
    assert [(s["type"], s["status"]) for s in steps] == [("tool_calls", "completed"), ("message_creation", "completed")]
    assert steps[0]["step_details"]["tool_calls"][0]["function"]["output"] == "sunny, 21 C"
    step = client.beta.threads.runs.steps.retrieve(steps[1]["id"], thread_id=thread.id, run_id=run.id)
    assert step.step_details.message_creation.message_id == messages[1]["id"]
    checked(http, f"/v1/threads/{thread.id}/runs", "ListRunsResponse")
    updated = client.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"checked": "yes"})
    assert updated.metadata == {"checked": "yes"}


class Recorder(AssistantEventHandler):
    """Every event checked against OpenAI's AssistantStreamEvent, and what the helpers build."""

    def __init__(self):
        super().__init__()
        self.events, self.text, self.calls = [], "", []

    def on_event(self, event):
        check("AssistantStreamEvent", dumped(event))
        self.events.append(event.event)

    def on_text_delta(self, delta, snapshot):
        self.text += delta.value

    def on_tool_call_done(self, tool_call):
        self.calls.append(tool_call)


def test_a_streamed_run_with_an_event_handler(client, helper):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[call]] Weather in Rome?"}])
    first = Recorder()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=helper.id, event_handler=first) as stream:
        stream.until_done()
    run = first.current_run
    assert run.status == "requires_action" and first.events[:3] == [
        "thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    [call] = first.calls
    assert call.function.name == "get_weather"
    second = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call.id, "output": "rain"}],
            event_handler=second) as stream:
        stream.until_done()
    assert second.text == "Tool said: rain" and second.current_run.status == "completed"
    assert {"thread.message.created", "thread.message.delta", "thread.message.completed",
            "thread.run.step.completed", "thread.run.completed"} <= set(second.events)
    [message] = second.get_final_messages()
    assert message.content[0].text.value == "Tool said: rain"


def test_create_and_run(client, http, helper):
    run = client.beta.threads.create_and_run_poll(assistant_id=helper.id, poll_interval_ms=FAST,
                                                  thread={"messages": [{"role": "user", "content": "Hello"}]})
    assert run.status == "completed"
    [answer, _] = client.beta.threads.messages.list(run.thread_id).data
    assert answer.content[0].text.value == "Echo: Hello"
    recorder = Recorder()
    with client.beta.threads.create_and_run_stream(assistant_id=helper.id, event_handler=recorder, thread={
            "messages": [{"role": "user", "content": "[[words:4]] count"}]}) as stream:
        stream.until_done()
    assert recorder.events[0] == "thread.created" and recorder.text == "w1 w2 w3 w4"


def test_file_search_over_an_attached_file_with_its_steps(client, write):
    with open(write("rocket.txt", b"Rocket engines burn liquid oxygen and kerosene to reach orbit."), "rb") as f:
        uploaded = client.files.create(file=f, purpose="assistants")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Read this", "attachments": [
        {"file_id": uploaded.id, "tools": [{"type": "file_search"}]}]}])
    [store_id] = thread.tool_resources.file_search.vector_store_ids
    searcher = client.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}])
    for _ in range(30):  # the index makes new vectors searchable shortly after ingestion
        run = client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=searcher.id, poll_interval_ms=FAST, include=[CONTENT],
            additional_messages=[{"role": "user", "content": "[[call:file_search]] What do rocket engines burn?"}])
        assert run.status == "completed", run.last_error
        steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc", include=[CONTENT])
        search = steps.data[0].step_details.tool_calls[0]
        if search.file_search.results:
            break
        time.sleep(0.3)
    assert client.vector_stores.files.retrieve(uploaded.id, vector_store_id=store_id).status == "completed"
    [result] = search.file_search.results[:1]
    assert (search.type, result.file_id, result.file_name) == ("file_search", uploaded.id, "rocket.txt")
    assert "liquid oxygen" in result.content[0].text
    plain = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc")
    assert plain.data[0].step_details.tool_calls[0].file_search.results[0].content is None
    answer = client.beta.threads.messages.list(thread.id, run_id=run.id).data[0]
    text = answer.content[0].text
    assert "liquid oxygen" in text.value and text.annotations[0].file_citation.file_id == uploaded.id
    assert text.value[text.annotations[0].start_index:text.annotations[0].end_index] == text.annotations[0].text


def test_cancel_a_running_run(client, helper):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[slow:3000]] take your time"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=helper.id)
    cancelled = client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelled.status in ("cancelled", "cancelling")
    final = client.beta.threads.runs.poll(run.id, thread_id=thread.id, poll_interval_ms=FAST)
    assert final.status == "cancelled" and final.cancelled_at
    time.sleep(3.5)  # whatever its consumer was doing has ended by now
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "cancelled"
    # A message the run had begun when the cancel was noticed stays, incomplete, as on OpenAI.
    assert {m.status for m in client.beta.threads.messages.list(thread.id, run_id=run.id).data} <= {"incomplete"}


def test_a_run_waiting_for_outputs_expires(client, server, helper):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "[[call]] Weather in Oslo?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=helper.id,
                                                   poll_interval_ms=FAST)
    assert run.status == "requires_action"
    wrangler("d1", "execute", "DB", "--local", "--env", "local", "--persist-to", str(server.state), "--command",
             f"UPDATE thread_runs SET expires_at = 0 WHERE id = '{run.id}'")  # ten minutes later
    server.scheduled()
    expired = client.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
    assert (expired.status, expired.required_action) == ("expired", None)
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.submit_tool_outputs(run.id, thread_id=thread.id, tool_outputs=[
            {"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "late"}])
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=helper.id,
                                                     poll_interval_ms=FAST)
    assert again.status == "requires_action"  # the thread is free again


def test_other_keys_get_404s_on_every_route(owner, stranger):
    mine = owner.beta.assistants.create(model=MODEL, tools=[WEATHER])
    thread = owner.beta.threads.create(messages=[{"role": "user", "content": "[[call]] Weather?"}])
    run = owner.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=mine.id, poll_interval_ms=FAST)
    [message] = owner.beta.threads.messages.list(thread.id).data
    [step] = owner.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    beta, tid, rid = stranger.beta, thread.id, run.id
    for call in (lambda: beta.assistants.retrieve(mine.id), lambda: beta.assistants.update(mine.id, name="x"),
                 lambda: beta.assistants.delete(mine.id), lambda: beta.threads.retrieve(tid),
                 lambda: beta.threads.update(tid, metadata={}), lambda: beta.threads.delete(tid),
                 lambda: beta.threads.messages.create(tid, role="user", content="x"),
                 lambda: beta.threads.messages.list(tid), lambda: beta.threads.messages.retrieve(message.id, thread_id=tid),
                 lambda: beta.threads.messages.update(message.id, thread_id=tid, metadata={}),
                 lambda: beta.threads.messages.delete(message.id, thread_id=tid),
                 lambda: beta.threads.runs.create(thread_id=tid, assistant_id=mine.id),
                 lambda: beta.threads.runs.list(tid), lambda: beta.threads.runs.retrieve(rid, thread_id=tid),
                 lambda: beta.threads.runs.update(rid, thread_id=tid, metadata={}),
                 lambda: beta.threads.runs.cancel(rid, thread_id=tid),
                 lambda: beta.threads.runs.submit_tool_outputs(rid, thread_id=tid, tool_outputs=[
                     {"tool_call_id": "call_1", "output": "x"}]),
                 lambda: beta.threads.runs.steps.list(run_id=rid, thread_id=tid),
                 lambda: beta.threads.runs.steps.retrieve(step.id, run_id=rid, thread_id=tid),
                 lambda: beta.threads.create_and_run(assistant_id=mine.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert beta.assistants.list().data == []
    assert owner.beta.threads.runs.retrieve(rid, thread_id=tid).status == "requires_action"
