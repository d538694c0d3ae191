"""The RTMP "simple" handshake (RTMP spec 1.0 §5.2): C0+C1 → S0+S1+S2, then C2.

FFmpeg, OBS and vMix accept the plain handshake (no HMAC digest): S1 is our time and random
bytes, S2 echoes C1. The client's C2 is read and not checked (it echoes S1; encoders differ
in what they put there). Pure: :meth:`Handshake.feed` takes bytes and returns what to send.
"""

from __future__ import annotations

import os
import struct

from streaming.rtmp.errors import RtmpError

VERSION = 3
SIZE = 1536  # C1, C2, S1, S2 (spec §5.3)


class Handshake:
    """Feed the client's first bytes; ``done`` once C2 arrived, ``rest`` is what followed."""

    def __init__(self, epoch_ms: int = 0) -> None:
        self._buffer = bytearray()
        self._sent = False
        self._epoch_ms = epoch_ms
        self.done = False
        self.rest = b""

    def feed(self, data: bytes) -> bytes:
        """The bytes to send now (S0+S1+S2 once C0+C1 is in); raises :class:`RtmpError` on a
        client that speaks no RTMP (C0 is not version 3: also encrypted RTMPE, 6)."""
        if self.done:
            raise RtmpError("the handshake is over")
        self._buffer += data
        out = b""
        if not self._sent:
            if self._buffer and self._buffer[0] != VERSION:
                raise RtmpError(f"RTMP version {self._buffer[0]} is not supported (only 3)")
            if len(self._buffer) < 1 + SIZE:
                return b""
            c1 = bytes(self._buffer[1:1 + SIZE])
            del self._buffer[:1 + SIZE]
            s1 = struct.pack(">II", self._epoch_ms & 0xFFFFFFFF, 0) + os.urandom(SIZE - 8)
            out = bytes([VERSION]) + s1 + c1
            self._sent = True
        if len(self._buffer) >= SIZE:
            self.rest = bytes(self._buffer[SIZE:])
            self._buffer.clear()
            self.done = True
        return out
