"""Image bytes without an image library: which format a file is (PNG or JPEG, by signature) and a
PNG's dimensions (from its IHDR chunk). Stdlib only."""
import struct
from typing import Optional, Tuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}


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
