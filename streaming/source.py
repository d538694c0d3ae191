"""Source: one published track, and the fan-out of its packets to every Subscription.

:meth:`Source.on_rtp` is the hot loop of the product (DESIGN.md §3). Per publisher packet it
updates the NACK cache and the keyframe cache once, builds one plaintext template per group of
viewers that negotiated the same payload type and header extension ids, and per viewer adds
two offsets and hands the template to the viewer's Egress (copy, header, in-place SRTP,
``sendto``). Everything slower (PLI throttling, NACK answers, sender reports, ending) happens
at RTCP rate, outside that loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from config import MediaLimits
from streaming import rtp_header
from streaming.audio_level import LevelMeter
from streaming.errors import Capacity
from streaming.feedback import KeyframeRequests, NackWindow
from streaming.keyframe import detector
from streaming.negotiation import Codec
from streaming.packet_cache import KeyframeCache, PacketCache
from streaming.rtp_header import RtpHeader
from streaming.subscription import Subscription, extension_table

NACK_MERGE_S = 0.2  # a packet asked of the origin is not asked again within this (an RTT)

KeyframeSink = Callable[[], None]


class Source:
    """One published track: ``kind`` audio or video, forwarded in ``codec``."""

    def __init__(
        self, source_id: str, room: str, kind: str, codec: Codec, limits: MediaLimits
    ) -> None:
        self.source_id = source_id
        self.room = room
        self.kind = kind
        self.codec = codec
        self.subscriptions: list[Subscription] = []
        self.max_viewers = limits.max_viewers_per_track
        self._cache_size = limits.nack_cache_packets
        self.cache = PacketCache(self._cache_size)
        self.gop = KeyframeCache(self._cache_size)
        self.requests = KeyframeRequests(limits.pli_interval_ms / 1000)
        self.upstream: KeyframeSink | None = None
        # an edge's Source: cache misses go to the origin, merged (issue 13 §3)
        self.nack_upstream: Callable[[list[int]], None] | None = None
        self.relayed = False  # fed by an edge's upstream (issue 13 §3), not a publisher here
        self.nacks = NackWindow(NACK_MERGE_S)
        self.extension_ids: dict[str, int] = {}
        # an audio track whose publisher sends RFC 6464 levels (filled by streaming/intake.py)
        self.levels: LevelMeter | None = None
        self.ended = asyncio.Event()
        self.packets = 0
        self.keyframes = 0
        self._video = kind == "video"
        self._keyframe_test = detector(codec.mime)
        self._loop = asyncio.get_running_loop()
        self._ssrc = -1
        self._gop_ts = -1
        self._last_arrival = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None

    # -- the hot path -------------------------------------------------------------------------

    def on_rtp(self, data: bytes, h: RtpHeader) -> None:
        """Forward one publisher packet (plaintext RTP) to every subscription."""
        if h.ssrc != self._ssrc:
            self._switch(h.ssrc)
        seq = h.sequence
        ts = h.timestamp
        is_key = self._keyframe_test(data, h.payload_offset, h.payload_end)
        self.packets += 1
        self.cache.add(seq, data)
        if self._video:
            if is_key and ts != self._gop_ts:
                self.gop.start(data)
                self._gop_ts = ts
                self.keyframes += 1
            else:
                self.gop.append(data)
            self._last_arrival = self._loop.time()
        size = h.payload_end - h.payload_offset
        templates: dict[tuple[int, bytes], bytes | bytearray] = {}
        for sub in self.subscriptions:
            fwd = sub.forwarder
            if sub.waiting_keyframe:
                if self._video and not is_key:
                    continue
                sub.waiting_keyframe = False
                fwd.resume(seq, ts)
            template = templates.get(sub.group)
            if template is None:
                template = templates[sub.group] = self._template(data, h, sub)
            out_seq = (seq + fwd.seq_offset) & 0xFFFF
            out_ts = (ts + fwd.ts_offset) & 0xFFFFFFFF
            fwd.last_seq = out_seq
            fwd.last_ts = out_ts
            if sub.egress.send_rtp(template, out_seq, out_ts, sub.ssrc):
                sub.packets += 1
                sub.octets += size
            elif self._video:
                sub.waiting_keyframe = True  # the viewer fell behind: skip to the next keyframe
                self.request_keyframe()

    def _template(self, data: bytes, h: RtpHeader, sub: Subscription) -> bytes | bytearray:
        """The packet with the viewer group's payload type and extension ids (not yet seq/ts)."""
        if h.payload_type == sub.payload_type and h.extension_offset < 0:
            return data
        buf = bytearray(data)
        buf[1] = (buf[1] & 0x80) | sub.payload_type
        if h.extension_offset >= 0:
            rtp_header.remap_extensions(buf, h.extension_offset, sub.route.extension_table)
        return buf

    def _switch(self, ssrc: int) -> None:
        """The publisher's stream changed SSRC (first packet, encoder restart, reconnect)."""
        if self._ssrc != -1:
            gap = max(0.0, self._loop.time() - self._last_arrival)
            ticks = int(gap * self.codec.clock_rate)
            for sub in self.subscriptions:
                sub.forwarder.switch(ticks)
                sub.waiting_keyframe = True
            self.cache.clear()
            self.gop = KeyframeCache(self._cache_size)
            self._gop_ts = -1
        self._ssrc = ssrc

    # -- viewers ------------------------------------------------------------------------------

    def attach(self, sub: Subscription) -> None:
        """Add a viewer; a video viewer starts from the cached keyframe at once if there is one."""
        if self.ended.is_set():
            raise RuntimeError(f"source {self.source_id} has ended")
        if self.full:
            raise Capacity(f"source {self.source_id} has its maximum of viewers")
        if self._video:
            if self.gop.ready:
                self._replay(sub, self.gop.packets)
            else:
                self.request_keyframe()
        self.subscriptions.append(sub)

    @property
    def full(self) -> bool:
        return len(self.subscriptions) >= self.max_viewers

    def set_extension_ids(self, ids: dict[str, int]) -> None:
        """The publisher's header extension ids (they may change when it reconnects)."""
        self.extension_ids = ids
        for sub in self.subscriptions:
            sub.set_extension_table(extension_table(ids, sub.viewer_extensions))

    def _replay(self, sub: Subscription, packets: list[bytes]) -> None:
        sub.waiting_keyframe = False
        for index, data in enumerate(packets):
            h = rtp_header.parse(data)
            if index == 0:
                sub.forwarder.resume(h.sequence, h.timestamp)
            out_seq, out_ts = sub.forwarder.map(h.sequence, h.timestamp)
            if sub.egress.send_rtp(self._template(data, h, sub), out_seq, out_ts, sub.ssrc):
                sub.packets += 1
                sub.octets += h.payload_end - h.payload_offset

    def detach(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    def retransmit(self, sub: Subscription, viewer_seqs: list[int]) -> int:
        """Answer a viewer's NACK from the cache (RFC 4585 §6.2.1); returns packets resent.

        Packets the cache lacks are asked upstream when this Source has a ``nack_upstream``
        (an edge's Source, fed from its origin): merged across viewers (:class:`NackWindow`).
        """
        sent, missing = 0, []
        for viewer_seq in viewer_seqs:
            seq = sub.forwarder.source_seq(viewer_seq)
            data = self.cache.get(seq)
            if data is None:
                missing.append(seq)
                continue
            h = rtp_header.parse(data)
            out_ts = sub.forwarder.viewer_ts(h.timestamp)
            if sub.egress.send_rtp(self._template(data, h, sub), viewer_seq, out_ts, sub.ssrc):
                sent += 1
        if missing and self.nack_upstream is not None:
            ask = self.nacks.fresh(missing, self._loop.time())
            if ask:
                self.nack_upstream(ask)
        return sent

    # -- feedback -----------------------------------------------------------------------------

    def request_keyframe(self) -> None:
        """A viewer needs a keyframe: send a PLI now, or once the throttle window ends."""
        if not self._video or self.ended.is_set():
            return
        now = self._loop.time()
        if self.requests.request(now):
            self._send_pli()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_later(self.requests.due_in(now), self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        if self.requests.flush(self._loop.time()):
            self._send_pli()

    def _send_pli(self) -> None:
        if self.upstream is not None:
            self.upstream()

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        """Translate the publisher's SR for every viewer (RFC 3550 §6.4.1): lip sync holds."""
        for sub in self.subscriptions:
            if sub.forwarder.started and not sub.waiting_keyframe:
                sub.egress.send_rtcp(sub.sender_report(ntp, rtp_ts))

    def end(self) -> None:
        """The publisher left: send each viewer an RTCP BYE so its track ends cleanly."""
        if self.ended.is_set():
            return
        for sub in self.subscriptions:
            sub.ended = True
            sub.egress.send_rtcp(sub.bye())
        self.subscriptions.clear()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self.ended.set()
