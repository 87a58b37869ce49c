"""Image bytes without an image library: which format a file is (PNG or JPEG, by signature), a
PNG's dimensions (from its IHDR chunk), and a PNG's fully transparent pixels turned into the
grayscale mask Stable Diffusion inpainting takes. Stdlib only (zlib, struct): it runs in Pyodide."""
import re
import struct
import zlib
from itertools import accumulate
from typing import Dict, List, Optional, Tuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}
# Decoding holds the inflated scanlines in memory (a Worker has 128 MB): 2048² RGBA is 16 MB.
MAX_PIXELS = 2048 * 2048
TRANSPARENT, OPAQUE = 255, 0  # in the mask: white = repaint, black = keep
_RUN = re.compile(rb"[^\x00]\x00*")  # a Sub-filtered byte that changes the value, and its repeats
# color type → (channels, allowed bit depths)
COLOR_TYPES = {0: (1, (1, 2, 4, 8, 16)), 2: (3, (8, 16)), 3: (1, (1, 2, 4, 8)), 4: (2, (8, 16)),
               6: (4, (8, 16))}


class PngError(ValueError):
    """A PNG this module cannot read: corrupt, or a variant it does not decode. The message is
    written for the client."""


def sniff(data: bytes) -> Optional[str]:
    """"png", "jpeg" or None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SIGNATURE):
        return "jpeg"
    return None


def dimensions(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) of a PNG, or None when the bytes are not a PNG with a valid IHDR: the
    signature, then the first chunk, which must be IHDR (length 13: width, height, …)."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33:
        return None
    length, kind = struct.unpack(">I4s", data[8:16])
    width, height = struct.unpack(">II", data[16:24])
    if kind != b"IHDR" or length != 13 or width == 0 or height == 0:
        return None
    return width, height


def transparent_pixels(data: bytes) -> Optional[bytes]:
    """One byte per pixel, row by row: TRANSPARENT where the pixel's alpha is 0, else OPAQUE. None
    when the PNG cannot carry transparency (gray, RGB or palette without a tRNS chunk: the pixel
    data is then not even inflated). Raises PngError for what it cannot decode."""
    header, chunks = _chunks(data)
    width, height, depth, color, interlace = header
    if color not in COLOR_TYPES or depth not in COLOR_TYPES[color][1]:
        raise PngError(f"it uses PNG color type {color} with bit depth {depth}, which is not a valid "
                       "combination")
    trns = chunks.get(b"tRNS")
    if color in (0, 2, 3) and trns is None:
        return None
    if interlace != 0:
        raise PngError("it is an interlaced (Adam7) PNG, which is not supported; save it without "
                       "interlacing")
    if width * height > MAX_PIXELS:
        raise PngError(f"it is {width}x{height}; at most {MAX_PIXELS} pixels can be decoded")
    channels = COLOR_TYPES[color][0]
    bits = channels * depth
    bpp, stride = max(1, bits // 8), (width * bits + 7) // 8
    offsets, tables = _alpha_tests(color, depth, trns, chunks.get(b"PLTE"))
    raw = _inflate(chunks[b"IDAT"], height * (stride + 1))
    planes = _unfilter(raw, height, stride, bpp, offsets)
    if depth < 8:
        planes = [_unpack(plane, height, stride, width, depth) for plane in planes]
    flags = [plane.translate(table) for plane, table in zip(planes, tables)]
    if len(flags) == 1:
        return flags[0]
    # Transparent only where every byte tested says so (16-bit alpha, tRNS colour keys): AND the planes.
    combined = int.from_bytes(flags[0], "big")
    for more in flags[1:]:
        combined &= int.from_bytes(more, "big")
    return combined.to_bytes(width * height, "big")


def gray_png(width: int, height: int, pixels: bytes) -> bytes:
    """An 8-bit grayscale PNG (color type 0) of `pixels`, one byte each, row by row; every row
    filter type 0 (None). Compression level 1: a mask is long runs of two shades, which it packs
    nearly as well as level 6 (8 KB vs 4 KB for a megapixel) at a third of the time."""
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 1))
            + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _chunks(data: bytes) -> Tuple[tuple, Dict[bytes, bytes]]:
    """IHDR's fields and the chunks needed to decode (PLTE, tRNS, and every IDAT joined)."""
    if not data.startswith(PNG_SIGNATURE):
        raise PngError("it does not start with the PNG signature")
    found: Dict[bytes, bytes] = {}
    idat: List[bytes] = []
    at, header = len(PNG_SIGNATURE), None
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if len(body) != length:
            raise PngError("it is truncated (a chunk ends after the file does)")
        at += 12 + length
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise PngError("its first chunk is not a valid IHDR")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        elif kind in (b"PLTE", b"tRNS"):
            found[kind] = body
    if header is None or not idat:
        raise PngError("it has no image data (IHDR and IDAT chunks)")
    width, height, _, _, compression, filtering, _ = header
    if width == 0 or height == 0 or compression != 0 or filtering != 0:
        raise PngError("its IHDR header is not valid")
    found[b"IDAT"] = b"".join(idat)
    return header[:4] + header[6:], found


