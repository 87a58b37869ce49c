"""The choices of a streamed completion (n > 1, or one per prompt) as one ordered event stream:
deltas as they arrive, stop sequences enforced per choice, then each choice's finish."""
from contextlib import aclosing
from typing import AsyncIterator, Callable, List, Optional, Sequence, Tuple

from api.generation.outputs import Delta, Generation, Usage, deltas_of
from api.ports import Deps
from api.generation.stops import StopScanner
from api.generation.streams import merged

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


class StopGate:
    """One choice's stop sequences: text is held back while it may begin one, and so are the
    logprobs of held text (logprobs describe only the content that goes out)."""

    def __init__(self, stops: Sequence[str]):
        self.scanner = StopScanner(stops)
        self.pending: List[dict] = []  # logprob entries not yet matched by released text
        self.released_chars = self.covered_chars = 0

    def pass_through(self, delta: Delta) -> Delta:
        if delta.text:
            delta.text = self.scanner.feed(delta.text)
        return self._with_logprobs(delta, delta.text)

    def flush(self) -> Delta:
        return self._with_logprobs(Delta(), self.scanner.flush())

    def _with_logprobs(self, delta: Delta, text: str) -> Delta:
        delta.text = text
        self.released_chars += len(text)
        if delta.logprobs:
            self.pending += delta.logprobs.get("content") or []
        released = []
        while self.pending and self.covered_chars + len(self.pending[0].get("token", "")) <= self.released_chars:
            entry = self.pending.pop(0)
            self.covered_chars += len(entry.get("token", ""))
            released.append(entry)
        delta.logprobs = {"content": released, "refusal": None} if released else None
        return delta


class ChoiceStream:
    def __init__(self, choices: list, stops: Sequence[str]):
        self.choices, self.stops = choices, list(stops)
        self.usage = Usage()  # the total, once the events are drained

    async def events(self) -> AsyncIterator[Event]:
        gates = [StopGate(self.stops) if self.stops else None for _ in self.choices]
        stopped = set()
        async with aclosing(merged([c.deltas() for c in self.choices])) as items:
            async for index, delta in items:
                if index in stopped:
                    continue
                gate = gates[index]
                if gate:
                    delta = gate.pass_through(delta)
                if delta:
                    yield index, delta, None
                if gate and gate.scanner.stopped:
                    stopped.add(index)
                    yield index, None, "stop"
                    if len(stopped) == len(self.choices):
                        break  # every choice is complete: stop reading (and paying for) the rest
        for index, choice in enumerate(self.choices):
            reason, used = choice.ending()
            self.usage += used
            if index not in stopped:
                tail = gates[index].flush() if gates[index] else None
                if tail:
                    yield index, tail, None
                yield index, None, reason
