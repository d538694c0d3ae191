"""Out-of-band codec headers a container needs and RTP does not carry (issue 15 §1).

Opus in WebM/MP4 needs an identification header (RFC 7845 §5.1); H264 in MP4 needs its
sequence and picture parameter sets, which an IDR access unit carries in-band (RFC 6184 §8.4).
Pure byte work.
"""

from __future__ import annotations

import re
import struct

OPUS_PRE_SKIP = 312  # 6.5 ms at 48 kHz: libopus's usual encoder delay
START_CODE = re.compile(b"\x00\x00\x01")
H264_SPS, H264_PPS = 7, 8


def opus_head(channels: int = 2, pre_skip: int = OPUS_PRE_SKIP) -> bytes:
    """The Opus identification header (RFC 7845 §5.1): version 1, 48 kHz, gain 0, family 0."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, 48000, 0, 0)


def nal_units(access_unit: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (ITU-T H.264 Annex B), start codes removed."""
    units = [unit.rstrip(b"\x00") for unit in START_CODE.split(access_unit)]
    return [unit for unit in units if unit]


def h264_parameter_sets(access_unit: bytes) -> bytes:
    """The SPS and PPS of an IDR access unit, in Annex B form (the muxer builds its avcC from
    them); empty when the access unit carries none."""
    sets = [u for u in nal_units(access_unit) if u[0] & 0x1F in (H264_SPS, H264_PPS)]
    if not any(u[0] & 0x1F == H264_SPS for u in sets):
        return b""
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in sets)


def vp8_size(frame: bytes) -> tuple[int, int]:
    """A VP8 key frame's width and height (RFC 6386 §9.1), (0, 0) for anything else."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return 0, 0
    width, height = struct.unpack_from("<HH", frame, 6)
    return width & 0x3FFF, height & 0x3FFF
