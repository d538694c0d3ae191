"""VP8 payload descriptor fields (RFC 7741 §4.2) and keyframe size (RFC 6386 §9.1)."""

from __future__ import annotations

import pytest

from streaming import vp8


def _descriptor(pid: int | None, wide: bool, tl0: int | None, tid: bool = False) -> bytes:
    ext = (0x80 if pid is not None else 0) | (0x40 if tl0 is not None else 0) | (0x20 if tid else 0)
    out = bytearray([0x90 if ext else 0x10])
    if ext:
        out.append(ext)
        if pid is not None:
            out += bytes([0x80 | pid >> 8, pid & 0xFF]) if wide else bytes([pid & 0x7F])
        if tl0 is not None:
            out.append(tl0)
        if tid:
            out.append(0x40)
    return bytes(out)


@pytest.mark.parametrize(
    ("pid", "wide", "tl0", "tid"),
    [(12345, True, 7, True), (100, False, None, False), (None, False, 200, True),
     (32767, True, 255, False), (None, False, None, False)],
)
def test_fields_are_found_and_rewritten(
    pid: int | None, wide: bool, tl0: int | None, tid: bool
) -> None:
    packet = bytearray(b"\x80" * 12 + _descriptor(pid, wide, tl0, tid) + b"\x10\x02\x00payload")
    fields = vp8.descriptor(packet, 12, len(packet))
    assert (fields.pid if fields.pid_pos >= 0 else None) == pid
    assert (fields.tl0 if fields.tl0_pos >= 0 else None) == tl0
    if pid is not None:
        new = (pid + 77) % vp8.pid_modulus(fields)
        vp8.write_pid(packet, fields, new)
        assert vp8.descriptor(packet, 12, len(packet)).pid == new
    assert packet.endswith(b"\x10\x02\x00payload"), "nothing after the fields moved"


def test_truncated_descriptors_find_nothing() -> None:
    for cut in range(0, 4):
        packet = _descriptor(12345, True, 7)[:cut]
        fields = vp8.descriptor(packet, 0, len(packet))
        assert fields.pid_pos < len(packet) and fields.tl0_pos < len(packet)


def test_keyframe_size() -> None:
    frame = bytes([0x10, 0x00, 0x00, 0x9D, 0x01, 0x2A]) + (640).to_bytes(2, "little")
    frame += (360 | 0x4000).to_bytes(2, "little")  # the top 2 bits are scaling, not height
    packet = _descriptor(5, True, 3) + frame
    assert vp8.keyframe_size(packet, 0, len(packet)) == (640, 360)
    interframe = bytes([0x11]) + frame[1:]
    assert vp8.keyframe_size(_descriptor(5, True, 3) + interframe, 0, 20) == (0, 0)
