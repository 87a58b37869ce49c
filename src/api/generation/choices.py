"""The choices of a generation (n > 1, or one per prompt) as one ordered event stream: deltas as
they arrive, stop sequences enforced per choice (the one stop algorithm, for whole results too),
then each choice's finish."""
from contextlib import aclosing
from typing import AsyncIterator, Callable, List, Optional, Sequence, Tuple

from api.generation.outputs import Delta, Generation, deltas_of
from api.ports import Deps
from api.usage import Usage
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

    @property
    def stopped(self) -> bool:
        return self.scanner.stopped

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


def stop_whole(result: Generation, stops: Sequence[str]) -> Generation:
    """A whole result through the same gate as a streamed one: cut before the first stop sequence
    to complete, its logprobs with it; generation would have ended there, before any tool call."""
    if not stops or not result.text:
        return result
    gate = StopGate(stops)
    head = gate.pass_through(Delta(text=result.text, logprobs=result.logprobs))
    if gate.stopped:
        result.text, result.finish_reason, result.tool_calls = head.text, "stop", []
        if result.logprobs:
            result.logprobs = {**result.logprobs, "content": (head.logprobs or {}).get("content", [])}
    return result


class ChoiceStream:
    """The choices' deltas as one stream of events: (index, delta, None) as they arrive, then
    (index, None, finish reason) once per choice. Streamed choices pass their stop gate here;
    whole ones come finished. `on_end` gets the total usage when the events end, however they
    end: drained, failed, or closed early because the client went away."""

    def __init__(self, choices: list, stops: Sequence[str], on_end: Optional[Callable[[Usage], None]] = None):
        self.choices, self.stops, self.on_end = choices, list(stops), on_end

    @property
    def usage(self) -> Usage:
        """The total so far: exact once the events are drained, estimated for an early end."""
        return sum((choice.ending()[1] for choice in self.choices), Usage())

    async def events(self) -> AsyncIterator[Event]:
        try:
            async for event in self._events():
                yield event
        finally:
            if self.on_end:
                self.on_end(self.usage)

    async def _events(self) -> AsyncIterator[Event]:
        gates = [StopGate(self.stops) if self.stops and not isinstance(c, WholeChoice) else None
                 for c in self.choices]
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
                if gate and gate.stopped:
                    stopped.add(index)
                    yield index, None, "stop"
                    if len(stopped) == len(self.choices):
                        break  # every choice is complete: stop reading (and paying for) the rest
        for index, choice in enumerate(self.choices):
            if index not in stopped:
                tail = gates[index].flush() if gates[index] else None
                if tail:
                    yield index, tail, None
                yield index, None, choice.ending()[0]
