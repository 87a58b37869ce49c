"""api.multipart: the boundary parameter, and the framing bounds (part count, part-header size)
checked chunk by chunk as a body streams in, with the same verdict however it is cut."""
import random
import time

import pytest

from api import multipart
from api.errors import InvalidRequest
from api.multipart import MAX_PART_HEADER_BYTES, MAX_PARTS
from api.web import MAX_UPLOAD

B = "XyZ-42"


def part(name: str, value: str = "v", extra: str = "", newline: str = "\r\n") -> str:
    return f'--{B}{newline}Content-Disposition: form-data; name="{name}"{extra}{newline}{newline}{value}{newline}'


def form(*parts: str, newline: str = "\r\n") -> bytes:
    return ("".join(parts) + f"--{B}--{newline}").encode()


def check(body: bytes, boundary: str = B) -> None:
    """Runs the check on the body cut into chunks of 64 KiB (as the runtime streams it), on the
    whole body, and on random cuts: the verdicts must agree."""
    verdicts = set()
    rng = random.Random(len(body))
    small = len(body) < 1_000_000
    for cuts in ([65536], [len(body) or 1], [rng.randint(1, 97) for _ in range(8)] if small else [], [1] if small else []):
        if not cuts:
            continue
        check, at, sizes = multipart.FramingCheck(boundary), 0, iter(cuts * (len(body) // min(cuts) + 2))
        try:
            while at < len(body):
                size = next(sizes)
                check.feed(body[at:at + size])
                at += size
            verdicts.add(None)
        except InvalidRequest as exc:
            verdicts.add(exc.message)
            error = exc
    assert len(verdicts) == 1, verdicts
    if verdicts != {None}:
        raise error


def refused(body: bytes) -> str:
    with pytest.raises(InvalidRequest) as raised:
        check(body)
    assert (raised.value.status, raised.value.code) == (400, "invalid_multipart")
    return raised.value.message


@pytest.mark.parametrize("content_type,boundary", [
    (f"multipart/form-data; boundary={B}", B),
    (f'multipart/form-data; charset=utf-8; BOUNDARY="{B}"', B),
    ("multipart/form-data;boundary=a b'c", "a b'c"),
    ("multipart/form-data; boundary=" + "x" * 70, "x" * 70),
])
def test_boundary(content_type, boundary):
    assert multipart.boundary_of(content_type) == boundary


@pytest.mark.parametrize("content_type", [
    "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + "x" * 71,
    'multipart/form-data; boundary="a\\"b"', 'multipart/form-data; boundary="ends-with-space "',
    "multipart/form-data; boundary=a\\b",
])
def test_no_valid_boundary(content_type):
    with pytest.raises(InvalidRequest) as raised:
        multipart.boundary_of(content_type)
    assert raised.value.code == "invalid_multipart"


@pytest.mark.parametrize("body", [
    form(part("model", "whisper-1"), part("file", "RIFF....", '; filename="a.wav"\r\nContent-Type: audio/wav')),
    form(*(part(f"f{i}") for i in range(MAX_PARTS))),
    form(part("a", extra="; x=\"" + "y" * (MAX_PART_HEADER_BYTES - 200) + '"')),
    form(part("lf", newline="\n"), newline="\n"),
    b"preamble\r\n" + form(part("a")),
    form(part("a", value=f"not a delimiter: --{B}, nor \n-{B}")),
    b"",  # no boundary at all, truncated bodies, a boundary not followed by a line: the runtime
    form(part("a"))[:-20],  # refuses those itself, with its own error
    f"--{B}x".encode(),
])
def test_acceptable_framing(body):
    check(body)


def test_too_many_parts():
    assert f"more than {MAX_PARTS} parts" in refused(form(*(part(f"f{i}") for i in range(MAX_PARTS + 1))))
    # what an attacker sends: the smallest parts the runtime accepts, as many as fit
    tiny = f'--{B}\nContent-Disposition:form-data;name="a"\n\n\n'
    assert "parts" in refused((tiny * (MAX_UPLOAD // len(tiny)) + f"--{B}--").encode())


@pytest.mark.parametrize("headers", [
    'Content-Disposition: form-data; name="a"\r\nX-Pad: ' + "a" * MAX_PART_HEADER_BYTES,
    'Content-Disposition: form-data; name="' + "n" * MAX_PART_HEADER_BYTES + '"',
    'Content-Disposition: form-data; name="a"' + "\r\nX: y" * (MAX_PART_HEADER_BYTES // 5),
    'Content-Disposition: form-data; name="a"\r\nX-Pad: ' + "\r" * (MAX_UPLOAD - 100),
])
def test_oversized_part_headers(headers):
    body = part("ok") + f"--{B}\r\n{headers}\r\n\r\nvalue\r\n"
    assert f"part 2 has more than {MAX_PART_HEADER_BYTES} bytes of headers" in refused(form(body))


def test_large_files_are_checked_quickly_keeping_little():
    data = "0123456789abcdef" * (MAX_UPLOAD // 17)
    body = form(part("file", data, '; filename="big.bin"'), part("purpose", "batch"))
    check = multipart.FramingCheck(B)
    started, kept = time.perf_counter(), 0
    for at in range(0, len(body), 65536):
        check.feed(body[at:at + 65536])
        kept = max(kept, len(check.pending))
    assert time.perf_counter() - started < 1.0
    assert kept < MAX_PART_HEADER_BYTES + 4 and check.parts == 2


@pytest.mark.parametrize("filler", [65536 - 3, 65536 - 40, 65536 + 10])
def test_a_delimiter_across_two_chunks_is_found(filler):
    body = form(part("a", "x" * filler), *(part(f"f{i}") for i in range(MAX_PARTS)))
    assert "parts" in refused(body)
