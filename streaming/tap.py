"""PacketTap: something besides viewers that wants a Source's packets (a recorder; HLS later).

A tap is called from :meth:`streaming.source.Source.on_rtp` (the hot loop) with the publisher's
plaintext packet, before any per-viewer rewriting, and with each sender report of the layer it
taps. It must be cheap and never block: a tap copies what it needs into its own bounded queue
and returns (DESIGN.md §8: muxing and decoding run off the event loop). A tapped layer counts as
wanted (dynacast does not pause it, issue 14 §4).
"""

from __future__ import annotations

from typing import Protocol

from streaming.rtp_header import RtpHeader


class PacketTap(Protocol):
    def on_rtp(self, data: bytes, h: RtpHeader) -> None:
        """One plaintext RTP packet of the tapped layer, in arrival order."""

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        """The publisher's RTCP SR for the tapped layer (RFC 3550 §6.4.1): 64-bit NTP, RTP."""

    def on_end(self) -> None:
        """The Source ended (its publisher left); no more calls follow."""
