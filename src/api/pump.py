"""Streams run without an event-loop turn per chunk: the edge pushes input into a Feed, and a Pump
steps the core's async generators by hand, resumed at once when the Feed it waits on gets input.
In Pyodide a loop turn costs ~0.1 ms of CPU (a JS timer and promise), a step by hand microseconds."""
import asyncio
from collections import deque
from contextlib import aclosing
from typing import AsyncIterator, Callable, Optional


class Waiter(asyncio.Future):
    """What a Feed's reader awaits while the Feed is empty. A Pump leaves `resume` on it, to be
    called when the Feed is fed; an asyncio Task (n > 1 streams are merged by tasks) awaits it like
    any future."""
    resume: Optional[Callable] = None


class Feed:
    """Pieces pushed by the edge (put, then end), read by the core as an async iterator."""

    def __init__(self, on_close: Callable[[], object] = lambda: None):
        self.pieces: deque = deque()
        self.ended = False
        self.error: Optional[BaseException] = None
        self.waiter: Optional[Waiter] = None
        self.on_close = on_close  # the reader stopped early: stop the producer

    def put(self, piece: str):
        """Returns what the reader asks the producer to wait for before the next piece, or None."""
        if self.ended:
            return None
        self.pieces.append(piece)
        return self._wake()

    def end(self, error: Optional[BaseException] = None) -> None:
        """No more pieces: the reader gets the ones buffered, then StopAsyncIteration or `error`."""
        if not self.ended:
            self.ended, self.error = True, error
            self._wake()

    def _wake(self):
        waiter, self.waiter = self.waiter, None
        if waiter is None or waiter.done():
            return None
        waiter.set_result(None)
        return waiter.resume(waiter) if waiter.resume else None

    def __aiter__(self) -> "Feed":
        return self

    async def __anext__(self) -> str:
        while not self.pieces:
            if self.ended:
                if self.error is not None:
                    raise self.error
                raise StopAsyncIteration
            self.waiter = Waiter(loop=asyncio.get_running_loop())
            await self.waiter
        return self.pieces.popleft()

    async def aclose(self) -> None:
        if not self.ended:
            self.ended = True
            self.pieces.clear()
            self.on_close()


class Pump:
    """Runs an async iterator of text frames to its end, like an asyncio Task stepping it, but by
    hand: a step ends when the frames wait, and what they produced until then is emitted as one
    text. `emit` may return something the Feed's producer should wait for (backpressure); `done`
    is called once at the end, with None or the exception that escaped the frames."""

    def __init__(self, frames: AsyncIterator[str], emit: Callable[[str], object],
                 done: Callable[[Optional[BaseException]], None]):
        self.coro = self._run(frames)
        self.emit, self.done = emit, done
        self.produced: list = []
        self.awaiting: object = None  # what the frames wait for; a wake-up from anything else is stale
        self.finished = self.cancelled = False

    async def _run(self, frames: AsyncIterator[str]) -> None:
        async with aclosing(frames):
            async for frame in frames:
                self.produced.append(frame)

    def start(self):
        return self._step()

    def cancel(self) -> None:
        """The reader went away: the frames stop where they wait (their finally blocks run)."""
        if not self.finished:
            self.cancelled = True
            self._step(asyncio.CancelledError())

    def _wake(self, awaited):
        if awaited is self.awaiting and not self.finished:
            return self._step()
        return None

    def _step(self, error: Optional[BaseException] = None):
        self.awaiting = None
        ended, escaped = False, None
        try:
            awaited = self.coro.send(None) if error is None else self.coro.throw(error)
            self._wait_for(awaited)
        except (StopIteration, asyncio.CancelledError):
            ended = True
        except BaseException as exc:  # noqa: BLE001 - handed to `done`: the stream must end either way
            ended, escaped = True, exc
        self.finished = self.finished or ended
        text, self.produced = "".join(self.produced), []
        wait = self.emit(text) if text and not self.cancelled else None
        if ended:
            self.done(escaped)
        return wait

    def _wait_for(self, awaited) -> None:
        if isinstance(awaited, Waiter):
            awaited.resume = self._wake
            self.awaiting = awaited
        elif awaited is None:  # a bare yield (asyncio.sleep(0)): go on after a loop turn
            self.awaiting = token = object()
            asyncio.get_running_loop().call_soon(self._wake, token)
        elif asyncio.isfuture(awaited):
            awaited._asyncio_future_blocking = False  # as asyncio.Task does: the await is seen
            self.awaiting = awaited
            awaited.add_done_callback(self._wake)
        else:
            raise RuntimeError(f"a stream awaited {awaited!r}, which is not a future")
