"""Keyframe detection for VP8 (RFC 7741) and H264 (RFC 6184), table-driven, plus real encoders."""

from __future__ import annotations

import pytest

from streaming.keyframe import detector, h264_keyframe_start, vp8_keyframe_start
from tests.streaming.clients import clip

VP8 = [
    ("key, minimal descriptor", bytes([0x10, 0x00]), True),
    ("inter frame (P=1)", bytes([0x10, 0x01]), False),
    ("not start of partition", bytes([0x00, 0x00]), False),
    ("start of partition 1", bytes([0x11, 0x00]), False),
    ("key, 7-bit picture id", bytes([0x90, 0x80, 0x05, 0x00]), True),
    ("key, 15-bit picture id", bytes([0x90, 0x80, 0x81, 0x02, 0x00]), True),
    ("inter, 15-bit id + tl0 + tid", bytes([0x90, 0xE0, 0x81, 0x02, 0x07, 0x40, 0x01]), False),
    ("key, 15-bit id + tl0 + tid", bytes([0x90, 0xE0, 0x81, 0x02, 0x07, 0x40, 0x00]), True),
    ("truncated descriptor", bytes([0x90, 0x80]), False),
    ("empty", b"", False),
]

H264 = [
    ("IDR slice", bytes([0x65, 0x88]), True),
    ("SPS", bytes([0x67, 0x42]), True),
    ("PPS alone", bytes([0x68, 0xCE]), False),
    ("non-IDR slice", bytes([0x41, 0x9A]), False),
    ("STAP-A with SPS, PPS", bytes([0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xCE]), True),
    ("STAP-A with SEI only", bytes([0x78, 0, 2, 0x06, 0x05]), False),
    ("FU-A start of IDR", bytes([0x7C, 0x85, 0x88]), True),
    ("FU-A middle of IDR", bytes([0x7C, 0x05, 0x88]), False),
    ("FU-A start of P slice", bytes([0x7C, 0x81, 0x9A]), False),
    ("empty", b"", False),
]


@pytest.mark.parametrize(("name", "payload", "expected"), VP8, ids=[c[0] for c in VP8])
def test_vp8(name: str, payload: bytes, expected: bool) -> None:
    assert vp8_keyframe_start(payload, 0, len(payload)) is expected


@pytest.mark.parametrize(("name", "payload", "expected"), H264, ids=[c[0] for c in H264])
def test_h264(name: str, payload: bytes, expected: bool) -> None:
    assert h264_keyframe_start(payload, 0, len(payload)) is expected


def test_offsets_are_respected() -> None:
    data = b"HEADER" + bytes([0x10, 0x00])
    assert vp8_keyframe_start(data, 6, len(data))
    assert not vp8_keyframe_start(data, 0, 2)


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_real_encoder_output_agrees(codec: str) -> None:
    """aiortc's own packetizer on a real encoder's GOP: exactly the keyframes are detected."""
    from aiortc.codecs import get_encoder
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    encoder = get_encoder(RTCRtpCodecParameters(mimeType=f"video/{codec.upper()}", clockRate=90000))
    test = detector(f"video/{codec}")
    frames = clip(codec)  # a keyframe every 30 frames
    starts = []
    for index, frame in enumerate(frames):
        import av

        packet = av.Packet(frame)
        packet.pts = index
        packet.time_base = __import__("fractions").Fraction(1, 30)
        payloads, _ = encoder.pack(packet)
        if any(test(p, 0, len(p)) for p in payloads):
            starts.append(index)
    assert starts == [0, 30]


def test_audio_has_no_keyframes() -> None:
    assert not detector("audio/opus")(b"\xff\xff", 0, 2)
