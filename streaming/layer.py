"""Layer: one encoding of a published track (the only one, or one simulcast rid).

Everything that follows one RTP stream lives here: its SSRC, the NACK cache and keyframe cache
(sequence numbers are per stream), the PLI throttle and the PLI sender for that SSRC, its
last sender report (to align timestamps when a viewer moves between layers), the VP8 picture
numbers it sent last, its size (from keyframes) and its rate. ``subs`` are the viewers that
get this layer now; ``pending`` the ones moving to it at its next keyframe (issue 14 §2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from streaming.feedback import KeyframeRequests
from streaming.packet_cache import KeyframeCache, PacketCache

if TYPE_CHECKING:
    from streaming.subscription import Subscription

RATE_SMOOTHING = 0.2  # weight of the newest interval in the rate (an EWMA: ~1 s at 5 ticks/s,
# so a keyframe's burst does not make a layer look twice its size for a tick)
IDLE_S = 1.5  # a layer with no packet for this long is not arriving (paused, or stopped)


class Layer:
    """One RTP stream of a Source; ``index`` is its place in the Source, ``rid`` its name."""

    __slots__ = (
        "_counted",
        "_counted_at",
        "bitrate_bps",
        "cache",
        "flush_handle",
        "frame_end",
        "gop",
        "gop_ts",
        "height",
        "index",
        "keyframes",
        "known_bps",
        "last_arrival",
        "last_packet",
        "octets",
        "pending",
        "requests",
        "rid",
        "sr_ntp",
        "sr_rtp",
        "ssrc",
        "subs",
        "upstream",
        "width",
    )

    def __init__(self, index: int, rid: str, cache_size: int, pli_interval_s: float) -> None:
        self.index = index
        self.rid = rid
        self.ssrc = -1
        self.cache = PacketCache(cache_size)
        self.gop = KeyframeCache(cache_size)
        self.gop_ts = -1
        self.keyframes = 0
        self.subs: list[Subscription] = []
        self.pending: list[Subscription] = []
        self.requests = KeyframeRequests(pli_interval_s)
        self.upstream: Callable[[], None] | None = None  # sends a PLI for this SSRC
        self.flush_handle: object | None = None
        self.last_arrival = 0.0
        self.octets = 0  # payload octets received, all time
        self.bitrate_bps = 0  # smoothed, by :meth:`measure`
        self.known_bps = 0  # its rate when it last arrived (a paused layer's need)
        self.frame_end = False  # its newest packet ended a frame (RTP marker, RFC 7741 §4.1)
        self.width = 0
        self.height = 0
        self.last_packet: bytes | None = None  # its newest (a switch reads its VP8 numbers)
        self.sr_ntp = 0.0  # its newest sender report: NTP seconds and RTP timestamp
        self.sr_rtp = 0
        self._counted = 0
        self._counted_at = 0.0

    def restart(self, ssrc: int, cache_size: int) -> None:
        """The stream restarted with a new SSRC: its caches and timing no longer apply."""
        self.ssrc = ssrc
        self.cache.clear()
        self.gop = KeyframeCache(cache_size)
        self.gop_ts = -1
        self.last_packet = None
        self.sr_ntp, self.sr_rtp = 0.0, 0

    def measure(self, now: float) -> int:
        """Update and return the smoothed bitrate; call it every few hundred ms."""
        elapsed = now - self._counted_at
        if self._counted_at and elapsed > 0:
            rate = (self.octets - self._counted) * 8 / elapsed
            if not self.active(now):
                rate = 0
            if not self.bitrate_bps:  # (re)started: its first interval, not a ramp from zero
                self.bitrate_bps = int(rate)
            else:
                self.bitrate_bps = int(
                    RATE_SMOOTHING * rate + (1 - RATE_SMOOTHING) * self.bitrate_bps
                )
            if rate:
                self.known_bps = self.bitrate_bps
        self._counted, self._counted_at = self.octets, now
        return self.bitrate_bps

    def active(self, now: float) -> bool:
        """Packets arrived lately (a paused or stopped encoding sends none)."""
        return self.last_arrival > 0 and now - self.last_arrival < IDLE_S

    @property
    def wanted(self) -> bool:
        return bool(self.subs or self.pending)
