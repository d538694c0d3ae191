"""A simulcast H264 layer's size from the SPS in its keyframe's first packet
(streaming/h264_size.py)."""

from __future__ import annotations

import struct
from fractions import Fraction

import av
import pytest

from streaming import h264_size


def _parameter_sets(width: int, height: int) -> tuple[bytes, bytes]:
    """SPS and PPS as libx264 writes them for a ``width`` x ``height`` stream."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.open()
    units = [u.rstrip(b"\x00") for u in bytes(encoder.extradata or b"").split(b"\x00\x00\x01")]
    units = [u for u in units if u]
    sps = next(u for u in units if u[0] & 0x1F == 7)
    pps = next(u for u in units if u[0] & 0x1F == 8)
    return sps, pps


def _stap_a(*units: bytes) -> bytes:
    return bytes([0x78]) + b"".join(struct.pack("!H", len(u)) + u for u in units)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360), (320, 180)])
def test_the_size_comes_from_a_stap_a_or_a_lone_sps(width: int, height: int) -> None:
    sps, pps = _parameter_sets(width, height)
    packet = b"\x80" * 12 + _stap_a(sps, pps)
    assert h264_size.keyframe_size(packet, 12, len(packet)) == (width, height)
    alone = b"\x80" * 12 + sps
    assert h264_size.keyframe_size(alone, 12, len(alone)) == (width, height)


@pytest.mark.parametrize("payload", [
    b"", b"\x65\x88\x84", b"\x78", b"\x78\x00\x05\x67", b"\x78\x00\x00",
    b"\x67\x42", b"\x78\x00\x02\x67\xff",  # an SPS cut short
    b"\x7c\x85\x88",  # FU-A of an IDR: no SPS here
])
def test_packets_without_a_whole_sps_say_nothing(payload: bytes) -> None:
    assert h264_size.keyframe_size(payload, 0, len(payload)) == (0, 0)
