"""An H264 keyframe's picture size from the SPS its first RTP packet carries (RFC 6184 §5.7.1).

A simulcast layer's size (``Layer.width``/``height``) is what layer choice ranks and what the
page is told. VP8 says it in every keyframe's header (streaming/vp8.py); H264 says it in the
sequence parameter set that Chromium, OBS and GStreamer send with each IDR, alone (a single NAL
unit packet) or aggregated with the PPS in a STAP-A. Pure, and only ever run on a keyframe's
first packet: no cost per packet.
"""

from __future__ import annotations

from streaming.depacketize.parameter_sets import parse_sps

NAL_SPS = 7
NAL_STAP_A = 24


def keyframe_size(data: bytes | bytearray | memoryview, start: int, end: int) -> tuple[int, int]:
    """(width, height) from the SPS in the packet whose H264 payload is ``data[start:end]``;
    (0, 0) when it carries none or an SPS that does not parse."""
    if end <= start:
        return 0, 0
    kind = data[start] & 0x1F
    if kind == NAL_SPS:
        return _size(bytes(data[start:end]))
    if kind != NAL_STAP_A:
        return 0, 0
    pos = start + 1
    while pos + 2 <= end:  # STAP-A: 16-bit size, then the NAL unit (RFC 6184 §5.7.1)
        size = data[pos] << 8 | data[pos + 1]
        pos += 2
        if size == 0 or pos + size > end:
            return 0, 0
        if data[pos] & 0x1F == NAL_SPS:
            return _size(bytes(data[pos:pos + size]))
        pos += size
    return 0, 0


def _size(nal: bytes) -> tuple[int, int]:
    try:
        sps = parse_sps(nal)
    except (ValueError, IndexError):
        return 0, 0
    return sps.width, sps.height
