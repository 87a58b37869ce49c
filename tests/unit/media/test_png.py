"""api.media.png: the transparency decoder (every filter type, RGBA, gray+alpha, palette+tRNS, colour keys,
16-bit, sub-byte depths), the grayscale mask encoder, and refusals of what it does not decode."""
import struct
import zlib

import pytest

from api.media import png
from pngs import decode_gray, encode, expected_mask, rgba_with_hole

HOLE = (3, 2, 11, 7)  # x0, y0, x1, y1 of the transparent rectangle
W, H = 17, 9


@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4), (4, 3, 2, 1, 0)],
                         ids=["none", "sub", "up", "average", "paeth", "mixed", "mixed-reversed"])
def test_rgba_every_filter_type(filters):
    data = rgba_with_hole(W, H, HOLE, filters=filters)
    assert png.transparent_pixels(data) == expected_mask(W, H, HOLE)


def test_paeth_tie_breaking_and_wraparound():
    # Alphas near 0 and 255 exercise modulo arithmetic; equal neighbours exercise Paeth's ties.
    alphas = [[0, 255, 255, 0, 1, 254, 128, 127], [255, 255, 0, 0, 127, 128, 1, 0],
              [0, 0, 0, 255, 255, 255, 3, 250], [250, 3, 0, 0, 255, 0, 255, 0]]
    rows = [b"".join(bytes((x * 40 & 255, 9, 200, a)) for x, a in enumerate(line)) for line in alphas]
    want = bytes(255 if a == 0 else 0 for line in alphas for a in line)
    for kind in range(5):
        assert png.transparent_pixels(encode(8, 4, 6, rows, filters=(kind,))) == want, kind


def test_gray_alpha():
    rows = [bytes(v for x in range(W) for v in (x * 15 & 255, 0 if (x + y) % 3 == 0 else 200))
            for y in range(H)]
    want = bytes(255 if (x + y) % 3 == 0 else 0 for y in range(H) for x in range(W))
    for kind in range(5):
        assert png.transparent_pixels(encode(W, H, 4, rows, filters=(kind,))) == want


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_palette_with_trns(depth):
    entries = 1 << depth if depth < 8 else 6
    plte = bytes(range(3 * entries))
    trns = bytes([255, 0, 128])  # entry 1 transparent, entry 2 half, the rest (no tRNS byte) opaque
    indices = [[(x + 2 * y) % entries for x in range(W)] for y in range(H)]
    rows = [_pack(line, depth) for line in indices]
    want = bytes(255 if i == 1 else 0 for line in indices for i in line)
    for kind in range(5):
        data = encode(W, H, 3, rows, depth=depth, filters=(kind,), plte=plte, trns=trns)
        assert png.transparent_pixels(data) == want


def test_colour_keys_in_trns():
    rgb = [bytes(v for x in range(W) for v in ((10, 20, 30) if x == y else (10, 20, 31))) for y in range(H)]
    data = encode(W, H, 2, rgb, filters=(4,), trns=struct.pack(">3H", 10, 20, 30))
    assert png.transparent_pixels(data) == bytes(255 if x == y else 0 for y in range(H) for x in range(W))
    gray = [bytes((x * y) & 255 for x in range(W)) for y in range(H)]
    data = encode(W, H, 0, gray, filters=(1,), trns=struct.pack(">H", 0))
    assert png.transparent_pixels(data) == bytes(255 if x * y == 0 else 0 for y in range(H) for x in range(W))


def test_sixteen_bit_alpha_is_zero_only_when_both_bytes_are():
    alphas = [0, 1, 256, 65535, 0, 0x00FF, 0xFF00, 0]
    rows = [b"".join(struct.pack(">4H", 1000, 2000, 3000, a) for a in alphas)] * 3
    want = bytes(255 if a == 0 else 0 for a in alphas) * 3
    for kind in range(5):
        assert png.transparent_pixels(encode(8, 3, 6, rows, depth=16, filters=(kind,))) == want
    gray_alpha = [b"".join(struct.pack(">2H", 7, a) for a in alphas)]
    assert png.transparent_pixels(encode(8, 1, 4, gray_alpha, depth=16)) == want[:8]


def test_idat_split_over_chunks():
    data = encode(W, H, 6, _rgba_rows(), filters=(2, 4), idat_chunks=5)
    assert png.transparent_pixels(data) == expected_mask(W, H, HOLE)


