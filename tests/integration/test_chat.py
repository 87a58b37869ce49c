"""POST /v1/chat/completions through the official SDK (raw SSE over httpx where the SDK hides it).

The AI stand-in replies "Echo: <last user text>" (markers removed), counts whitespace words as
tokens, and obeys markers such as [[words:N]], [[delay:MS]], [[split]], [[fail-mid:CODE]]."""
import json
import time

import openai
import pytest

NATIVE = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CHOICES = "@cf/qwen/qwen3-30b-a3b-fp8"  # native input, OpenAI-shaped output
OPENAI_SHAPED = "@cf/zai-org/glm-4.7-flash"


def no_thinking(model: str) -> dict:
    """glm thinks by default, and its thinking counts in max_completion_tokens and usage (as on
    OpenAI's reasoning models): tests of plain output turn it off."""
    return {"reasoning_effort": "none"} if model == OPENAI_SHAPED else {}


def user(text: str) -> list:
    return [{"role": "user", "content": text}]


def streamed(client, **params) -> list:
    return list(client.chat.completions.create(stream=True, **params))


def content_of(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def sse_payloads(response) -> list:
    """The `data:` payloads of a raw SSE response, JSON-decoded; "[DONE]" stays a string."""
    payloads = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            data = line[5:].strip()
            payloads.append(data if data == "[DONE]" else json.loads(data))
    return payloads


def test_completion_has_content_usage_and_finish_reason(client):
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=user("hello there world"))
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == "@cf/meta/llama-3.1-8b-instruct-fast"
    assert isinstance(reply.created, int)
    assert len(reply.choices) == 1
    choice = reply.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert (choice.message.role, choice.message.content) == ("assistant", "Echo: hello there world")
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (3, 4, 7)


