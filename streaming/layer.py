"""Layer: one encoding of a published track (the only one, or one simulcast rid).

Everything that follows one RTP stream lives here: its SSRC, the NACK cache and keyframe cache
(sequence numbers are per stream), the PLI throttle and the PLI sender for that SSRC, its
last sender report (to align timestamps when a viewer moves between layers), the VP8 picture
numbers it sent last, its size (from keyframes) and its rate. ``subs`` are the viewers that
get this layer now; ``pending`` the ones moving to it at its next keyframe (issue 14 §2).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from streaming.feedback import KeyframeRequests
from streaming.packet_cache import KeyframeCache, PacketCache

if TYPE_CHECKING:
    from streaming.subscription import Subscription
    from streaming.tap import PacketTap

RATE_WINDOW_S = 1.0  # a layer's rate is what it carried over this
KNOWN_WEIGHT = 0.05  # of each measurement (10 a second) in a paused layer's remembered rate
IDLE_S = 1.5  # a layer with no packet for this long is not arriving (paused, or stopped)


class Layer:
    """One RTP stream of a Source; ``index`` is its place in the Source, ``rid`` its name."""

    __slots__ = (
        "_window",
        "arriving_since",
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
        "taps",
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
        self.arriving_since = 0.0  # when packets began to arrive after a pause (or ever)
        self.octets = 0  # payload octets received, all time
        self.bitrate_bps = 0  # smoothed, by :meth:`measure`
        self.known_bps = 0  # the rate it carries as a rule (a paused layer's need)
        self.frame_end = False  # its newest packet ended a frame (RTP marker, RFC 7741 §4.1)
        self.width = 0
        self.height = 0
        self.last_packet: bytes | None = None  # its newest (a switch reads its VP8 numbers)
        self.taps: list[PacketTap] = []  # recorders (streaming/tap.py): get every packet
        self.sr_ntp = 0.0  # its newest sender report: NTP seconds and RTP timestamp
        self.sr_rtp = 0
        self._window: deque[tuple[float, int]] = deque(maxlen=64)  # (time, octets) samples

    def restart(self, ssrc: int, cache_size: int) -> None:
        """The stream restarted with a new SSRC: its caches and timing no longer apply."""
        self.ssrc = ssrc
        self.cache.clear()
        self.gop = KeyframeCache(cache_size)
        self.gop_ts = -1
        self.last_packet = None
        self.sr_ntp, self.sr_rtp = 0.0, 0

    def measure(self, now: float) -> int:
        """Update and return the layer's rate over the last ``RATE_WINDOW_S`` (a keyframe's
        burst is part of a second, not a spike); call it every few hundred ms at most."""
        window = self._window
        window.append((now, self.octets))
        while len(window) > 2 and now - window[1][0] >= RATE_WINDOW_S:
            window.popleft()
        start, octets = window[0]
        rate = (self.octets - octets) * 8 / (now - start) if now > start else 0.0
        self.bitrate_bps = int(rate) if self.active(now) else 0
        # what it carries as a rule (~2 s average): a paused layer's need; not from a window
        # that still spans the pause (its first second back reads low)
        if self.bitrate_bps and now - self.arriving_since >= RATE_WINDOW_S:
            self.known_bps = (self.bitrate_bps if not self.known_bps else
                              int(KNOWN_WEIGHT * self.bitrate_bps
                                  + (1 - KNOWN_WEIGHT) * self.known_bps))
        return self.bitrate_bps

    def arrive(self, now: float) -> None:
        """A packet of this layer arrived now (video): track when a pause ended."""
        if now - self.last_arrival >= IDLE_S:
            self.arriving_since = now
        self.last_arrival = now

    def need_bps(self, now: float) -> int:
        """The rate a viewer's budget must hold for this layer: its measured rate, but not less
        than it had before a pause while its rate window still spans the pause (a layer just
        resumed read as ~400 kbit/s and went to a 700 kbit/s viewer, then ran at ~1.4 Mbit/s)."""
        if now - self.arriving_since < 2 * RATE_WINDOW_S:
            return max(self.bitrate_bps, self.known_bps)
        return self.bitrate_bps

    def active(self, now: float) -> bool:
        """Packets arrived lately (a paused or stopped encoding sends none)."""
        return self.last_arrival > 0 and now - self.last_arrival < IDLE_S

    @property
    def wanted(self) -> bool:
        return bool(self.subs or self.pending or self.taps)
