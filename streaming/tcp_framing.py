"""RFC 4571 framing: STUN, DTLS, RTP and RTCP over a TCP connection (ICE-TCP, RFC 6544 §3).

Each message is preceded by its length, 16 bits big-endian; nothing else. Pure: no sockets,
no asyncio (streaming/tcp_link.py moves the bytes). :class:`FrameReader` reassembles messages
from the byte stream as it arrives in arbitrary pieces, holding at most one incomplete frame,
and refuses a length over its limit as soon as the two length bytes are in — before the body
arrives, so a hostile peer cannot make the node buffer what it announced.
"""

from __future__ import annotations

import struct

HEADER = 2
MAX_FRAME = 65_535  # what 16 bits can say (RFC 4571 §2)
_LENGTH = struct.Struct("!H")


def frame(data: bytes | memoryview) -> bytes:
    """``data`` with its RFC 4571 length in front."""
    if len(data) > MAX_FRAME:
        raise ValueError(f"an RFC 4571 frame holds at most {MAX_FRAME} bytes, not {len(data)}")
    return _LENGTH.pack(len(data)) + bytes(data)


class FrameReader:
    """Whole messages out of a TCP byte stream, each at most ``max_frame`` bytes.

    ``max_frame`` may be raised later (a connection's first message is small; the caller
    allows more once ICE validated the connection). Zero-length frames carry nothing and are
    skipped.
    """

    __slots__ = ("_buffer", "max_frame")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self.max_frame = max_frame

    @property
    def buffered(self) -> int:
        """Bytes held: a part of one frame (at most ``HEADER + max_frame``)."""
        return len(self._buffer)

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        """Add received bytes; return the messages they complete, in order.

        Raises ``ValueError`` when a frame announces more than ``max_frame`` bytes; the
        stream cannot be resynchronised after that, so the caller closes the connection.
        """
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        offset = 0
        end = len(buffer)
        while end - offset >= HEADER:
            (length,) = _LENGTH.unpack_from(buffer, offset)
            if length > self.max_frame:
                del buffer[:]
                raise ValueError(f"an RFC 4571 frame of {length} bytes is over the limit"
                                 f" of {self.max_frame}")
            if end - offset - HEADER < length:
                break
            if length:
                frames.append(bytes(buffer[offset + HEADER:offset + HEADER + length]))
            offset += HEADER + length
        del buffer[:offset]
        return frames
