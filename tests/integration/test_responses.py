"""/v1/responses through the official SDK against the running worker (stand-in model): text,
typed streaming events (order, sequence numbers, each valid against OpenAI's schema), parse,
function-call loops by previous_response_id and by conversation, truncation, file_search with
citations, storage, and ownership between keys."""
import json
import time

import openai
import pytest
from pydantic import BaseModel

from integration.devserver import wrangler
from openai_spec import check

MODEL = "gpt-4o"  # llama-3.3-70b on the stand-in: tools and JSON mode
WEATHER = {"type": "function", "name": "get_weather", "description": "Weather of a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}, "strict": True}
# Each event type we emit → its schema in OpenAI's document.
EVENT_SCHEMAS = {
    "response.created": "ResponseCreatedEvent", "response.in_progress": "ResponseInProgressEvent",
    "response.queued": "ResponseQueuedEvent", "response.completed": "ResponseCompletedEvent",
    "response.incomplete": "ResponseIncompleteEvent", "response.failed": "ResponseFailedEvent",
    "response.output_item.added": "ResponseOutputItemAddedEvent",
    "response.output_item.done": "ResponseOutputItemDoneEvent",
    "response.content_part.added": "ResponseContentPartAddedEvent",
    "response.content_part.done": "ResponseContentPartDoneEvent",
    "response.output_text.delta": "ResponseTextDeltaEvent", "response.output_text.done": "ResponseTextDoneEvent",
    "response.output_text.annotation.added": "ResponseOutputTextAnnotationAddedEvent",
    "response.function_call_arguments.delta": "ResponseFunctionCallArgumentsDeltaEvent",
    "response.function_call_arguments.done": "ResponseFunctionCallArgumentsDoneEvent",
    "response.reasoning_text.delta": "ResponseReasoningTextDeltaEvent",
    "response.reasoning_text.done": "ResponseReasoningTextDoneEvent",
    "response.reasoning_summary_part.added": "ResponseReasoningSummaryPartAddedEvent",
    "response.reasoning_summary_part.done": "ResponseReasoningSummaryPartDoneEvent",
    "response.reasoning_summary_text.delta": "ResponseReasoningSummaryTextDeltaEvent",
    "response.reasoning_summary_text.done": "ResponseReasoningSummaryTextDoneEvent",
    "response.file_search_call.in_progress": "ResponseFileSearchCallInProgressEvent",
    "response.file_search_call.searching": "ResponseFileSearchCallSearchingEvent",
    "response.file_search_call.completed": "ResponseFileSearchCallCompletedEvent",
}
SEEN = set()


def events_of(stream) -> list:
    """The raw events, each checked against its schema, numbered 0, 1, 2, … in order."""
    events = [event.model_dump(mode="json", exclude_unset=True) for event in stream]
    for event in events:
        check(EVENT_SCHEMAS[event["type"]], event)
        SEEN.add(event["type"])
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def test_text(client):
    response = client.responses.create(model=MODEL, input="Say hello", instructions="Be brief.")
    check("Response", response.model_dump(mode="json", exclude_unset=True))
    assert (response.status, response.output_text) == ("completed", "Echo: Say hello")
    assert response.usage.input_tokens > 0 and response.usage.output_tokens == 3
    stored = client.responses.retrieve(response.id)
    assert (stored.output_text, stored.instructions) == ("Echo: Say hello", "Be brief.")
    items = client.responses.input_items.list(response.id)
    assert [(i.type, i.role, i.content[0].text) for i in items.data] == [("message", "user", "Say hello")]


def test_streamed_events_in_order(client):
    with client.responses.stream(model=MODEL, input="[[words:5]] count") as stream:
        events = events_of(stream)
        final = stream.get_final_response()
    types = [e["type"] for e in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "w1 w2 w3 w4 w5"
    assert final.output_text == "w1 w2 w3 w4 w5" and client.responses.retrieve(final.id).output_text == final.output_text


def test_reasoning_streams_as_its_own_item(client):
    stream = client.responses.create(model="@cf/zai-org/glm-4.7-flash", input="Why?", stream=True)
    events = events_of(stream)
    items = [e["item"]["type"] for e in events if e["type"] == "response.output_item.done"]
    assert items == ["reasoning", "message"]
    summarised = events_of(client.responses.create(model="@cf/zai-org/glm-4.7-flash", input="Why?", stream=True,
                                                   reasoning={"summary": "auto"}))
    assert any(e["type"] == "response.reasoning_summary_text.delta" for e in summarised)


class City(BaseModel):
    name: str
    population: int


def test_parse_with_a_pydantic_model(client):
    parsed = client.responses.parse(model=MODEL, input="A city", text_format=City)
    assert isinstance(parsed.output_parsed, City)


def test_a_function_call_loop_by_previous_response_id(client):
    first = client.responses.create(model=MODEL, input="[[call]] Weather in Paris?", tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments)["city"]
    second = client.responses.create(model=MODEL, previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}])
    assert second.output_text == "Tool said: sunny, 21 C"


