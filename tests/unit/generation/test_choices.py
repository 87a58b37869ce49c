"""api.generation.choices: several choices as one event stream — deltas as they arrive, stop sequences per choice,
each choice's finish, usage summed — and whole results played back as streams."""
from types import SimpleNamespace

import pytest

from api.generation.choices import ChoiceStream, WholeChoice, tool_ids
from api.generation.outputs import Delta, Generation, ToolCall, Usage
from unit.support import run


class Scripted:
    """A choice whose deltas are given; raises `then` after them, if given."""

    def __init__(self, texts, reason="stop", usage=Usage(1, 1), then=None):
        self.texts, self.reason, self.usage, self.then = texts, reason, usage, then
        self.read = 0

    async def deltas(self):
        for text in self.texts:
            self.read += 1
            yield text if isinstance(text, Delta) else Delta(text=text)
        if self.then:
            raise self.then

    def ending(self):
        return self.reason, self.usage


def events(choices, stops=()):
    """([(choice index, (text, reasoning) or None, finish reason or None)], total usage)."""
    stream = ChoiceStream(choices, stops)

    async def collect():
        return [(i, (d.text, d.reasoning) if d else None, r) async for i, d, r in stream.events()]
    return run(collect()), stream.usage


def per_choice(got):
    texts, reasons = {}, {}
    for index, delta, reason in got:
        if delta:
            texts[index] = texts.get(index, "") + delta[0]
        if reason:
            assert index not in reasons, "one finish per choice"
            reasons[index] = reason
    return texts, reasons


def test_one_choice_without_stops():
    got, usage = events([Scripted(["Hel", "lo"], "length", Usage(3, 2))])
    assert got == [(0, ("Hel", ""), None), (0, ("lo", ""), None), (0, None, "length")]
    assert usage == Usage(3, 2)


def test_each_choice_stops_on_its_own_and_usage_is_summed():
    choices = [Scripted(["a\nb"], "length", Usage(2, 5)), Scripted(["no stop here"], "length", Usage(2, 3)),
               Scripted(["x", "y\n", "z"], "stop", Usage(2, 4, 1))]
    got, usage = events(choices, ["\n"])
    assert per_choice(got) == ({0: "a", 1: "no stop here", 2: "xy"}, {0: "stop", 1: "length", 2: "stop"})
    assert usage == Usage(6, 12, 1)


def test_held_text_is_flushed_before_the_finish():
    got, _ = events([Scripted(["ab", "EN"])], ["END"])
    assert got == [(0, ("ab", ""), None), (0, ("EN", ""), None), (0, None, "stop")]


def test_deltas_after_a_stop_are_dropped_including_reasoning_and_tool_calls():
    late = [Delta(reasoning="more"), Delta(tool_calls=[{"index": 0}])]
    got, _ = events([Scripted(["a.", "b", *late], "tool_calls"), Scripted(["c", "d"])], ["."])
    assert [g for g in got if g[0] == 0] == [(0, ("a", ""), None), (0, None, "stop")]


def test_reasoning_is_never_cut():
    got, _ = events([Scripted([Delta(reasoning="Hm. So."), "Yes. No."])], ["."])
    assert got == [(0, ("", "Hm. So."), None), (0, ("Yes", ""), None), (0, None, "stop")]


def test_once_every_choice_stopped_nothing_more_is_read():
    first = Scripted(["done.", "never read"], then=RuntimeError("never raised"))
    got, _ = events([first], ["."])
    assert (per_choice(got), first.read) == (({0: "done"}, {0: "stop"}), 1)


def test_an_error_in_any_choice_ends_the_stream():
    with pytest.raises(ConnectionError):
        events([Scripted(["a"]), Scripted(["b"], then=ConnectionError("lost"))])


def test_a_whole_result_played_back():
    whole = Generation("Hi", "tool_calls", Usage(4, 2), reasoning="Hm", tool_calls=[ToolCall("call_a", "f", "{}")])
    choice = WholeChoice(whole)

    async def collect():
        return [d async for d in choice.deltas()]
    assert run(collect()) == [Delta(reasoning="Hm"), Delta(text="Hi"), Delta(tool_calls=[
        {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}]),
        Delta(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}])]
    assert choice.ending() == ("tool_calls", Usage(4, 2))


def test_whole_results_with_stops_mixed_with_streams():
    whole = WholeChoice(Generation("already cut", "stop", Usage(1, 2)))
    got, usage = events([whole, Scripted(["x|y"], "length")], ["|"])
    assert per_choice(got) == ({0: "already cut", 1: "x"}, {0: "stop", 1: "stop"})
    assert usage == Usage(2, 3)


def test_tool_ids_are_call_and_nine_characters():
    deps = SimpleNamespace(new_id=lambda prefix: prefix + "0123456789abcdef")
    assert tool_ids(deps)() == "call_012345678"
