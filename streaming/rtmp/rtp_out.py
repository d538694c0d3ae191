"""RTP packets out of the RTMP ingest (RFC 3550 §5.1): one :class:`RtpStream` per track, with a
random SSRC and a random first sequence number, as a real sender picks them (§5.1, §8)."""

from __future__ import annotations

import random
import struct

MTU_PAYLOAD = 1200  # bytes of payload per packet: fits any path's MTU with SRTP and headers


class RtpStream:
    """Headers for one track's packets: sequence numbers count up, timestamps as given."""

    def __init__(self, payload_type: int, rng: random.Random | None = None) -> None:
        pick = rng or random.SystemRandom()
        self.payload_type = payload_type
        self.ssrc = pick.getrandbits(32)
        self.sequence = pick.getrandbits(16)

    def packet(self, timestamp: int, marker: bool, payload: bytes) -> bytes:
        header = struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | self.payload_type,
                             self.sequence, timestamp & 0xFFFFFFFF, self.ssrc)
        self.sequence = (self.sequence + 1) & 0xFFFF
        return header + payload