@pytest.mark.parametrize("limit", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("model", [NATIVE, CHOICES, OPENAI_SHAPED])
def test_output_limit_cuts_the_reply(client, model, limit):
    reply = client.chat.completions.create(model=model, messages=user("[[words:50]] go"), **{limit: 5},
                                           **no_thinking(model))
    assert reply.choices[0].message.content == "w1 w2 w3 w4 w5"
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5


@pytest.mark.parametrize("model", [NATIVE, CHOICES])
def test_native_models_are_not_cut_at_256_tokens_by_default(client, model):
    reply = client.chat.completions.create(model=model, messages=user("[[words:300]]"))
    assert reply.choices[0].message.content == " ".join(f"w{i}" for i in range(1, 301))
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 300


def test_native_stream_is_not_cut_at_256_tokens_by_default(client):
    chunks = streamed(client, model=NATIVE, messages=user("[[words:300]]"))
    assert content_of(chunks) == " ".join(f"w{i}" for i in range(1, 301))
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_system_and_developer_messages_are_accepted(client, model):
    reply = client.chat.completions.create(model=model, messages=[
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": "Answer in one line."},
        {"role": "user", "content": "ping pong"},
    ])
    assert reply.choices[0].message.content == "Echo: ping pong"
    assert reply.usage.prompt_tokens == 3 + 4 + 2


def test_content_as_text_parts(client):
    reply = client.chat.completions.create(model=NATIVE, messages=[{"role": "user", "content": [
        {"type": "text", "text": "first part"}, {"type": "text", "text": "second"}]}])
    assert reply.choices[0].message.content == "Echo: first part second"
    assert reply.usage.prompt_tokens == 3


def test_image_part_is_refused_with_its_path(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=[{"role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}])
    assert refused.value.body["param"] == "messages[0].content[1]"
    assert refused.value.body["code"] == "unsupported_parameter"


@pytest.mark.parametrize("model", [NATIVE, CHOICES, OPENAI_SHAPED])
def test_stream_matches_the_whole_reply(client, model):
    messages = user("stream me these words please")
    whole = client.chat.completions.create(model=model, messages=messages)
    chunks = streamed(client, model=model, messages=messages)
    assert whole.choices[0].message.content == "Echo: stream me these words please"
    assert content_of(chunks) == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert {c.model for c in chunks} == {model}
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize("model", [NATIVE, CHOICES, OPENAI_SHAPED])
def test_stream_include_usage_ends_with_a_usage_chunk(client, model):
    chunks = streamed(client, model=model, messages=user("[[words:7]] count these"),
                      stream_options={"include_usage": True}, **no_thinking(model))
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (3, 7, 10)
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    assert content_of(chunks) == "w1 w2 w3 w4 w5 w6 w7"


@pytest.mark.parametrize("model", [NATIVE, OPENAI_SHAPED])
def test_stream_output_limit(client, model):
    chunks = streamed(client, model=model, messages=user("[[words:50]]"), max_tokens=4,
                      stream_options={"include_usage": True})
    assert content_of(chunks) == "w1 w2 w3 w4"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage.completion_tokens == 4


def test_stream_is_incremental(client):
    # The stand-in waits 300 ms between events: a buffered stream would deliver all at once.
    arrivals = []
    stream = client.chat.completions.create(model=NATIVE, messages=user("[[delay:300]] [[words:5]]"),
                                            stream=True)
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.6


def test_a_client_that_reads_slowly_gets_the_whole_stream(http):
    # ~1.5 MB of frames, far more than the worker queues for a client (64 KiB) before it holds the
    # model's stream back: nothing is lost or reordered while it waits for the reader.
    words = 12000
    with http.stream("POST", "/v1/chat/completions", json={
            "model": NATIVE, "messages": user(f"[[words:{words}]]"), "max_tokens": words, "stream": True}) as response:
        time.sleep(2)
        payloads = sse_payloads(response)
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads[:-1] if p["choices"])
    assert text == " ".join(f"w{i}" for i in range(1, words + 1)) and payloads[-1] == "[DONE]"


def test_stream_reassembles_events_split_across_reads(client):
    chunks = streamed(client, model=OPENAI_SHAPED, messages=user("[[split]] split into halves"),
                      stream_options={"include_usage": True}, **no_thinking(OPENAI_SHAPED))
    assert content_of(chunks) == "Echo: split into halves"
    assert chunks[-1].usage.completion_tokens == 4
    native = streamed(client, model=NATIVE, messages=user("[[split]] split into halves"))
    assert content_of(native) == "Echo: split into halves"


def test_raw_stream_frames(http):
    with http.stream("POST", "/v1/chat/completions", json={
            "model": NATIVE, "messages": user("[[words:3]]"), "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(response)
    assert payloads[-1] == "[DONE]"
    deltas = [p["choices"][0]["delta"] for p in payloads[:-1]]
    assert deltas == [{"role": "assistant", "content": ""}, {"content": "w1"}, {"content": " w2"},
                      {"content": " w3"}, {}]
    assert [p["choices"][0]["finish_reason"] for p in payloads[:-1]] == [None] * 4 + ["stop"]


@pytest.mark.parametrize("model, param, value", [
    ("@cf/qwen/qwq-32b", "tools", [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]),
    (NATIVE, "logprobs", True),
    ("@cf/ibm-granite/granite-4.0-h-micro", "response_format", {"type": "json_object"}),
    (NATIVE, "reasoning_effort", "low"),
    (NATIVE, "prediction", {"type": "content", "content": "x"}),
    (NATIVE, "modalities", ["text", "audio"]),
])
def test_unsupported_parameter_is_refused_by_name(client, model, param, value):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=user("hi"), **{param: value})
    assert refused.value.body["param"] == param
    assert refused.value.body["code"] == "unsupported_parameter"
    assert param in refused.value.body["message"]


def test_harmless_values_of_unsupported_parameters_are_accepted(client):
    reply = client.chat.completions.create(model=NATIVE, messages=user("fine"), n=1, tool_choice="auto",
                                           response_format={"type": "text"}, logprobs=False)
    assert reply.choices[0].message.content == "Echo: fine"


def test_stream_options_without_stream_is_refused(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=NATIVE, messages=user("hi"),
                                       stream_options={"include_usage": True})
    assert refused.value.body["param"] == "stream_options"


def test_mid_stream_failure_raises_while_iterating(client):
    received = []
    stream = client.chat.completions.create(model=NATIVE, messages=user("[[fail-mid:3040]] one two three"),
                                            stream=True)
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            received.append(chunk)
    assert content_of(received) == "Echo: one"
    # Locally the stand-in's stream error crosses the service binding as "ReadableStream received
    # over RPC disconnected prematurely": the "3040: " code is lost, so this is the generic event.
    assert set(failed.value.body) == {"message", "type", "param", "code"}
    assert (failed.value.body["type"], failed.value.body["code"]) == ("server_error", "upstream_error")


def test_mid_stream_failure_is_an_error_event_without_done(http):
    with http.stream("POST", "/v1/chat/completions", json={
            "model": OPENAI_SHAPED, "messages": user("[[fail-mid:3000]] one two three"),
            "stream": True, **no_thinking(OPENAI_SHAPED)}) as response:
        assert response.status_code == 200
        payloads = sse_payloads(response)
    assert "[DONE]" not in payloads
    assert [p["choices"][0]["delta"].get("content") for p in payloads[:-1]] == ["", "Echo:", " one"]
    error = payloads[-1]["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"]) == ("server_error", "upstream_error")
