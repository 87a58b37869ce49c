"""Merging several async streams into one, items tagged with their stream's index (n > 1)."""
import asyncio
from contextlib import aclosing
from typing import AsyncIterator, List, Tuple, TypeVar

T = TypeVar("T")
_END = object()


async def merged(streams: List[AsyncIterator[T]]) -> AsyncIterator[Tuple[int, T]]:
    """Items in the order they arrive; the first error from any stream is raised."""
    if len(streams) == 1:
        async with aclosing(streams[0]):
            async for item in streams[0]:
                yield 0, item
        return
    queue: asyncio.Queue = asyncio.Queue()

    async def pump(index: int, stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                await queue.put((index, item, None))
            await queue.put((index, _END, None))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            await queue.put((index, _END, exc))

    tasks = [asyncio.ensure_future(pump(i, s)) for i, s in enumerate(streams)]
    try:
        running = len(tasks)
        while running:
            index, item, error = await queue.get()
            if error is not None:
                raise error
            if item is _END:
                running -= 1
            else:
                yield index, item
    finally:
        for task in tasks:
            task.cancel()
