"""json.loads for text we did not write (request bodies, model output, uploaded files), with the
nesting depth and the number of values bounded *before* parsing: a few thousand nested brackets
overflow Pyodide's stack inside json.loads, which kills the isolate and every request in it, and a
body of millions of tiny values (`[[],[],…]`) grows past the isolate's 128 MB."""
import json
import re
from typing import Any, Union

MAX_DEPTH = 64  # OpenAI's bodies nest a dozen levels at most; JSON schemas are limited to 10
MAX_VALUES = 100_000  # containers + array items + object members: ~20 MB of Python objects at most
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b"[]{},")
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
_RUNS = re.compile(rb"\(+|\)+")


class TooComplex(ValueError):
    """The text nests deeper than MAX_DEPTH or holds more than MAX_VALUES values."""


def loads(text: Union[str, bytes]) -> Any:
    """json.loads, after check(). Bytes must be UTF-8: the check reads the same characters as
    the parser (json.loads alone would also guess UTF-16/32, which the byte scan cannot follow)."""
    if isinstance(text, bytes):
        data, text = text, text.decode("utf-8-sig")
    else:
        data = text.encode("utf-8", "surrogatepass")
    check(data)
    return json.loads(text)


def check(data: bytes) -> None:
    """TooComplex unless the UTF-8 JSON text `data` stays within the bounds. Linear, and at C
    speed: counting the brackets is enough for almost every body; the exact scan strips strings
    (whose brackets and commas are text) with bytes operations, never a loop per character."""
    openers = data.count(b"[") + data.count(b"{")
    if openers <= MAX_DEPTH and openers + data.count(b",") < MAX_VALUES:
        return  # bounds that hold even counting the brackets and commas inside strings
    if b"\\" in data:  # escaped backslashes first, so that `\\"` still ends its string
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    if data.count(b'"') // 2 > MAX_VALUES:
        raise _too_many()
    # Every other piece is the inside of a string; an unterminated last string hides what follows,
    # which the parser never reaches either.
    structure = b"".join(data.split(b'"')[0::2]).translate(None, _NOT_STRUCTURE)
    parens = structure.translate(_AS_PARENS, b",")
    if b"(" * (MAX_DEPTH + 1) in parens:
        raise _too_deep()
    if structure.count(b",") + parens.count(b"(") >= MAX_VALUES:
        raise _too_many()
    depth = 0
    for run in _RUNS.finditer(parens):  # at most one run per bracket, and brackets are bounded now
        depth += len(run[0]) if run[0][0] == ord("(") else -len(run[0])
        if depth > MAX_DEPTH:
            raise _too_deep()
        if depth < 0:
            return  # a closer without an opener: the parser stops there


def _too_deep() -> TooComplex:
    return TooComplex(f"it is nested more than {MAX_DEPTH} levels deep")


def _too_many() -> TooComplex:
    return TooComplex(f"it holds more than {MAX_VALUES} values")
