"""The choices of a streamed completion (n > 1, or one per prompt) as one ordered event stream:
deltas as they arrive, stop sequences enforced per choice, then each choice's finish."""
from contextlib import aclosing
from typing import AsyncIterator, Callable, List, Optional, Sequence, Tuple

from api.outputs import Delta, Generation, Usage, deltas_of
from api.ports import Deps
from api.stops import StopScanner
from api.streams import merged

Event = Tuple[int, Optional[Delta], Optional[str]]  # (choice index, delta, finish reason)


def tool_ids(deps: Deps) -> Callable[[], str]:
    """New tool-call ids: call_ + 9 characters, the length every model family accepts back."""
    return lambda: deps.new_id("call_")[:14]


class WholeChoice:
    """A whole result played back as a stream, for models or modes that cannot stream."""

    def __init__(self, result: Generation):
        self.result = result

    async def deltas(self) -> AsyncIterator[Delta]:
        for delta in deltas_of(self.result):
            yield delta

    def ending(self) -> Tuple[str, Usage]:
        return self.result.finish_reason, self.result.usage


class ChoiceStream:
    def __init__(self, choices: list, stops: Sequence[str]):
        self.choices, self.stops = choices, list(stops)
        self.usage = Usage()  # the total, once the events are drained

    async def events(self) -> AsyncIterator[Event]:
        scanners = [StopScanner(self.stops) for _ in self.choices]
        stopped = set()
        async with aclosing(merged([c.deltas() for c in self.choices])) as items:
            async for index, delta in items:
                if index in stopped:
                    continue
                if delta.text and self.stops:
                    delta.text = scanners[index].feed(delta.text)
                if delta:
                    yield index, delta, None
                if scanners[index].stopped:
                    stopped.add(index)
                    yield index, None, "stop"
                    if len(stopped) == len(self.choices):
                        break  # every choice is complete: stop reading (and paying for) the rest
        for index, choice in enumerate(self.choices):
            reason, used = choice.ending()
            self.usage += used
            if index not in stopped:
                tail = scanners[index].flush()
                if tail:
                    yield index, Delta(text=tail), None
                yield index, None, reason