@pytest.mark.parametrize("color, trns", [(0, None), (2, None), (3, None)])
def test_no_alpha_is_none(color, trns):
    rows = [bytes(W * (3 if color == 2 else 1))] * H
    data = encode(W, H, color, rows, plte=bytes(3) if color == 3 else None, trns=trns)
    assert png.transparent_pixels(data) is None


def test_opaque_rgba_has_no_transparent_pixel():
    assert png.transparent_pixels(encode(W, H, 6, [b"\x01\x02\x03\xff" * W] * H)) == bytes(W * H)


def test_mask_round_trip():
    flags = png.transparent_pixels(rgba_with_hole(W, H, HOLE, filters=(3,)))
    mask = png.gray_png(W, H, flags)
    assert decode_gray(mask) == (W, H, expected_mask(W, H, HOLE))
    assert png.dimensions(mask) == (W, H) and png.sniff(mask) == "png"
    # The gray mask itself has no alpha, so it carries no transparency of its own.
    assert png.transparent_pixels(mask) is None


@pytest.mark.parametrize("data, reason", [
    (encode(W, H, 6, [bytes(4 * W)] * H, interlace=1), "interlaced"),
    (encode(W, H, 6, [bytes(2 * W)] * H, depth=4), "color type 6 with bit depth 4"),
    (encode(W, H, 5, [bytes(W)] * H), "color type 5"),
    (encode(W, H, 3, [bytes(W)] * H, trns=b"\x00"), "PLTE"),
    (encode(W, H, 2, [bytes(3 * W)] * H, trns=b"\x00\x01"), "tRNS"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "IHDR"),
    (b"GIF89a", "signature"),
])
def test_refusals(data, reason):
    with pytest.raises(png.PngError, match=reason):
        png.transparent_pixels(data)


def test_corrupt_pixel_data_is_refused():
    good = encode(W, H, 6, _rgba_rows())
    with pytest.raises(png.PngError, match="truncated"):
        png.transparent_pixels(good[:-30])
    short = _replace_idat(good, zlib.compress(bytes(10)))
    with pytest.raises(png.PngError, match="rows"):
        png.transparent_pixels(short)
    with pytest.raises(png.PngError, match="zlib"):
        png.transparent_pixels(_replace_idat(good, b"not zlib at all"))
    bad_filter = _replace_idat(good, zlib.compress((b"\x05" + bytes(4 * W)) * H))
    with pytest.raises(png.PngError, match="filter type 5"):
        png.transparent_pixels(bad_filter)


def test_too_many_pixels_is_refused_before_inflating():
    header = struct.pack(">IIBBBBB", 4096, 4096, 8, 6, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"x") + _chunk(b"IEND", b""))
    with pytest.raises(png.PngError, match="4096x4096"):
        png.transparent_pixels(data)


def _rgba_rows():
    x0, y0, x1, y1 = HOLE
    return [b"".join(bytes((x, y, 9, 0 if x0 <= x < x1 and y0 <= y < y1 else 99)) for x in range(W))
            for y in range(H)]


def _pack(samples, depth):
    bits = "".join(format(s, f"0{depth}b") for s in samples)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _replace_idat(data, compressed):
    at = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[at:at + 4])[0]
    return data[:at] + _chunk(b"IDAT", compressed) + data[at + 12 + length:]


@pytest.mark.parametrize("kind", [3, 4], ids=["average", "paeth"])
def test_rows_repeating_the_row_above_and_rows_that_almost_do(kind):
    # An erased block in an opaque image: most alpha rows repeat the row above (decoded without a
    # byte-by-byte pass); some differ from it in one byte only, first or last, and so do their
    # filtered bytes (decoded in full).
    hole = [255, 255, 0, 0, 0, 255, 255, 255, 0, 255, 255, 7]
    alphas = [[255] * 12, hole, hole, hole, [255] * 12, [255] * 11 + [0], [0] + [255] * 10 + [0],
              [0] + [255] * 10 + [0], [1] + [0] * 11, [0] * 12]
    rows = [b"".join(bytes((x * 40 & 255, y * 9 & 255, 200, a)) for x, a in enumerate(line))
            for y, line in enumerate(alphas)]
    want = bytes(255 if a == 0 else 0 for line in alphas for a in line)
    assert png.transparent_pixels(encode(12, len(alphas), 6, rows, filters=(kind,))) == want
