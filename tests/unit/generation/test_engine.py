"""api.generation.engine through /v1/chat/completions: usage recorded exactly once however a
generation ends (drained, closed early by a client that left, failed checks), the upstream stream
closed when the client leaves, and stream requests that a model answers whole."""
import pytest

from unit.support import (LLAMA, NOW, USER, choices_result, create_chat, drain, native, native_stream,
                          payloads, post, run, stream_chat)


@pytest.fixture(autouse=True)
def run_deferred_work(deps):
    yield
    run(drain(deps))


def sent_usage(deps):
    run(drain(deps))
    return [(e["model"], e["prompt_tokens"], e["completion_tokens"]) for e in deps.jobs.sent]


class Upstream:
    """A streamed model answer that records whether it was closed before its end."""

    def __init__(self, chunks):
        self.chunks, self.closed, self.read = chunks, False, 0

    async def texts(self):
        try:
            for chunk in self.chunks:
                self.read += 1
                yield chunk
        finally:
            self.closed = self.read < len(self.chunks)


def streaming(deps, upstream):
    async def stream(model, inputs, options=None):
        deps.ai.calls.append((model, inputs, options))
        return upstream.texts()
    deps.ai.stream = stream


def test_a_client_that_leaves_mid_stream_closes_the_upstream_and_is_billed_for_what_it_got(deps):
    upstream = Upstream(native_stream(["one ", "two ", "three ", "four"], prompt=7, completion=4))
    streaming(deps, upstream)
    response = post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER], "stream": True})

    async def read_two_then_leave():
        got = [await response.events.__anext__() for _ in range(2)]
        await response.events.aclose()  # what the edge's pump does when the client disconnects
        return got
    got = run(read_two_then_leave())
    assert [p["choices"][0]["delta"] for p in payloads(got)] == [{"role": "assistant", "content": ""},
                                                                 {"content": "one "}]
    assert upstream.closed
    assert sent_usage(deps) == [(LLAMA, 2, 1)]  # estimated ("Say hello", "one "): the model's count never came


def test_a_drained_stream_records_usage_once(deps):
    stream_chat(deps, native_stream(["a ", "b"], prompt=5, completion=2))
    assert sent_usage(deps) == [(LLAMA, 5, 2)]


def test_usage_of_both_attempts_is_recorded_when_a_forced_tool_call_is_missing(deps):
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    response = create_chat(deps, native("prose instead", 9, 4), native("prose again", 9, 2), tools=[tool],
                           tool_choice="required")
    assert (response.status, response.body["error"]["code"]) == (502, "tool_call_missing")
    assert sent_usage(deps) == [(LLAMA, 18, 6)]  # the tokens were generated and paid for, twice


def test_a_stream_request_answered_whole_is_streamed_without_reparsing(deps):
    parsed = stream_chat(deps, choices_result("whole answer", prompt=6, completion=2, model="@cf/qwen/qwen3-30b-a3b-fp8"),
                         model="@cf/qwen/qwen3-30b-a3b-fp8")
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in parsed if p != "[DONE]" and p["choices"])
    assert text == "whole answer" and parsed[-2]["choices"][0]["finish_reason"] == "stop"
    assert sent_usage(deps) == [("@cf/qwen/qwen3-30b-a3b-fp8", 6, 2)]


def test_stops_cut_a_stream_request_answered_whole(deps):
    parsed = stream_chat(deps, choices_result("keep. drop", model="@cf/qwen/qwen3-30b-a3b-fp8"),
                         model="@cf/qwen/qwen3-30b-a3b-fp8", stop=".")
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in parsed if p != "[DONE]" and p["choices"])
    assert text == "keep"


def test_whole_completion_with_n_records_one_event_with_the_sum(deps):
    response = create_chat(deps, native("x", 3, 1), native("y", 3, 2), n=2)
    assert response.status == 200 and response.body["usage"]["completion_tokens"] == 3
    assert sent_usage(deps) == [(LLAMA, 6, 3)]
    assert deps.jobs.sent[0]["created_at"] == NOW
