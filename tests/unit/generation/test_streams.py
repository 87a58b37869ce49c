"""api.generation.streams.merged: items in the order they arrive, tagged with their stream's index; the first
error raised; one stream read directly."""
import asyncio

import pytest

from api.generation.streams import merged
from unit.support import run

END = object()


class Feed:
    """An async stream the test drives item by item."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.closed = False

    async def items(self):
        try:
            while (item := await self.queue.get()) is not END:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.closed = True


async def settle():
    for _ in range(10):
        await asyncio.sleep(0)


async def drive(script, count):
    """Send each (stream index, item) of `script` and wait until it comes out of merged; then end
    the streams. Returns what came out."""
    feeds = [Feed() for _ in range(count)]
    got = []

    async def consume():
        async for pair in merged([f.items() for f in feeds]):
            got.append(pair)
    consumer = asyncio.ensure_future(consume())
    for step, (index, item) in enumerate(script, 1):
        feeds[index].queue.put_nowait(item)
        while len(got) < step:
            await asyncio.sleep(0)
    for feed in feeds:
        feed.queue.put_nowait(END)
    await consumer
    return got


async def items(*values, then=None):
    for value in values:
        yield value
    if then is not None:
        raise then


@pytest.mark.parametrize("script", [
    [(0, "a"), (1, "b"), (0, "c")],
    [(1, "x"), (1, "y"), (0, "z"), (2, "w"), (0, "v")],
    [(2, "late"), (1, "later"), (0, "last")],
])
def test_items_come_in_the_order_they_arrive(script):
    assert run(drive(script, 3)) == script


def test_every_item_of_every_stream():
    async def collect():
        return [pair async for pair in merged([items(1, 2, 3), items(), items("a", "b")])]
    got = run(collect())
    assert sorted(got, key=repr) == sorted([(0, 1), (0, 2), (0, 3), (2, "a"), (2, "b")], key=repr)
    assert [v for i, v in got if i == 0] == [1, 2, 3] and [v for i, v in got if i == 2] == ["a", "b"]


def test_no_streams_no_items():
    async def collect():
        return [pair async for pair in merged([items(), items()])]
    assert run(collect()) == []


def test_the_first_error_is_raised_and_the_other_streams_are_stopped():
    failure = ConnectionResetError("upstream went away")

    async def scenario():
        feeds = [Feed(), Feed()]
        got = []

        async def consume():
            async for pair in merged([f.items() for f in feeds]):
                got.append(pair)
        consumer = asyncio.ensure_future(consume())
        feeds[0].queue.put_nowait("a")
        await settle()
        feeds[1].queue.put_nowait(failure)
        with pytest.raises(ConnectionResetError) as raised:
            await consumer
        await settle()
        return got, raised.value, feeds[0].closed
    got, raised, other_closed = run(scenario())
    assert (got, raised, other_closed) == ([(0, "a")], failure, True)


def test_closing_early_stops_the_streams():
    async def scenario():
        feeds = [Feed(), Feed()]
        stream = merged([f.items() for f in feeds])
        feeds[1].queue.put_nowait("first")
        first = await stream.__anext__()
        await stream.aclose()
        await settle()
        return first, [f.closed for f in feeds]
    assert run(scenario()) == ((1, "first"), [True, True])


def test_one_stream_is_read_directly_not_ahead():
    pulled = []

    async def source():
        for value in ("a", "b", "c"):
            pulled.append(value)
            yield value

    async def scenario():
        stream = merged([source()])
        first = await stream.__anext__()
        await settle()
        return first, list(pulled)
    assert run(scenario()) == ((0, "a"), ["a"])


def test_one_stream_errors_pass_straight_through():
    async def collect(seen):
        async for pair in merged([items("a", then=ValueError("bad"))]):
            seen.append(pair)
    seen = []
    with pytest.raises(ValueError):
        run(collect(seen))
    assert seen == [(0, "a")]
