"""Bits and Exp-Golomb codes of an H264 RBSP (ITU-T H.264 §7.2, §9.1)."""

from __future__ import annotations

EMULATION_PREVENTION = b"\x00\x00\x03"  # H.264 §7.4.1: 0x03 inserted after two zero bytes


def rbsp(nal_payload: bytes) -> bytes:
    """The raw bytes of a NAL unit's payload with emulation prevention bytes removed."""
    return nal_payload.replace(EMULATION_PREVENTION, b"\x00\x00")


class BitReader:
    """Reads MSB first; running past the end raises ``ValueError``."""

    __slots__ = ("_bits", "_pos", "_value")

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._bits = 8 * len(data)
        self._pos = 0

    def u(self, count: int) -> int:
        """An unsigned ``count``-bit number, u(n)."""
        if self._pos + count > self._bits:
            raise ValueError("H264 parameter set is truncated")
        self._pos += count
        return (self._value >> (self._bits - self._pos)) & ((1 << count) - 1)

    def flag(self) -> bool:
        return self.u(1) == 1

    def ue(self) -> int:
        """An unsigned Exp-Golomb code, ue(v) (§9.1): n zeros, a one, n bits."""
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("H264 Exp-Golomb code is too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        """A signed Exp-Golomb code, se(v) (§9.1.1): 1, -1, 2, -2, ... for 1, 2, 3, 4, ..."""
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)
