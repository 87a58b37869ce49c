"""api.batches.jsonl: lines read a window at a time (split anywhere, CRLF, blank lines, ranges,
overlong lines skipped without being held), and each line's checks."""
import json

import pytest

from api.batches import jsonl
from fakes import MemoryBinary
from unit.support import run

ENDPOINT = "/v1/chat/completions"


def read(deps, data: bytes, start=0, end=None, number=1) -> list:
    deps.blobs.objects["k"] = MemoryBinary(data)

    async def collect():
        return [(line.number, line.offset, line.data) async for line in jsonl.lines(deps, "k", start, end, number)]
    return run(collect())


@pytest.mark.parametrize("window", [1, 2, 3, 7, 1024])
def test_lines_whatever_the_window(deps, monkeypatch, window):
    monkeypatch.setattr(jsonl, "WINDOW_BYTES", window)
    data = b'{"a":1}\r\n\n  \n{"b":22}\n{"c":3}'
    assert read(deps, data) == [(1, 0, b'{"a":1}'), (4, 13, b'{"b":22}'), (5, 22, b'{"c":3}')]


def test_a_range_of_lines(deps, monkeypatch):
    monkeypatch.setattr(jsonl, "WINDOW_BYTES", 4)
    data = b"one\ntwo\nthree\nfour\n"
    assert read(deps, data, 4, 14, 2) == [(2, 4, b"two"), (3, 8, b"three")]
    assert deps.blobs.ranges == 3  # only the range is read


def test_an_overlong_line_is_skipped_not_held(deps, monkeypatch):
    monkeypatch.setattr(jsonl, "WINDOW_BYTES", 4)
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 6)
    assert read(deps, b"short\n" + b"x" * 20 + b"\nok") == [(1, 0, b"short"), (2, 6, None), (3, 27, b"ok")]


def test_a_missing_object(deps):
    with pytest.raises(jsonl.MissingInput):
        run(_drain(jsonl.lines(deps, "nothing")))


async def _drain(lines):
    return [line async for line in lines]


def line(value, number=3) -> jsonl.Line:
    return jsonl.Line(number, 0, value if isinstance(value, bytes) else json.dumps(value).encode())


GOOD = {"custom_id": "x", "method": "POST", "url": ENDPOINT, "body": {"model": "m"}}


def test_a_good_line():
    assert jsonl.check(line(GOOD), ENDPOINT) == jsonl.Request("x", {"model": "m"})


@pytest.mark.parametrize("value,code,param", [
    (b"{not json", "invalid_json_line", None),
    (b"\xff\xfe", "invalid_json_line", None),
    (b"[" * 100_000, "invalid_json_line", None),
    ([GOOD], "invalid_json_line", None),
    ({**GOOD, "custom_id": None}, "missing_required_parameter", "custom_id"),
    ({k: v for k, v in GOOD.items() if k != "method"}, "missing_required_parameter", "method"),
    ({k: v for k, v in GOOD.items() if k != "url"}, "missing_required_parameter", "url"),
    ({k: v for k, v in GOOD.items() if k != "body"}, "missing_required_parameter", "body"),
    ({**GOOD, "custom_id": 7}, "invalid_value", "custom_id"),
    ({**GOOD, "custom_id": ""}, "invalid_value", "custom_id"),
    ({**GOOD, "method": "GET"}, "invalid_method", "method"),
    ({**GOOD, "url": "/v1/embeddings"}, "invalid_url", "url"),
    ({**GOOD, "body": [1]}, "invalid_value", "body"),
    (None, "line_too_long", None),
])
def test_bad_lines(value, code, param):
    bad = jsonl.Line(3, 0, None) if value is None else line(value)
    with pytest.raises(jsonl.LineError) as raised:
        jsonl.check(bad, ENDPOINT)
    wired = raised.value.wire()
    assert (wired["code"], wired["param"], wired["line"]) == (code, param, 3)
    assert wired["message"].startswith("Line 3")
