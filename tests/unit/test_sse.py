"""api.sse: frames out, Workers AI event streams in (split anywhere), and in-stream errors."""
import itertools

import pytest

from api import sse
from api.errors import RateLimited, UpstreamError
from unit.support import error, native_stream, oai_stream, run

STREAM = "".join(native_stream(["Hel", "lo, ", "wörld ✓"], prompt=7, completion=4))
EXPECTED = [{"response": "Hel", "p": "a"}, {"response": "lo, ", "p": "ab"}, {"response": "wörld ✓", "p": "abc"},
            {"response": "", "usage": {"prompt_tokens": 7, "completion_tokens": 4, "total_tokens": 11}}]


def parse(chunks):
    """The events of a stream split into `chunks`, read as StreamedGeneration.deltas reads them."""
    parser, events = sse.EventParser(), []
    for chunk in chunks:
        events += parser.feed(chunk)
        if parser.done:
            return events
    parser.end()
    return events


def parse_many(chunk_lists):
    return [parse(chunks) for chunks in chunk_lists]


def test_frame_is_compact_json():
    assert sse.frame({"a": [1, None], "b": "é"}) == 'data: {"a":[1,null],"b":"\\u00e9"}\n\n'
    assert sse.DONE == "data: [DONE]\n\n"


def test_whole_stream():
    assert parse([STREAM]) == EXPECTED


def test_split_at_every_position():
    splits = [[STREAM[:i], STREAM[i:]] for i in range(len(STREAM) + 1)]
    assert all(events == EXPECTED for events in parse_many(splits))


def test_split_in_three_at_many_positions():
    cuts = itertools.combinations(range(0, len(STREAM) + 1, 3), 2)
    splits = [[STREAM[:i], STREAM[i:j], STREAM[j:]] for i, j in cuts]
    assert len(splits) > 1000
    assert all(events == EXPECTED for events in parse_many(splits))


def test_one_character_at_a_time():
    assert parse(list(STREAM)) == EXPECTED


def test_openai_shaped_stream_parses_too():
    events = parse(oai_stream(["Hi"], completion=1))
    assert [e.get("choices", [{}])[0].get("delta") for e in events] == [
        {"role": "assistant", "content": ""}, {"content": "Hi", "reasoning_content": None}, {}, None]


@pytest.mark.parametrize("text", [
    ": keep-alive\n\ndata: {\"response\":\"a\"}\n\ndata: [DONE]\n\n",
    "event: message\nid: 1\nretry: 1000\ndata: {\"response\":\"a\"}\n\ndata: [DONE]\n\n",
    "data: {\"response\":\"a\"}\n\ndata: [DONE]\n\n",
    "data:{\"response\":\"a\"}\n\ndata:[DONE]\n\n",
    "\n\n\n\ndata: {\"response\":\"a\"}\n\n\n\ndata: [DONE]",
    "data: {\"response\":\"a\"}\n\ndata: [DONE]",  # the last event needs no blank line after it
    "data: {\"response\":\"a\"}\n\ndata: [DONE]\n\ndata: {\"response\":\"after\"}\n\n",
])
def test_ignores_non_data_lines_and_stops_at_done(text):
    assert parse([text]) == [{"response": "a"}]


def test_an_event_may_spread_its_data_over_several_lines():
    assert parse(['data: {"response":\ndata: "a"}\n\ndata: {"response":"b"}\n\ndata: [DONE]\n\n']) == [
        {"response": "a"}, {"response": "b"}]


def test_empty_stream_with_done():
    assert parse(["", "data: [DONE]\n\n"]) == []


@pytest.mark.parametrize("chunks", [[], ['data: {"response":"a"}\n\n'], ['data: {"response":"a"}\n\ndata: [DO']])
def test_a_stream_cut_before_done_is_an_upstream_error(chunks):
    with pytest.raises(UpstreamError):
        parse(chunks)


def test_an_event_that_is_not_json_is_an_upstream_error():
    with pytest.raises(UpstreamError) as raised:
        parse(['data: {"response":"a"}\n\n', 'data: {"response": "cut off\n\n', "data: [DONE]\n\n"])
    assert (raised.value.status, raised.value.message) == (502, "Workers AI sent a stream event that is not JSON.")


async def _failing(exc):
    yield "data: 1\n\n"
    raise exc


def _guarded(exc):
    logged = []

    async def collect():
        return [f async for f in sse.guarded(_failing(exc), logged.append, "req_1")]
    return run(collect()), logged


def test_guarded_turns_api_errors_into_an_error_event():
    frames, logged = _guarded(RateLimited("Slow down."))
    assert frames == ["data: 1\n\n", sse.frame(error("Slow down.", type="rate_limit_error",
                                                     code="rate_limit_exceeded"))]
    assert logged == []


def test_guarded_hides_unexpected_errors():
    frames, logged = _guarded(KeyError("secret"))
    assert frames == ["data: 1\n\n", sse.frame(error(
        "The server had an error while processing your request. Sorry about that!", type="server_error"))]
    assert logged == ["req_1 stream failed: KeyError: 'secret'"]
