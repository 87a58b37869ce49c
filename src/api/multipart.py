"""Bounds on a multipart/form-data body's framing, checked before the runtime parses it: the
runtime's parser (workerd `FormData::parseFormDataImpl`) takes any number of parts with headers of
any size, synchronously, so one body of a few hundred thousand parts or megabytes of part headers
holds the isolate (and every request in it) for seconds. The scan follows that parser's framing:
parts start after `--boundary` and then each `\\n--boundary`; a part's headers end at the first
`\\r?\\n\\r?\\n`."""
import re
from typing import Callable

from api.errors import InvalidRequest

MAX_PARTS = 100  # OpenAI's largest forms (image edits with 16 images) have a few dozen fields
MAX_PART_HEADER_BYTES = 16 * 1024  # a part's header lines; a long filename is a few hundred bytes
WINDOW = 1 << 20  # bytes copied out of the runtime at a time while looking for delimiters
Read = Callable[[int, int], bytes]  # (start, end) → those bytes of the body
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")  # RFC 2046 bchars


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart/form-data content type, as RFC 2046 allows it."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if _BOUNDARY.fullmatch(value):
                return value
            break
    raise _invalid("its content type has no valid boundary parameter")


def check_framing(read: Read, size: int, boundary: str) -> None:
    """InvalidRequest if the body has more than MAX_PARTS parts or a part whose headers exceed
    MAX_PART_HEADER_BYTES. Framing the runtime refuses anyway is left for it to report."""
    body = _Body(read, size)
    at = body.find(b"--" + boundary.encode(), 0)
    delimiter = b"\n--" + boundary.encode()
    parts = 0
    while at >= 0:
        at += len(delimiter) - (1 if parts == 0 else 0)
        follows = body.read(at, at + 2)
        if follows.startswith(b"--") or not follows.startswith((b"\n", b"\r\n")):
            return  # the end, or framing the runtime refuses
        at += 1 if follows.startswith(b"\n") else 2
        parts += 1
        if parts > MAX_PARTS:
            raise _invalid(f"it has more than {MAX_PARTS} parts")
        window = body.read(at, at + MAX_PART_HEADER_BYTES + 4)
        ending = _HEADERS_END.search(window)
        if ending is None and len(window) <= MAX_PART_HEADER_BYTES:
            return  # the body ends inside the headers
        if ending is None or ending.end() > MAX_PART_HEADER_BYTES:
            raise _invalid(f"part {parts} has more than {MAX_PART_HEADER_BYTES} bytes of headers")
        at = body.find(delimiter, at + ending.end())


class _Body:
    """The body seen through `read`, a window at a time: never copied whole."""

    def __init__(self, read: Read, size: int):
        self._read, self.size = read, size

    def read(self, start: int, end: int) -> bytes:
        return self._read(start, min(end, self.size)) if start < self.size else b""

    def find(self, needle: bytes, start: int) -> int:
        while start < self.size:
            found = self.read(start, start + WINDOW + len(needle) - 1).find(needle)
            if found >= 0:
                return start + found
            start += WINDOW
        return -1


def _invalid(why: str) -> InvalidRequest:
    return InvalidRequest(f"The multipart/form-data body could not be parsed: {why}.", code="invalid_multipart")
