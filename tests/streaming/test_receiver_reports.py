"""Receiver reports of a publisher's intake (streaming/intake.py): a track whose SSRC is known
from the SDP but that has not sent a packet yet has no report block. aiortc's statistics raise
``TypeError`` on it; the report loop died of that and the leg's close re-raised it, so a meeting
host who left before their camera sent anything stayed "present" (the departure failed)."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from config import MediaLimits
from streaming.intake import Inbound, IntakeLeg
from streaming.negotiation import Codec
from streaming.source import Source


def _inbound() -> Inbound:
    codec = Codec(payload_type=96, mime="video/VP8", clock_rate=90000)
    source = Source("host/video0", "room", "video", codec, MediaLimits())
    inbound = Inbound(source, payload_type=96, clock_rate=90000, video=True)
    inbound.media_ssrc = 1234  # from the SDP's a=ssrc, before any packet
    return inbound


async def test_a_track_without_packets_has_no_report_block_yet() -> None:
    inbound = _inbound()
    assert IntakeLeg._report(inbound) is None
    inbound.stats.add(RtpPacket(payload_type=96, sequence_number=7, timestamp=0, ssrc=1234))
    block = IntakeLeg._report(inbound)
    assert block is not None and block.ssrc == 1234 and block.highest_sequence == 7


async def test_a_track_without_an_ssrc_has_no_report_block() -> None:
    inbound = _inbound()
    inbound.media_ssrc = 0
    assert IntakeLeg._report(inbound) is None
