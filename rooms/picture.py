"""A product card's picture, uploaded by the host: checked by its bytes, named by its hash.

What the client says a file is (its name, its ``Content-Type``) is never believed. A picture is
accepted only if its first bytes are a PNG, JPEG or WebP signature *and* the header behind them
parses to a width and height within :data:`MAX_SIDE` (a file that only starts with a signature is
refused). SVG, HTML and anything else is refused. At most :data:`MAX_BYTES` per picture and
:data:`PICTURES_PER_ROOM` pictures per room are kept (the Store enforces the count atomically).
The picture is named by the SHA-256 of its bytes, so its URL never changes meaning and may be
cached for a year. Pure: no I/O; parsing reads at most the first 64 KiB of a JPEG's markers.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from rooms.errors import InvalidInput

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096
PICTURES_PER_ROOM = 16  # with MAX_BYTES: at most 32 MiB per room in the Store
JPEG_SCAN = 64 * 1024  # a JPEG's size marker must come within this many bytes
TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                  0xCF})


@dataclass(frozen=True, slots=True)
class Picture:
    """A checked picture: its bytes, kind (``png``/``jpeg``/``webp``) and content-hash name."""

    data: bytes
    kind: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def name(self) -> str:
        """``<sha256>.<kind>``: the file name the node serves it under."""
        return f"{self.digest}.{self.kind}"

    @property
    def content_type(self) -> str:
        return TYPES[self.kind]


def check_picture(data: bytes) -> Picture:
    """``data`` as a :class:`Picture`, or ``InvalidInput``: ``picture_empty``,
    ``picture_too_large``, ``bad_picture`` (not PNG/JPEG/WebP by content, or a header that does
    not parse), ``picture_too_big`` (a side over :data:`MAX_SIDE`)."""
    if not data:
        raise InvalidInput("picture_empty", "the picture is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput("picture_too_large", f"a picture is at most {MAX_BYTES} bytes")
    kind, (width, height) = _sniff(data)
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise InvalidInput("picture_too_big",
                           f"a picture is at most {MAX_SIDE}x{MAX_SIDE} pixels")
    return Picture(data, kind, width, height)


def _sniff(data: bytes) -> tuple[str, tuple[int, int]]:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", _png_size(data)
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg", _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", _webp_size(data)
    raise InvalidInput("bad_picture", "the picture must be a PNG, JPEG or WebP file")


def _bad(what: str) -> InvalidInput:
    return InvalidInput("bad_picture", f"the {what} header does not parse")


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[12:16] != b"IHDR" or struct.unpack(">I", data[8:12])[0] != 13:
        raise _bad("PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i, end = 2, min(len(data), JPEG_SCAN)
    while i + 4 <= end:
        if data[i] != 0xFF:
            raise _bad("JPEG")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if length < 2:
            raise _bad("JPEG")
        if marker in _SOF:
            if i + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return int(width), int(height)
        i += 2 + length
    raise _bad("JPEG")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    raise _bad("WebP")