def test_a_function_call_loop_in_a_conversation(client):
    conversation = client.conversations.create(metadata={"topic": "weather"})
    first = client.responses.create(model=MODEL, conversation=conversation.id, tools=[WEATHER],
                                    input="[[call]] Weather in Oslo?")
    [call] = [item for item in first.output if item.type == "function_call"]
    second = client.responses.create(model=MODEL, conversation=conversation.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": "snow"}])
    assert second.output_text == "Tool said: snow"
    items = list(client.conversations.items.list(conversation.id, order="asc"))
    assert [i.type for i in items] == ["message", "function_call", "function_call_output", "message"]
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, conversation=conversation.id, previous_response_id=first.id, input="x")


def test_truncation(client):
    long_history = [{"role": "user", "content": "word " * 9000}, {"role": "assistant", "content": "ok"}]
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input=[*long_history, {"role": "user", "content": "hi"}] * 3,
                                max_output_tokens=1000)
    assert refused.value.code == "context_length_exceeded"
    fitted = client.responses.create(model=MODEL, truncation="auto", max_output_tokens=1000,
                                     input=[*long_history, {"role": "user", "content": "hi"}] * 3)
    assert fitted.status == "completed" and fitted.output_text == "Echo: hi"


def test_unsupported_tools_and_options_are_refused(client):
    for tools, param in [([{"type": "web_search"}], "tools[0].type"),
                         ([{"type": "code_interpreter", "container": {"type": "auto"}}], "tools[0].type")]:
        with pytest.raises(openai.BadRequestError) as refused:
            client.responses.create(model=MODEL, input="x", tools=tools)
        assert refused.value.param == param
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="x", include=["reasoning.encrypted_content"])
    assert refused.value.param == "include[0]"


def test_store_false_keeps_nothing(client):
    response = client.responses.create(model=MODEL, input="secret", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=MODEL, input="again", previous_response_id=response.id)


def test_delete(client):
    response = client.responses.create(model=MODEL, input="bye")
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_other_keys_get_404s(owner, stranger):
    response = owner.responses.create(model=MODEL, input="mine")
    conversation = owner.conversations.create()
    for call in (lambda: stranger.responses.retrieve(response.id),
                 lambda: stranger.responses.input_items.list(response.id),
                 lambda: stranger.responses.delete(response.id),
                 lambda: stranger.responses.cancel(response.id),
                 lambda: stranger.responses.create(model=MODEL, input="x", previous_response_id=response.id),
                 lambda: stranger.conversations.retrieve(conversation.id),
                 lambda: stranger.conversations.items.list(conversation.id),
                 lambda: stranger.responses.create(model=MODEL, input="x", conversation=conversation.id)):
        with pytest.raises(openai.NotFoundError):
            call()


def test_input_tokens_are_counted(client):
    counted = client.responses.input_tokens.count(model=MODEL, input="one two three")
    assert counted.input_tokens == 3


# --- background ---------------------------------------------------------------------------------

def wait_for(client, response_id, statuses=("completed", "failed", "incomplete", "cancelled"), deadline=30.0):
    until = time.monotonic() + deadline
    while True:
        response = client.responses.retrieve(response_id)
        if response.status in statuses or time.monotonic() > until:
            return response
        time.sleep(0.2)


def test_background_create_poll_completed(client):
    queued = client.responses.create(model=MODEL, input="later", background=True)
    assert (queued.status, queued.background) == ("queued", True)
    done = wait_for(client, queued.id)
    assert (done.status, done.output_text) == ("completed", "Echo: later")


def test_background_needs_store(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="x", background=True, store=False)
    assert refused.value.param == "background"


def test_background_stream_resumes_after_a_dropped_connection(client):
    stream = client.responses.create(model=MODEL, input="[[words:12]] [[delay:100]] go", background=True, stream=True)
    seen = []
    for event in stream:
        seen.append(event.model_dump(mode="json", exclude_unset=True))
        if len(seen) == 6:
            break  # the connection drops
    stream.close()
    assert [e["type"] for e in seen[:3]] == ["response.created", "response.queued", "response.in_progress"]
    resumed = events_of_resumed(client.responses.retrieve(seen[0]["response"]["id"], stream=True,
                                                          starting_after=seen[-1]["sequence_number"]))
    assert resumed[0]["sequence_number"] == seen[-1]["sequence_number"] + 1
    assert resumed[-1]["type"] == "response.completed"
    text = "".join(e["delta"] for e in seen + resumed if e["type"] == "response.output_text.delta")
    assert text == " ".join(f"w{i}" for i in range(1, 13))


def events_of_resumed(stream) -> list:
    events = [event.model_dump(mode="json", exclude_unset=True) for event in stream]
    for event in events:
        check(EVENT_SCHEMAS[event["type"]], event)
    numbers = [e["sequence_number"] for e in events]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    return events