def _alpha_tests(color: int, depth: int, trns: Optional[bytes], plte: Optional[bytes]):
    """Which byte offsets within a pixel to decode, and for each a 256-byte translate table to
    TRANSPARENT/OPAQUE; a pixel is transparent where all its tested bytes are."""
    def equal_to(value: int) -> bytes:
        return bytes(TRANSPARENT if byte == value else OPAQUE for byte in range(256))

    size = depth // 8  # bytes per sample; 0 for 1, 2 and 4 bits
    if color in (4, 6):  # the last sample of each pixel is alpha
        alpha_at = (COLOR_TYPES[color][0] - 1) * size
        return list(range(alpha_at, alpha_at + size)), [equal_to(0)] * size
    if color == 3:
        if plte is None or len(plte) % 3:
            raise PngError("it is a palette PNG without a valid PLTE chunk")
        # tRNS holds the alpha of the first entries; the rest are opaque.
        return [0], [bytes(TRANSPARENT if i < len(trns) and trns[i] == 0 else OPAQUE for i in range(256))]
    samples = COLOR_TYPES[color][0]
    if len(trns) != 2 * samples:
        raise PngError("its tRNS chunk does not fit its color type")
    key = struct.unpack(f">{samples}H", trns)  # the one colour shown as fully transparent
    if depth < 8:
        return [0], [equal_to(key[0])]
    if depth == 8:
        if max(key) > 255:  # a key no 8-bit pixel can match
            return [0], [bytes(256)]
        return list(range(samples)), [equal_to(k) for k in key]
    return (list(range(2 * samples)),
            [equal_to(part) for k in key for part in (k >> 8, k & 255)])


def _inflate(compressed: bytes, expected: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, expected)
    except zlib.error:
        raise PngError("its image data is not valid zlib data") from None
    if len(raw) != expected:
        raise PngError("its image data does not hold the rows its header announces")
    return raw


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, offsets: List[int]) -> List[bytes]:
    """Reverse the scanline filters for the bytes at `offsets` (mod bpp) of each pixel only: every
    PNG filter predicts a byte from bytes at the same offset in the pixel to the left and above,
    so each offset is an independent stream (one byte per pixel). Returns one plane per offset:
    that stream for every row, concatenated."""
    count = len(range(0, stride, bpp))
    swar = _Swar(count)
    zero = bytes(count)
    planes = [bytearray() for _ in offsets]
    prior = [zero] * len(offsets)
    at = 0
    for _ in range(height):
        kind = raw[at]
        row = raw[at + 1:at + 1 + stride]
        at += stride + 1
        for index, offset in enumerate(offsets):
            cur = row[offset::bpp]
            up = prior[index]
            if kind == 0:
                line = cur
            elif (kind == 4 and cur == zero) or (kind == 3 and cur == swar.average_filtered(up)):
                # The row repeats the one above, as an alpha plane does in most rows (opaque, or an
                # erased block): no byte-by-byte pass. Paeth over a copy of the row above is all zeros.
                line = up
            elif kind == 1 or (kind == 4 and up is zero):  # Paeth over a zero row is Sub
                line = _sub(cur)
            elif kind == 2:
                line = swar.add(cur, up)
            elif kind == 3:
                line = _average(cur, up)
            elif kind == 4:
                line = _paeth(cur, up)
            else:
                raise PngError(f"a row uses filter type {kind}; PNG defines 0 to 4")
            planes[index] += line
            prior[index] = line
    return [bytes(plane) for plane in planes]


