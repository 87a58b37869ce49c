"""Text the edge pushes (a model's stream), read by the core as an async iterator. A push resumes
the task waiting on the Feed at once, inside the push, instead of on the next loop turn: in Pyodide
a loop turn costs ~0.1 ms of CPU (a JS timer and a promise), more than the rest of a token's work."""
import asyncio
from collections import deque
from typing import Callable, Optional

MAX_AHEAD = 64  # pieces pushed and not yet read, before the producer is asked to wait


class Waiter(asyncio.Future):
    """What a Feed's reader awaits while the Feed is empty. A task awaiting it leaves its wake-up
    here (add_done_callback), which wake() calls directly when no task is running (the edge's
    push comes from a JS callback), and otherwise on the next loop turn, as any future does."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        super().__init__(loop=loop)
        self.awaiting: list = []  # (callback, context) of whoever awaits it

    def add_done_callback(self, callback, *, context=None) -> None:
        if self.done():
            self.get_loop().call_soon(callback, self, context=context)
        else:
            self.awaiting.append((callback, context))

    def remove_done_callback(self, callback) -> int:
        kept = [entry for entry in self.awaiting if entry[0] != callback]
        removed, self.awaiting = len(self.awaiting) - len(kept), kept
        return removed

    def cancel(self, msg=None) -> bool:
        cancelled = super().cancel(msg)
        if cancelled:
            self._call(now=False)
        return cancelled

    def wake(self) -> None:
        if not self.done():
            self.set_result(None)
            self._call(now=asyncio.current_task(self.get_loop()) is None)

    def _call(self, now: bool) -> None:
        callbacks, self.awaiting = self.awaiting, []
        for callback, context in callbacks:
            if not now:
                self.get_loop().call_soon(callback, self, context=context)
            elif context is None:
                callback(self)
            else:
                context.run(callback, self)


class Feed:
    """Pieces pushed by the edge (put, then end), read by the core as an async iterator."""

    def __init__(self, on_close: Callable[[], object] = lambda: None):
        self.pieces: deque = deque()
        self.ended = False
        self.error: Optional[BaseException] = None
        self.waiter: Optional[Waiter] = None  # the reader's, while the Feed is empty
        self.caught_up: Optional[asyncio.Future] = None  # the producer's, while the reader lags
        self.on_close = on_close  # the reader stopped early: stop the producer

    def put(self, piece: str) -> Optional[asyncio.Future]:
        """None, or a future for the producer to await: the reader is MAX_AHEAD pieces behind."""
        if self.ended:
            return None
        self.pieces.append(piece)
        self._wake()
        if len(self.pieces) < MAX_AHEAD:
            return None
        if self.caught_up is None:
            self.caught_up = asyncio.get_running_loop().create_future()
        return self.caught_up

    def end(self, error: Optional[BaseException] = None) -> None:
        """No more pieces: the reader gets the ones buffered, then StopAsyncIteration or `error`."""
        if not self.ended:
            self.ended, self.error = True, error
            self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None:
            waiter.wake()

    def __aiter__(self) -> "Feed":
        return self

    async def __anext__(self) -> str:
        while not self.pieces:
            if self.ended:
                if self.error is not None:
                    raise self.error
                raise StopAsyncIteration
            self.waiter = Waiter(asyncio.get_running_loop())
            await self.waiter
        piece = self.pieces.popleft()
        if self.caught_up is not None and len(self.pieces) < MAX_AHEAD // 2:
            self.caught_up.set_result(None)
            self.caught_up = None
        return piece

    def finish(self) -> None:
        """The reader has read all it wants, and the producer ends by itself (its stream said it is
        complete): take no more pieces, but do not stop the producer. Stopping it there (on_close:
        aborting the pipe in workerd) cost each stream ~3 ms before its last byte, for nothing."""
        self.ended = True
        self.pieces.clear()
        if self.caught_up is not None:  # a producer held back goes on, to its end
            self.caught_up.set_result(None)
            self.caught_up = None

    async def aclose(self) -> None:
        """The reader stopped early (a stop sequence, the client gone): stop the producer too."""
        stop = not self.ended
        self.finish()
        if stop:
            self.on_close()
