"""api.pump: a Feed's pieces reach the frames and come out of the Pump within the same call, with no
loop turn; anything else awaited resumes through the loop; cancel runs the frames' finally blocks."""
import asyncio

import pytest

from api.generation.streams import merged
from api.pump import Feed, Pump
from unit.support import LLAMA, USER, drain, native_stream, payloads, post, run


class Out:
    """What a Pump emitted, and how it ended."""

    def __init__(self, wait=None):
        self.texts, self.ended, self.wait = [], [], wait

    def emit(self, text):
        self.texts.append(text)
        return self.wait

    def done(self, error):
        self.ended.append(error)


async def upper(feed):
    async for piece in feed:
        yield piece.upper()


def test_each_piece_comes_out_before_put_returns():
    async def go():
        feed, out = Feed(), Out()
        pump = Pump(upper(feed), out.emit, out.done)
        pump.start()
        assert out.texts == []
        feed.put("a")
        assert out.texts == ["A"]  # no loop turn in between
        feed.put("b")
        feed.end()
        return out
    out = run(go())
    assert (out.texts, out.ended) == (["A", "B"], [None])


def test_what_is_buffered_comes_out_as_one_text():
    async def go():
        feed, out = Feed(), Out()
        for piece in "abc":
            feed.put(piece)
        feed.end()
        Pump(upper(feed), out.emit, out.done).start()
        return out
    assert run(go()).texts == ["ABC"]


def test_put_returns_what_emit_asks_the_producer_to_wait_for():
    async def go():
        feed, out = Feed(), Out(wait="later")
        Pump(upper(feed), out.emit, out.done).start()
        wait = feed.put("a")
        feed.end()
        return wait
    assert run(go()) == "later"


def test_other_awaits_resume_through_the_loop():
    async def slow(feed, later):
        async for piece in feed:
            await asyncio.sleep(0)
            yield piece + str(await later)

    async def go():
        feed, out, later = Feed(), Out(), asyncio.get_running_loop().create_future()
        pump = Pump(slow(feed, later), out.emit, out.done)
        pump.start()
        feed.put("a")
        feed.end()
        await asyncio.sleep(0)
        later.set_result(1)
        for _ in range(5):
            await asyncio.sleep(0)
        return out, pump
    out, pump = run(go())
    assert (out.texts, out.ended, pump.finished) == (["a1"], [None], True)


def test_streams_merged_by_tasks_are_fed_too():
    async def tagged(feeds):
        async for index, piece in merged(feeds):
            yield f"{index}{piece} "

    async def go():
        feeds, out = [Feed(), Feed()], Out()
        Pump(tagged(feeds), out.emit, out.done).start()
        await asyncio.sleep(0)  # the tasks start
        feeds[1].put("b")
        feeds[0].put("a")
        for feed in feeds:
            feed.end()
        for _ in range(10):
            await asyncio.sleep(0)
        return out
    out = run(go())
    assert ("".join(out.texts), out.ended) == ("1b 0a ", [None])


def test_an_error_ending_the_feed_reaches_the_frames_after_the_buffered_pieces():
    async def guarded(feed):
        try:
            async for piece in feed:
                yield piece
        except ValueError as exc:
            yield f"error: {exc}"

    async def go():
        feed, out = Feed(), Out()
        Pump(guarded(feed), out.emit, out.done).start()
        feed.put("a")
        feed.put("b")
        feed.end(ValueError("cut"))
        return out
    out = run(go())
    assert (out.texts, out.ended) == (["a", "b", "error: cut"], [None])


def test_an_exception_escaping_the_frames_is_handed_to_done():
    async def broken(feed):
        async for piece in feed:
            yield piece
            raise KeyError(piece)

    async def go():
        feed, out = Feed(), Out()
        Pump(broken(feed), out.emit, out.done).start()
        feed.put("a")
        feed.end()
        return out
    out = run(go())
    assert out.texts == ["a"] and isinstance(out.ended[0], KeyError)


def test_cancel_runs_finally_blocks_closes_the_feed_and_emits_nothing_more():
    events = []

    async def frames(feed):
        try:
            async for piece in feed:
                yield piece
        finally:
            await feed.aclose()
            events.append("finally")

    async def go():
        feed, out = Feed(on_close=lambda: events.append("producer stopped")), Out()
        pump = Pump(frames(feed), out.emit, out.done)
        pump.start()
        feed.put("a")
        pump.cancel()
        assert feed.put("b") is None
        pump.cancel()  # a second cancel is a no-op
        return out, pump
    out, pump = run(go())
    assert events == ["producer stopped", "finally"]
    assert (out.texts, out.ended, pump.finished) == (["a"], [None], True)


def test_a_feed_ignores_pieces_after_its_end_and_closes_its_producer_once():
    stopped = []

    async def go():
        feed = Feed(on_close=lambda: stopped.append(1))
        feed.put("a")
        got = [await feed.__anext__()]
        await feed.aclose()
        await feed.aclose()
        feed.put("b")
        with pytest.raises(StopAsyncIteration):
            await feed.__anext__()
        return got
    assert run(go()) == ["a"] and stopped == [1]


def test_a_client_leaving_while_the_model_is_silent_closes_the_upstream_and_records_usage(deps):
    """What the edge does when the body is cancelled: the frames are waiting for the model, not at
    a yield, so the Pump throws CancelledError into them; the engine's finally still bills."""
    stopped = []
    upstream = Feed(on_close=lambda: stopped.append(True))

    async def stream(model, inputs, options=None):
        return upstream
    deps.ai.stream = stream
    response = post(deps, "/v1/chat/completions", {"model": "gpt-4o", "messages": [USER], "stream": True})

    async def leave_after_one_piece():
        out = Out()
        pump = Pump(response.events, out.emit, out.done)
        pump.start()
        upstream.put(native_stream(["one "])[0])
        pump.cancel()
        await drain(deps)
        return out
    out = run(leave_after_one_piece())
    sent = [frame + "\n\n" for frame in "".join(out.texts).split("\n\n")[:-1]]
    assert [p["choices"][0]["delta"] for p in payloads(sent)] == [{"role": "assistant", "content": ""},
                                                                  {"content": "one "}]
    assert stopped == [True] and out.ended == [None]
    assert [(e["model"], e["completion_tokens"]) for e in deps.jobs.sent] == [(LLAMA, 1)]
