"""Reading RFC 6464 audio levels from RFC 8285 header extensions (pure), and the level meter."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import RtpPacket

from streaming import rtp_header
from streaming.audio_level import AUDIO_LEVEL_URI, SILENCE, LevelMeter, read_level


def packet(profile: int, elements: bytes) -> bytes:
    """An RTP packet whose header extension has ``elements`` (padded to 32-bit words)."""
    elements += b"\x00" * (-len(elements) % 4)
    head = struct.pack("!BBHII", 0x90, 111, 1, 960, 0x1234)
    return head + struct.pack("!HH", profile, len(elements) // 4) + elements + b"opus"


def level_of(data: bytes, ext_id: int) -> int:
    return read_level(data, rtp_header.parse(data).extension_offset, ext_id)


@pytest.mark.parametrize(
    ("elements", "ext_id", "level"),
    [
        (b"\x10\x9e", 1, 30),  # Chromium: id 1, one byte, V bit set, -30 dBov
        (b"\x10\x1e", 1, 30),  # V bit clear (aiortc's sender): the same level
        (b"\x10\x7f", 1, 127),  # silence
        (b"\x40\x00\x10\x05", 1, 5),  # after a mid-like element (id 4, one byte)
        (b"\x22\x01\x02\x03\x00\x00\x30\x28", 3, 40),  # after abs-send-time and padding
        (b"\x10\x1e", 2, -1),  # another id: not carried
        (b"\xf0\x00\x10\x1e", 1, -1),  # id 15 stops processing (RFC 8285 §4.2)
        (b"\x00\x00\x00\x00", 1, -1),  # only padding
    ],
)
def test_one_byte_form(elements: bytes, ext_id: int, level: int) -> None:
    assert level_of(packet(0xBEDE, elements), ext_id) == level


@pytest.mark.parametrize(
    ("elements", "ext_id", "level"),
    [
        (b"\x05\x01\x9e", 5, 30),
        (b"\x01\x02ab\x00\x05\x01\x14", 5, 20),  # after another element and padding
        (b"\x05\x00", 5, -1),  # zero length: no level byte
        (b"\x06\x01\x9e", 5, -1),
    ],
)
def test_two_byte_form(elements: bytes, ext_id: int, level: int) -> None:
    assert level_of(packet(0x1000, elements), ext_id) == level


def test_no_extension_or_unknown_profile_or_truncation_is_no_level() -> None:
    plain = struct.pack("!BBHII", 0x80, 111, 1, 960, 0x1234) + b"opus"
    assert level_of(plain, 1) == -1
    assert level_of(packet(0xABCD, b"\x10\x1e"), 1) == -1
    truncated = packet(0xBEDE, b"\x30\x1e")[:17]  # the element's value cut off
    assert read_level(truncated, 12, 3) == -1
    empty = struct.pack("!BBHII", 0x90, 111, 1, 960, 0x1234) + b"\xbe\xde\x00\x00\x10\x1e"
    assert read_level(empty, 12, 1) == -1  # no extension words: what follows is payload
    lying = packet(0xBEDE, b"\x1f")[:18]  # says 16 bytes follow; the packet ends first
    assert read_level(lying, 12, 2) == -1


def test_agrees_with_aiortc_on_what_its_sender_writes() -> None:
    """aiortc's own sender (a test publisher) writes the level as ``(vad, -dBov)``."""
    params = RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=2, uri=AUDIO_LEVEL_URI)])
    from aiortc.rtp import HeaderExtensionsMap

    extensions = HeaderExtensionsMap()
    extensions.configure(params)
    for level in (0, 17, 45, 127):
        sent = RtpPacket(payload_type=111, sequence_number=1, timestamp=960, ssrc=1)
        sent.extensions.mid = "0"
        sent.extensions.audio_level = (level % 2 == 0, level)
        data = sent.serialize(extensions)
        assert level_of(data, 2) == level


def test_meter_counts_loud_packets_and_the_loudest_then_starts_again() -> None:
    meter = LevelMeter(threshold=45)
    for level in (127, 50, 45, 20, 44):
        meter.add(level)
    assert meter.take() == (5, 3, 20)
    assert meter.take() == (0, 0, SILENCE)