def test_cancel_a_background_response(client):
    queued = client.responses.create(model=MODEL, input="[[slow:3000]] slow", background=True)
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    time.sleep(3.5)  # whatever its consumer was doing has ended by now
    assert client.responses.retrieve(queued.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(client.responses.create(model=MODEL, input="direct").id)


def test_a_run_whose_consumer_died_is_retried_and_ends_once(client, server, d1):
    """The state a consumer leaves when its isolate dies mid-run (claimed, lease running out, no
    output): the sweep queues the run again and it completes once, on attempt 2."""
    done = wait_for(client, client.responses.create(model=MODEL, input="crash me", background=True).id)
    rid = done.id
    d1_write(server, f"UPDATE responses SET status = 'in_progress' WHERE id = '{rid}'; "
                     f"DELETE FROM items WHERE parent = '{rid}' AND role = 'output'; "
                     f"UPDATE runs SET state = 'running', attempt = 1, lease_until = 0 WHERE id = '{rid}'")
    assert client.responses.retrieve(rid).status == "in_progress"
    server.scheduled()
    again = wait_for(client, rid)
    assert (again.status, again.output_text, len(again.output)) == ("completed", "Echo: crash me", 1)
    assert d1(f"SELECT state, attempt FROM runs WHERE id = '{rid}'") == [{"state": "done", "attempt": 2}]
    time.sleep(2.5)  # usage lands through the Queue
    assert d1(f"SELECT COUNT(*) AS n FROM usage_events WHERE id = '{rid}'") == [{"n": 1}]


def d1_write(server, sql: str) -> None:
    wrangler("d1", "execute", "DB", "--local", "--env", "local", "--persist-to", str(server.state), "--command", sql)


# --- file_search --------------------------------------------------------------------------------

def test_file_search_answers_from_an_ingested_file_with_citations(client, write):
    store = client.vector_stores.create(name="manuals")
    with open(write("rocket.txt", b"Rocket engines burn liquid oxygen and kerosene to reach orbit."), "rb") as f:
        attached = client.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=f, poll_interval_ms=200)
    assert attached.status == "completed"
    tool = {"type": "file_search", "vector_store_ids": [store.id], "max_num_results": 3}
    for _ in range(50):  # the index makes new vectors searchable shortly after ingestion
        response = client.responses.create(model=MODEL, input="[[call:file_search]] What do rocket engines burn?",
                                           tools=[tool], include=["file_search_call.results"])
        search = next(item for item in response.output if item.type == "file_search_call")
        if search.results:
            break
        time.sleep(0.2)
    assert search.status == "completed" and search.queries and search.results[0].filename == "rocket.txt"
    message = next(item for item in response.output if item.type == "message")
    assert "liquid oxygen" in message.content[0].text  # the model answered from the results
    [citation] = message.content[0].annotations
    assert (citation.type, citation.file_id, citation.filename) == ("file_citation", attached.id, "rocket.txt")
    plain = client.responses.create(model=MODEL, input="[[call:file_search]] rockets?", tools=[tool])
    assert next(item for item in plain.output if item.type == "file_search_call").results is None  # not included
    streamed = events_of(client.responses.create(model=MODEL, input="[[call:file_search]] rockets?", tools=[tool],
                                                 stream=True))
    types = [e["type"] for e in streamed]
    assert types.index("response.file_search_call.in_progress") < types.index("response.file_search_call.searching") \
        < types.index("response.file_search_call.completed") < types.index("response.output_text.delta")


def test_function_calls_stream_as_openai_streams_them(client):
    events = events_of(client.responses.create(model="@cf/zai-org/glm-4.7-flash", input="[[call]] Paris?",
                                               tools=[WEATHER], stream=True))
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert len(done) == 1 and deltas == done[0]["arguments"] and json.loads(deltas)["city"]


def test_every_event_kind_we_emit_was_checked_against_its_schema():
    """Runs last in this module: the kinds the tests above produced cover what the framer emits."""
    assert SEEN >= set(EVENT_SCHEMAS) - {"response.incomplete", "response.failed", "response.queued"}


# --- a real client ------------------------------------------------------------------------------

def test_the_openai_agents_sdk_runs_an_agent_with_a_function_tool(server):
    import agents  # noqa: PLC0415 - the Agents SDK is only needed here

    calls = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        calls.append(city)
        return f"sunny in {city}"

    agents.set_tracing_disabled(True)  # no trace uploads: offline, and not OpenAI's to see
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-local-dev", max_retries=0)
    model = agents.OpenAIResponsesModel(model=MODEL, openai_client=client)
    agent = agents.Agent(name="Weather", instructions="Answer with the tool.", tools=[get_weather], model=model)
    result = agents.Runner.run_sync(agent, "[[call]] What is the weather in Paris?")
    assert len(calls) == 1 and result.final_output.startswith("Tool said: sunny in")
