"""gather(): asyncio.gather that awaits a lone awaitable in the calling task. Imports the stdlib only."""
import asyncio
from typing import Any, Awaitable, List


async def gather(*awaitables: Awaitable[Any], return_exceptions: bool = False) -> List[Any]:
    """Most requests make one model call: a task for it would cost event-loop turns, each a
    setTimeout(0) in Pyodide's loop (and a JS crossing), for nothing run side by side."""
    if len(awaitables) != 1:
        return await asyncio.gather(*awaitables, return_exceptions=return_exceptions)
    try:
        return [await awaitables[0]]
    except Exception as exc:  # noqa: BLE001 - as gather's return_exceptions; cancellation still propagates
        if not return_exceptions:
            raise
        return [exc]