class _Swar:
    """Bytewise arithmetic mod 256 on whole rows as big integers (SWAR: SIMD within a register):
    each byte's low 7 bits are added or subtracted, then its top bit put back without a carry."""

    def __init__(self, count: int):
        self.count = count
        self.low, self.high, self.even = (int.from_bytes(byte * count, "big") for byte in (b"\x7f", b"\x80", b"\xfe"))

    def add(self, cur: bytes, up: bytes) -> bytes:
        x, y = int.from_bytes(cur, "big"), int.from_bytes(up, "big")
        return (((x & self.low) + (y & self.low)) ^ ((x ^ y) & self.high)).to_bytes(self.count, "big")

    def average_filtered(self, up: bytes) -> bytes:
        """What the Average filter makes of a row equal to `up`: up - floor((left + up) / 2)."""
        u = int.from_bytes(up, "big")
        left = u >> 8  # each byte's left neighbour, in its place
        mean = (u & left) + (((u ^ left) & self.even) >> 1)
        diff = ((u | self.high) - (mean & self.low)) ^ ((u ^ mean ^ self.high) & self.high)
        return diff.to_bytes(self.count, "big")


def _sub(cur: bytes) -> bytes:
    """The Sub filter undone: each byte is the running sum mod 256. An alpha plane's Sub row is
    mostly zeros (runs of one alpha), so it is rebuilt a run at a time: byte by byte took two thirds
    of the decoding of a photo's alpha."""
    if cur.count(0) * 16 < len(cur) * 15:  # more than one byte in 16 changes the value
        return bytes(map((255).__and__, accumulate(cur)))
    value, runs = 0, [bytes(len(cur) - len(cur.lstrip(b"\x00")))]
    for run in _RUN.finditer(cur):
        value = (value + cur[run.start()]) & 255
        runs.append(bytes((value,)) * (run.end() - run.start()))
    return b"".join(runs)


def _average(cur: bytes, up: bytes) -> bytes:
    out = []
    push = out.append
    left = 0
    for x, b in zip(cur, up):
        left = (x + ((left + b) >> 1)) & 255
        push(left)
    return bytes(out)


def _paeth(cur: bytes, up: bytes) -> bytes:
    # Paeth's predictor p = a + b - c is never computed: |p-a| = |b-c|, |p-b| = |a-c|,
    # |p-c| = |(b-c) + (a-c)|. Ties prefer a, then b (PNG spec §9.4).
    out = []
    push = out.append
    a = c = 0
    for x, b in zip(cur, up):
        pa = b - c
        pb = a - c
        pc = pa + pb
        if pa < 0:
            pa = -pa
        if pb < 0:
            pb = -pb
        if pc < 0:
            pc = -pc
        if pa <= pb and pa <= pc:
            a = (x + a) & 255
        elif pb <= pc:
            a = (x + b) & 255
        else:
            a = (x + c) & 255
        push(a)
        c = b
    return bytes(out)


def _unpack(plane: bytes, height: int, stride: int, width: int, depth: int) -> bytes:
    """Sub-byte samples (1, 2, 4 bits, most significant first) spread to one byte each."""
    per = 8 // depth
    table = [bytes((byte >> (8 - depth * (k + 1))) & ((1 << depth) - 1) for k in range(per))
             for byte in range(256)]
    return b"".join(b"".join(map(table.__getitem__, plane[y * stride:(y + 1) * stride]))[:width]
                    for y in range(height))
