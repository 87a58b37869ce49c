"""A batch's JSONL input read from R2 a window at a time (a 128 MB isolate never holds the whole
file), line by line, and each line checked the way OpenAI checks them before a batch starts."""
import json
from dataclasses import dataclass
from typing import AsyncIterator, Optional

from api.ports import Deps

WINDOW_BYTES = 1024 * 1024  # bytes per ranged read
MAX_LINE_BYTES = 16 * 1024 * 1024  # as a request body of the live endpoints (api.web.MAX_BODY)
METHOD = "POST"


class MissingInput(Exception):
    """The input file's object is gone (deleted while the batch ran)."""


@dataclass
class Line:
    number: int  # 1-based, as OpenAI's errors count lines
    offset: int  # of its first byte in the file
    data: Optional[bytes]  # without its line break; None when over MAX_LINE_BYTES


@dataclass
class Request:
    """A line that passed the checks."""
    custom_id: str
    body: dict


async def lines(deps: Deps, key: str, start: int = 0, end: Optional[int] = None,
                number: int = 1) -> AsyncIterator[Line]:
    """The non-blank lines of bytes [start, end) of the object (to its end when `end` is None),
    the first numbered `number`."""
    position, line_start, parts, size = start, start, [], 0
    while end is None or position < end:
        wanted = WINDOW_BYTES if end is None else min(WINDOW_BYTES, end - position)
        window = await deps.blobs.get_range(key, position, wanted)
        if window is None:
            raise MissingInput(key)
        cut = 0
        while (newline := window.find(b"\n", cut)) != -1:
            line = _line(number, line_start, parts, size, window[cut:newline])
            if line:
                yield line
            number, line_start, parts, size = number + 1, position + newline + 1, [], 0
            cut = newline + 1
        rest = window[cut:]
        size += len(rest)
        if size <= MAX_LINE_BYTES:  # an overlong line is skipped to its end, never held
            parts.append(rest)
        position += len(window)
        if len(window) < wanted:
            break
    line = _line(number, line_start, parts, size, b"")
    if line:
        yield line


def _line(number: int, offset: int, parts: list, size: int, tail: bytes) -> Optional[Line]:
    size += len(tail)
    if size > MAX_LINE_BYTES:
        return Line(number, offset, None)
    data = b"".join([*parts, tail]).rstrip(b"\r")
    return Line(number, offset, data) if data.strip() else None


def check(line: Line, endpoint: str) -> Request:
    """The line as a request for `endpoint`, or LineError saying what is wrong with it."""
    if line.data is None:
        raise LineError("line_too_long", f"Line {line.number} is longer than {MAX_LINE_BYTES} bytes.", line)
    try:
        value = json.loads(line.data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise LineError("invalid_json_line", f"Line {line.number} is not valid JSON.", line) from None
    if not isinstance(value, dict):
        raise LineError("invalid_json_line", f"Line {line.number} is not a JSON object.", line)
    for name in ("custom_id", "method", "url", "body"):
        if value.get(name) is None:
            raise LineError("missing_required_parameter",
                            f"Line {line.number} is missing the required parameter '{name}'.", line, name)
    if not isinstance(value["custom_id"], str) or not value["custom_id"]:
        raise LineError("invalid_value", f"Line {line.number}: 'custom_id' must be a non-empty string.",
                        line, "custom_id")
    if value["method"] != METHOD:
        raise LineError("invalid_method", f"Line {line.number}: the method must be '{METHOD}'.", line, "method")
    if value["url"] != endpoint:
        raise LineError("invalid_url", f"Line {line.number}: the url {json.dumps(value['url'])[:100]} does not match "
                        f"the batch's endpoint '{endpoint}'.", line, "url")
    if not isinstance(value["body"], dict):
        raise LineError("invalid_value", f"Line {line.number}: 'body' must be a JSON object.", line, "body")
    return Request(value["custom_id"], value["body"])


class LineError(Exception):
    def __init__(self, code: str, message: str, line: Line, param: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.line, self.param = code, message, line.number, param

    def wire(self) -> dict:
        """An entry of the batch's `errors.data`."""
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}
