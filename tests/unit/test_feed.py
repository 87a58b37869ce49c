"""api.feed: a push resumes the task reading the Feed before the push returns (no loop turn), with the
task's full semantics kept (timeouts, cancellation, merging); the producer is held back when the
reader lags; an error ends the Feed after what was buffered."""
import asyncio

import pytest

from api.feed import MAX_AHEAD, Feed
from api.generation.streams import merged
from unit.support import LLAMA, USER, drain, payloads, post, run


async def reader(feed, got):
    async for piece in feed:
        got.append(piece)


def test_a_push_resumes_the_reading_task_before_it_returns():
    async def go():
        feed, got, seen = Feed(), [], []
        task = asyncio.ensure_future(reader(feed, got))
        await asyncio.sleep(0)  # the task waits on the feed

        def push():  # as the edge's JS callback does: outside any task
            for piece in "ab":
                feed.put(piece)
                seen.append(list(got))
            feed.end()
        asyncio.get_running_loop().call_soon(push)
        await task
        return seen, got
    assert run(go()) == ([["a"], ["a", "b"]], ["a", "b"])


def test_a_push_from_inside_a_task_resumes_the_reader_on_the_next_loop_turn():
    async def go():
        feed, got = Feed(), []
        task = asyncio.ensure_future(reader(feed, got))
        await asyncio.sleep(0)
        feed.put("a")
        before = list(got)
        feed.end()
        await task
        return before, got
    assert run(go()) == ([], ["a"])


def test_timeouts_and_cancellation_work_on_a_task_waiting_for_a_feed():
    async def go():
        feed = Feed()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):  # needs a current task: the reader always has one
                await feed.__anext__()
        task = asyncio.ensure_future(feed.__anext__())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        feed.put("still readable")
        return await feed.__anext__()
    assert run(go()) == "still readable"


def test_the_producer_is_held_back_while_the_reader_lags_and_let_go_when_it_catches_up():
    async def go():
        feed = Feed()
        waits = [feed.put(str(i)) for i in range(MAX_AHEAD)]
        assert waits[:-1] == [None] * (MAX_AHEAD - 1) and waits[-1] is not None
        held, read = waits[-1], 0
        while not held.done() and read < MAX_AHEAD:
            await feed.__anext__()
            read += 1
        return held.done(), len(feed.pieces)
    assert run(go()) == (True, MAX_AHEAD // 2 - 1)


def test_an_error_ends_the_feed_after_the_buffered_pieces():
    async def go():
        feed, got = Feed(), []
        for piece in "ab":
            feed.put(piece)
        feed.end(ValueError("cut"))
        with pytest.raises(ValueError, match="cut"):
            await reader(feed, got)
        return got
    assert run(go()) == ["a", "b"]


def test_closing_stops_the_producer_once_and_lets_a_held_producer_go():
    stopped = []

    async def go():
        feed = Feed(on_close=lambda: stopped.append(True))
        held = [feed.put(str(i)) for i in range(MAX_AHEAD)][-1]
        await feed.aclose()
        await feed.aclose()
        assert feed.put("late") is None
        with pytest.raises(StopAsyncIteration):
            await feed.__anext__()
        return held.done()
    assert run(go()) is True and stopped == [True]


def test_finishing_takes_no_more_pieces_and_lets_the_producer_end_by_itself():
    stopped = []

    async def go():
        feed = Feed(on_close=lambda: stopped.append(True))
        held = [feed.put(str(i)) for i in range(MAX_AHEAD)][-1]
        feed.finish()
        await feed.aclose()  # what the reader's `async with aclosing(...)` does next
        assert feed.put("late") is None
        with pytest.raises(StopAsyncIteration):
            await feed.__anext__()
        return held.done()
    assert run(go()) is True and stopped == []


@pytest.mark.parametrize("content,sent,cut", [("one two", "one two ", False), ("one STOP two", "one ", True)])
def test_a_stream_read_to_its_done_is_not_stopped_and_one_cut_by_a_stop_sequence_is(deps, content, sent, cut):
    """The upstream is stopped only when the reader leaves before the model's [DONE]."""
    stopped = []
    upstream = Feed(on_close=lambda: stopped.append(True))

    async def stream(model, inputs, options=None):
        for word in content.split():
            upstream.put(f'data: {{"response":"{word} "}}\n\n')
        upstream.put('data: {"response":"","usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n')
        return upstream
    deps.ai.stream = stream
    response = post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER], "stream": True,
                                                     "stop": "STOP"})

    async def read():
        return [frame async for frame in response.events]
    chunks = [p for p in payloads(run(read())) if p != "[DONE]"]
    assert "".join(p["choices"][0]["delta"].get("content") or "" for p in chunks) == sent
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and stopped == ([True] if cut else [])


def test_feeds_merged_by_tasks_are_read_as_they_are_pushed():
    async def go():
        feeds, got = [Feed(), Feed()], []

        async def read():
            async for index, piece in merged(feeds):
                got.append(f"{index}{piece}")
        task = asyncio.ensure_future(read())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        feeds[1].put("b")
        feeds[0].put("a")
        for feed in feeds:
            feed.end()
        await task
        return got
    assert run(go()) == ["1b", "0a"]


def test_a_client_leaving_while_the_model_is_silent_closes_the_upstream_and_records_usage(deps):
    """What the edge does when the body is cancelled: it cancels the task running the frames, which
    wait for the model; the engine's finally still bills what was streamed."""
    stopped = []
    upstream = Feed(on_close=lambda: stopped.append(True))

    async def stream(model, inputs, options=None):
        return upstream
    deps.ai.stream = stream
    response = post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER], "stream": True})

    async def leave_after_one_piece():
        sent = []

        async def pump():
            async for frame in response.events:
                sent.append(frame)
        task = asyncio.ensure_future(pump())
        await asyncio.sleep(0)
        asyncio.get_running_loop().call_soon(upstream.put, 'data: {"response":"one "}\n\n')
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await drain(deps)
        return sent
    sent = run(leave_after_one_piece())
    assert [p["choices"][0]["delta"] for p in payloads(sent)] == [{"role": "assistant", "content": ""},
                                                                  {"content": "one "}]
    assert stopped == [True]
    assert [(e["model"], e["completion_tokens"]) for e in deps.jobs.sent] == [(LLAMA, 1)]
