"""Bounds on a multipart/form-data body's framing, checked as the body streams in, before the
runtime parses it: the runtime's parser (workerd `FormData::parseFormDataImpl`) takes any number of
parts with headers of any size, synchronously, so one body of a few hundred thousand parts or
megabytes of part headers holds the isolate (and every request in it) for seconds. The check
follows that parser's framing: parts start after `--boundary` and then each `\\n--boundary`; a
part's headers end at the first `\\r?\\n\\r?\\n`."""
import re

from api.errors import InvalidRequest

MAX_PARTS = 100  # OpenAI's largest forms (image edits with 16 images) have a few dozen fields
MAX_PART_HEADER_BYTES = 16 * 1024  # a part's header lines; a long filename is a few hundred bytes
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


class FramingCheck:
    """Fed the body's chunks as they arrive: InvalidRequest as soon as it has more than MAX_PARTS
    parts or a part whose headers exceed MAX_PART_HEADER_BYTES. It keeps only what a delimiter or
    a part's headers may still need, and looks at each byte a bounded number of times however the
    body is cut; framing the runtime refuses anyway is left for it to report."""

    def __init__(self, boundary: str):
        self.first = b"--" + boundary.encode()
        self.delimiter = b"\n" + self.first
        self.state, self.parts = "preamble", 0
        self.pending, self.scanned = bytearray(), 0  # bytes not yet consumed; how far headers were searched

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        while self.state != "done" and self._step():
            pass

    def _step(self) -> bool:
        """One move of the state machine; False when it needs more bytes."""
        data = self.pending
        if self.state in ("preamble", "body"):
            needle = self.first if self.state == "preamble" else self.delimiter
            found = data.find(needle)
            if found < 0:
                del data[:max(0, len(data) - len(needle) + 1)]
                return False
            del data[:found + len(needle)]
            self.state = "delimited"
        elif self.state == "delimited":
            if len(data) < 2 and data in (b"", b"\r", b"-"):
                return False
            if not data.startswith((b"\n", b"\r\n")):
                self.state = "done"  # the end (--), or framing the runtime refuses
                return False
            self.parts += 1
            if self.parts > MAX_PARTS:
                raise _invalid(f"it has more than {MAX_PARTS} parts")
            del data[:1 if data.startswith(b"\n") else 2]
            self.state, self.scanned = "headers", 0
        else:
            ending = _HEADERS_END.search(data, max(0, self.scanned - 3), MAX_PART_HEADER_BYTES + 4)
            if ending is None or ending.end() > MAX_PART_HEADER_BYTES:
                if ending is None and len(data) < MAX_PART_HEADER_BYTES + 4:
                    self.scanned = len(data)
                    return False
                raise _invalid(f"part {self.parts} has more than {MAX_PART_HEADER_BYTES} bytes of headers")
            del data[:ending.end()]
            self.state = "body"
        return True


def _invalid(why: str) -> InvalidRequest:
    return InvalidRequest(f"The multipart/form-data body could not be parsed: {why}.", code="invalid_multipart")
