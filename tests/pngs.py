"""Real PNG files for the image tests, built with zlib and struct (no image library)."""
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rgba=(40, 120, 200, 255)) -> bytes:
    """A solid-colour RGBA PNG of width × height."""
    row = b"\x00" + bytes(rgba) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(row * height)) + _chunk(b"IEND", b""))


def dimensions(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    return struct.unpack(">II", data[16:24])


# --- any PNG the mask decoder reads, each row filtered with a chosen filter type -------------------

def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_row(kind: int, row: bytes, prior: bytes, bpp: int) -> bytes:
    """PNG filter `kind` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) applied to one row: the
    straightforward reference the decoder must invert."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i]
        c = prior[i - bpp] if i >= bpp else 0
        predicted = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        out.append((x - predicted) & 255)
    return bytes([kind]) + bytes(out)


def encode(width: int, height: int, color: int, rows, depth: int = 8, filters=(0,), plte: bytes = None,
           trns: bytes = None, interlace: int = 0, idat_chunks: int = 1) -> bytes:
    """A PNG of `rows` (each the packed sample bytes of one row) with IHDR color type `color` and
    bit depth `depth`; row y uses filter filters[y % len(filters)]; the IDAT data split into
    `idat_chunks` chunks."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 1)  # an invalid type: one channel
    bpp = max(1, channels * depth // 8)
    prior = bytes(len(rows[0]))
    raw = b""
    for y, row in enumerate(rows):
        raw += filter_row(filters[y % len(filters)], row, prior, bpp)
        prior = row
    data = zlib.compress(raw)
    step = -(-len(data) // idat_chunks)
    body = b"".join(_chunk(b"IDAT", data[i:i + step]) for i in range(0, len(data), step))
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    extra = (_chunk(b"PLTE", plte) if plte else b"") + (_chunk(b"tRNS", trns) if trns is not None else b"")
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"tEXt", b"Comment\x00test") + extra
            + body + _chunk(b"IEND", b""))


def rgba_with_hole(width: int, height: int, hole, filters=(0,), seed: int = 7) -> bytes:
    """An RGBA PNG of varied colours and alphas (1–255) with a fully transparent rectangle
    hole = (x0, y0, x1, y1), end exclusive."""
    x0, y0, x1, y1 = hole
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            alpha = 0 if x0 <= x < x1 and y0 <= y < y1 else 1 + (x * 31 + y * 17 + seed) % 255
            row += bytes(((x * 7 + seed) & 255, (y * 13) & 255, (x ^ y) & 255, alpha))
        rows.append(bytes(row))
    return encode(width, height, 6, rows, filters=filters)


def expected_mask(width: int, height: int, hole) -> bytes:
    """What transparent_pixels gives for rgba_with_hole: 255 in the hole, 0 elsewhere."""
    x0, y0, x1, y1 = hole
    return bytes(255 if x0 <= x < x1 and y0 <= y < y1 else 0 for y in range(height) for x in range(width))


def decode_gray(data: bytes):
    """(width, height, pixels) of an 8-bit grayscale PNG whose rows all use filter type 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    assert (depth, color, interlace) == (8, 0, 0)
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        idat += body if kind == b"IDAT" else b""
        at += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == height * (width + 1)
    assert all(raw[y * (width + 1)] == 0 for y in range(height))
    return width, height, b"".join(raw[y * (width + 1) + 1:(y + 1) * (width + 1)] for y in range(height))
