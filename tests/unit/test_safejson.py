"""api.safejson: depth and value bounds checked before json.loads, exact at the limits, blind to
brackets and commas inside strings, and quick on hostile bodies of the maximum size."""
import json
import time

import pytest

from api import safejson
from api.safejson import MAX_DEPTH, MAX_VALUES, TooComplex
from api.web import MAX_BODY


def nested(depth: int, open_: str = "[", close: str = "]", leaf: str = "") -> str:
    return open_ * depth + leaf + close * depth


def mixed(depth: int) -> str:
    """{"a": [{"a": [ … ]}]}: objects and arrays alternating, with containers beside them at every
    level (each one level deeper than its neighbour)."""
    text = '{"z": "]]"}'
    for level in range(depth - 2):
        text = f'{{"a": {text}, "b": [1, "x]"]}}' if level % 2 else f'[{text}, {{"c": "{{"}}]'
    return f"[{text}]"


def siblings(depth: int) -> str:
    """Never more than two openers in a row: each level opens after a closed sibling."""
    return "[[]," * (depth - 1) + "0" + "]" * (depth - 1)


def depth_of(value) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max(map(depth_of, children), default=0)


@pytest.mark.parametrize("make", [nested, lambda d: nested(d, "{\"k\":", "}", "1"), mixed, siblings])
def test_depth_64_parses_and_65_is_refused(make):
    assert depth_of(json.loads(make(MAX_DEPTH))) == MAX_DEPTH
    assert safejson.loads(make(MAX_DEPTH)) == json.loads(make(MAX_DEPTH))
    with pytest.raises(TooComplex, match="nested more than 64 levels deep"):
        safejson.loads(make(MAX_DEPTH + 1))


@pytest.mark.parametrize("depth", [1_000, 20_000, MAX_BODY // 2])
def test_hostile_depth_is_refused_quickly(depth):
    text = nested(depth).encode()
    started = time.perf_counter()
    with pytest.raises(TooComplex, match="nested"):
        safejson.loads(text)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("text", [
    json.dumps({"content": "[" * 10_000}),  # brackets in strings are text
    json.dumps({"content": "]" * 10_000 + "[" * 10_000, "x": [[1]]}),
    json.dumps({"content": '\\"[[[' * 5_000}),  # escaped quotes do not end the string
    json.dumps({"content": "\\" * 5_001 + "[" * 5_000}),  # escaped backslashes end before the quote
    json.dumps({"text": ", " * 200_000}),  # commas in strings are not values
    json.dumps([["a[", "{b"]] * 500),
])
def test_strings_are_text(text):
    assert safejson.loads(text) == json.loads(text)


def test_a_string_that_hides_an_escape_trick_still_counts_brackets_after_it():
    # `\\"` is an escaped backslash and then the end of the string: the brackets after it nest.
    text = '["\\\\", ' + nested(MAX_DEPTH + 1) + "]"
    with pytest.raises(TooComplex, match="nested"):
        safejson.loads(text)


@pytest.mark.parametrize("text", [
    "[" + ",".join(["0"] * MAX_VALUES) + "]",
    "[" + ",".join(["[]"] * MAX_VALUES) + "]",
    "[" + ",".join(['"ab"'] * (MAX_VALUES + 1)) + "]",
    "{" + ",".join(f'"k{i}":{{}}' for i in range(MAX_VALUES)) + "}",
])
def test_too_many_values_are_refused(text):
    with pytest.raises(TooComplex, match=f"more than {MAX_VALUES} values"):
        safejson.loads(text)


def test_just_under_the_value_limit_parses():
    text = "[" + ",".join(["1"] * (MAX_VALUES - 2)) + "]"
    assert len(safejson.loads(text)) == MAX_VALUES - 2


@pytest.mark.parametrize("text", [
    b"[" + b"[]," * (MAX_BODY // 3 - 1) + b"0]",  # a list per 3 bytes: gigabytes of lists
    b"[" + b"1," * (MAX_BODY // 2 - 1) + b"0]",
    b"[" + b'"ab",' * (MAX_BODY // 5 - 1) + b"0]",
    b"[" + b"{}," * (MAX_BODY // 3 - 1) + b"0]",
])
def test_hostile_width_is_refused_quickly(text):
    started = time.perf_counter()
    with pytest.raises(TooComplex, match="values"):
        safejson.loads(text)
    assert time.perf_counter() - started < 1.0


def test_large_ordinary_bodies_parse():
    body = {"model": "m", "messages": [{"role": "user", "content": "hello, [world] {é} " * 50_000}] * 15}
    text = json.dumps(body).encode()
    assert len(text) > 10_000_000
    assert safejson.loads(text) == body


@pytest.mark.parametrize("text", [
    '"unterminated ' + "[" * 10_000,  # the parser stops at the unterminated string
    "]" + "[" * 50,  # …at a closer without an opener
    "[" * 50 + "}" + "[" * 10,  # …at the first mismatched closer
])
def test_malformed_text_is_a_parse_error_not_a_crash(text):
    with pytest.raises(ValueError) as raised:
        safejson.loads(text)
    assert not isinstance(raised.value, TooComplex)


def test_bracket_kinds_are_not_matched_so_mismatches_count_as_nesting():
    # The parser would stop at the `}`; counting on instead only ever refuses more, never less.
    with pytest.raises(TooComplex, match="nested"):
        safejson.loads("[" * 50 + "}" + "[" * 50)


def test_bytes_must_be_utf8():
    assert safejson.loads('{"é": 1}'.encode()) == {"é": 1}
    assert safejson.loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a UTF-8 BOM is allowed
    with pytest.raises(ValueError):
        safejson.loads('{"a": 1}'.encode("utf-16"))
