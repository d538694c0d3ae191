"""Source: one published track, and the fan-out of its packets to every Subscription.

:meth:`Source.on_rtp` is the hot loop of the product (DESIGN.md §3). Per publisher packet it
updates the NACK cache and the keyframe cache once, builds one plaintext template per group of
viewers that negotiated the same payload type and header extension ids, and per viewer adds
two offsets and hands the template to the viewer's Egress (copy, header, in-place SRTP,
``sendto``). Everything slower (PLI throttling, NACK answers, sender reports, ending) happens
at RTCP rate, outside that loop. Where streaming._fastsend is built, the per-viewer part runs
in C (``fanout``, issue 19 §4; docs/media.md "The per-viewer loop in C"), and the Python loop
below takes only what the C loop leaves to it (a viewer waiting for a keyframe, a backlog).

A simulcast track (issue 14 §1-2) has one :class:`~streaming.layer.Layer` per encoding; each
viewer gets one layer at a time (``Layer.subs``), and moves to another only at that layer's
keyframe (``Layer.pending``), with its sequence numbers, timestamps and VP8 picture numbers
continuing where they were (:meth:`Source._promote`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from config import MediaLimits
from streaming import h264_size, rtp_header, send_backend, vp8
from streaming.adaptation import LayerOption
from streaming.audio_level import LevelMeter
from streaming.egress import Egress
from streaming.errors import Capacity
from streaming.feedback import NackWindow
from streaming.keyframe import detector
from streaming.layer import Layer
from streaming.negotiation import Codec
from streaming.packet_cache import KeyframeCache, PacketCache
from streaming.rtp_header import RtpHeader
from streaming.send_batch import SendBatch
from streaming.subscription import Subscription, extension_table, template_key
from streaming.tap import PacketTap

logger = logging.getLogger(__name__)
TS_MOD = 1 << 32
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
NACK_MERGE_S = 0.2  # a packet asked of the origin is not asked again within this (an RTT)
PLI_RETRY_S = 0.35  # a layer still awaited this long after its PLI is asked again

KeyframeSink = Callable[[], None]
Templates = dict[int, bytes | bytearray]  # by Subscription.template_key
# streaming._fastsend.fanout(subs, templates, make, seq, ts, size)
#     -> (slow, failed, blocked, sendmmsg calls, copies they carried)
Fanout = Callable[..., tuple[Any, Any, Any, int, int]]


class Source:
    """One published track: ``kind`` audio or video, forwarded in ``codec``.

    ``rids`` names a simulcast track's encodings (issue 14 §1); a plain track has one layer.
    """

    def __init__(
        self,
        source_id: str,
        room: str,
        kind: str,
        codec: Codec,
        limits: MediaLimits,
        rids: tuple[str, ...] = ("",),
    ) -> None:
        self.source_id = source_id
        self.room = room
        self.kind = kind
        self.codec = codec
        self.subscriptions: list[Subscription] = []
        # told when a viewer attaches or detaches (a channel's listener count, issue 17)
        self.on_viewers: Callable[[], None] | None = None
        self.max_viewers = limits.max_viewers_per_track
        self._cache_size = limits.nack_cache_packets
        pli_s = limits.pli_interval_ms / 1000
        self.layers = [Layer(i, rid, self._cache_size, pli_s) for i, rid in enumerate(rids)]
        self.simulcast = len(self.layers) > 1
        self.rank = list(range(len(self.layers)))  # layer indices, lowest quality first
        # an edge's Source: cache misses go to the origin, merged (issue 13 §3)
        self.nack_upstream: Callable[[list[int]], None] | None = None
        self.relayed = False  # fed by an edge's upstream (issue 13 §3), not a publisher here
        self.nacks = NackWindow(NACK_MERGE_S)
        self.extension_ids: dict[str, int] = {}
        # an audio track whose publisher sends RFC 6464 levels (filled by streaming/intake.py)
        self.levels: LevelMeter | None = None
        self.ended = asyncio.Event()
        self.packets = 0
        self.switches = 0  # viewers moved from one layer to another (or back from none)
        self._video = kind == "video"
        self._keyframe_test = detector(codec.mime)
        self._vp8 = self.simulcast and codec.name == "vp8"
        self._loop = asyncio.get_running_loop()
        self._ast_id = 0  # the publisher's abs-send-time extension id (0: none)
        # issue 17 (streaming/channels.py): an interpretation channel's Source is tagged with
        # its ``language``; an interpreter's own track with the channel it feeds (``booth``)
        self.language: str | None = None
        self.booth: str | None = None
        # issue 19 §2: one packet's copies, sent per socket at the end of its fan-out
        self.batch = SendBatch()
        # issue 19 §4: the compiled per-viewer loop (None: the Python loop below does it all)
        self.fanout: Fanout | None = send_backend.fanout(limits.send_backend)

    # compatibility views of the first (or only) layer
    @property
    def cache(self) -> PacketCache:
        return self.layers[0].cache

    @property
    def gop(self) -> KeyframeCache:
        return self.layers[0].gop

    @property
    def keyframes(self) -> int:
        return sum(layer.keyframes for layer in self.layers)

    @property
    def upstream(self) -> KeyframeSink | None:
        return self.layers[0].upstream

    @upstream.setter
    def upstream(self, sink: KeyframeSink | None) -> None:
        self.layers[0].upstream = sink

    # -- the hot path -------------------------------------------------------------------------

    def on_rtp(self, data: bytes, h: RtpHeader, index: int = 0) -> None:
        """Forward one publisher packet (plaintext RTP) of layer ``index`` to its viewers."""
        layer = self.layers[index]
        if h.ssrc != layer.ssrc:
            self._switch(layer, h.ssrc)
        seq = h.sequence
        ts = h.timestamp
        is_key = self._keyframe_test(data, h.payload_offset, h.payload_end)
        size = h.payload_end - h.payload_offset
        self.packets += 1
        layer.octets += size
        layer.frame_end = h.marker
        layer.cache.add(seq, data)
        if self._video:
            if is_key and ts != layer.gop_ts:
                layer.gop.start(data)
                layer.gop_ts = ts
                layer.keyframes += 1
                self._keyframe_seen(layer, data, h)
            else:
                layer.gop.append(data)
            layer.arrive(self._loop.time())
        stamp_at = self._stamp_position(data, h)
        layer.last_packet = data
        if layer.taps:
            for tap in layer.taps:
                tap.on_rtp(data, h)
        if not layer.subs:
            return
        templates: Templates = {}
        subs = layer.subs
        fanout = self.fanout
        if fanout is not None:  # issue 19 §4: the per-viewer loop in C
            make = partial(self._made_template, data, h, stamp_at)
            slow, failed, blocked, calls, sent = fanout(subs, templates, make, seq, ts, size)
            if calls:
                self.batch.calls += calls
                self.batch.datagrams += sent
            if failed is not None or blocked is not None:
                self._not_sent(layer, failed, blocked, size)
            if slow is None:
                return
            subs = slow
        batch = self.batch
        for sub in subs:
            fwd = sub.forwarder
            if sub.waiting_keyframe:
                if self._video and not is_key:
                    continue
                sub.waiting_keyframe = False
                fwd.resume(seq, ts)
            template = templates.get(sub.template_key)
            if template is None:
                template = self._made_template(data, h, stamp_at, sub)
                templates[sub.template_key] = template
            out_seq = (seq + fwd.seq_offset) & 0xFFFF
            out_ts = (ts + fwd.ts_offset) & 0xFFFFFFFF
            fwd.last_seq = out_seq
            fwd.last_ts = out_ts
            if sub.egress.batch_rtp(batch, template, out_seq, out_ts, sub.ssrc):
                sub.packets += 1
                sub.octets += size
            else:
                self._fell_behind(sub, layer)
        batch.flush()
        if batch.dropped:
            self._dropped(layer, batch.take_dropped(), size)

    def _made_template(
        self, data: bytes, h: RtpHeader, stamp_at: int, sub: Subscription
    ) -> bytes | bytearray:
        """The packet as ``sub``'s template group gets it (shared by the group this packet)."""
        template = self._template(data, h, sub, stamp_at)
        if sub.pid_offset or sub.tl0_offset:  # a viewer that switched VP8 layers
            template = self._renumbered(template, data, h, sub)
        return template

    def _not_sent(
        self,
        layer: Layer,
        failed: list[Subscription] | None,
        blocked: list[tuple[Subscription, bytes]] | None,
        size: int,
    ) -> None:
        """The compiled fan-out's leftovers: copies libsrtp refused (the viewer skips to the
        next keyframe, as :meth:`Egress.send_rtp` returning False means), and copies the
        kernel had no room for (queued, or dropped when the queue is full)."""
        for sub in failed or ():
            self._fell_behind(sub, layer)
        for sub, data in blocked or ():
            if not sub.egress.unsent(data, True):
                sub.packets -= 1
                sub.octets -= size
                self._fell_behind(sub, layer)

    def _fell_behind(self, sub: Subscription, layer: Layer) -> None:
        """The viewer's queue is full: video skips to the next keyframe."""
        if self._video:
            sub.waiting_keyframe = True
            self.request_keyframe(layer.index)

    def _dropped(self, layer: Layer, egresses: list[Egress], size: int) -> None:
        """The flush found these viewers' queues full (rare): as :meth:`_fell_behind`."""
        for sub in layer.subs:
            if sub.egress in egresses:
                sub.packets -= 1
                sub.octets -= size
                self._fell_behind(sub, layer)

    def relay_rtp(self, data: bytes, h: RtpHeader, now: float) -> None:
        """A packet of another Source that feeds this one (an interpretation channel, issue
        17): forwarded as a publisher's, its arrival noted (audio layers keep no arrival time
        otherwise) so a change of feed moves timestamps on by the time that passed."""
        self.on_rtp(data, h)
        self.layers[0].last_arrival = now

    def restart_stream(self) -> None:
        """The next packet starts a new stream for every viewer, even with the same SSRC (a
        channel's feed changed or came back from a mute): sequence numbers go on by one,
        timestamps by the time since the last packet (:meth:`_switch`, RFC 3550 §5.1)."""
        for layer in self.layers:
            if layer.ssrc != -1:
                layer.ssrc = -2  # no RTP SSRC is negative: the next packet differs

    def _stamp_position(self, data: bytes, h: RtpHeader) -> int:
        """Where the packet's abs-send-time value is (-1: none to restamp)."""
        if not self._ast_id:
            return -1
        stamp_at = rtp_header.extension_position(data, h.extension_offset, self._ast_id)
        if stamp_at > 0 and data[stamp_at - 1] & 0x0F != 2:
            return -1  # not the 3 octets abs-send-time is: leave it alone
        return stamp_at

    @staticmethod
    def _renumbered(
        template: bytes | bytearray, data: bytes, h: RtpHeader, sub: Subscription
    ) -> bytes | bytearray:
        """``template`` with the viewer's VP8 PictureID / TL0PICIDX offsets added (RFC 7741
        §4.2), so they continue across its layer switches. Viewers with the same offsets (the
        same switches at the same keyframes) share the result."""
        fields = vp8.descriptor(data, h.payload_offset, h.payload_end)
        buf = bytearray(template)
        if fields.pid_pos >= 0:
            vp8.write_pid(buf, fields, (fields.pid + sub.pid_offset) % vp8.pid_modulus(fields))
        if fields.tl0_pos >= 0:
            buf[fields.tl0_pos] = (fields.tl0 + sub.tl0_offset) & 0xFF
        return buf

    def _template(
        self, data: bytes, h: RtpHeader, sub: Subscription, stamp_at: int = -1
    ) -> bytes | bytearray:
        """The packet with the viewer group's payload type and extension ids (not yet seq/ts).

        ``stamp_at``: where the packet's abs-send-time value is; it gets this node's send time
        for viewers that negotiated the extension, so a viewer's delay-based estimate (sent
        back as REMB, issue 14 §2) measures our path to it, not the publisher's.
        """
        if h.payload_type == sub.payload_type and h.extension_offset < 0:
            return data
        buf = bytearray(data)
        buf[1] = (buf[1] & 0x80) | sub.payload_type
        if h.extension_offset >= 0:
            table = sub.route.extension_table
            rtp_header.remap_extensions(buf, h.extension_offset, table)
            if stamp_at >= 0 and table[self._ast_id]:
                buf[stamp_at : stamp_at + 3] = rtp_header.abs_send_time(self._loop.time())
        return buf

    def _switch(self, layer: Layer, ssrc: int) -> None:
        """A layer's stream changed SSRC (first packet, encoder restart, reconnect)."""
        if layer.ssrc != -1:
            gap = max(0.0, self._loop.time() - layer.last_arrival)
            ticks = int(gap * self.codec.clock_rate)
            for sub in layer.subs:
                sub.forwarder.switch(ticks)
                sub.waiting_keyframe = True
        layer.restart(ssrc, self._cache_size)

    # -- layers (issue 14 §2) -----------------------------------------------------------------

    def _keyframe_seen(self, layer: Layer, data: bytes, h: RtpHeader) -> None:
        """A layer's keyframe starts: learn its size, move its pending viewers (a simulcast
        switch, or video back after a pause)."""
        if layer.pending:
            logger.debug("keyframe of %s for %d pending", layer.rid, len(layer.pending),
                         extra={"room": self.room, "track": self.source_id})
        if self.codec.name == "vp8":
            width, height = vp8.keyframe_size(data, h.payload_offset, h.payload_end)
        elif self.codec.name == "h264":
            width, height = h264_size.keyframe_size(data, h.payload_offset, h.payload_end)
        else:
            width = height = 0
        if width:
            layer.width, layer.height = width, height
        if layer.pending:
            self._promote(layer, data, h)

    def _promote(self, layer: Layer, data: bytes, h: RtpHeader) -> None:
        """Move ``layer.pending`` onto ``layer``, starting with this keyframe packet."""
        fields = vp8.descriptor(data, h.payload_offset, h.payload_end) if self._vp8 else None
        now = self._loop.time()
        for sub in layer.pending:
            self._leave(sub)
            fwd = sub.forwarder
            out_ts = self._entry_ts(sub, layer, h.timestamp, now)
            fwd.continue_at(h.sequence, h.timestamp, out_ts)
            sub.switch_seq = (fwd.last_seq + 1) & 0xFFFF
            if fields is not None:
                self._renumber(sub, fields)
            sub.layer = layer.index
            sub.waiting_keyframe = False
            layer.subs.append(sub)
            if sub.started:
                self.switches += 1
                sub.switches += 1
                logger.debug("%s: viewer %s now on layer %s", self.source_id, sub.viewer_id,
                             layer.rid, extra={"room": self.room, "track": self.source_id,
                                               "peer": sub.viewer_id})
            sub.started = True
        layer.pending.clear()

    def _leave(self, sub: Subscription) -> None:
        """Take ``sub`` off the layer it gets now, remembering where its numbers were."""
        if sub.layer < 0:
            return
        old = self.layers[sub.layer]
        if sub in old.subs:
            old.subs.remove(sub)
        if self._vp8 and old.last_packet is not None:
            h = rtp_header.parse(old.last_packet)
            last = vp8.descriptor(old.last_packet, h.payload_offset, h.payload_end)
            if last.pid_pos >= 0:
                sub.out_pid = last.pid + sub.pid_offset
            if last.tl0_pos >= 0:
                sub.out_tl0 = (last.tl0 + sub.tl0_offset) & 0xFF
        sub.left_layer = sub.layer
        sub.left_at = old.last_arrival
        sub.layer = -1

    def _entry_ts(self, sub: Subscription, layer: Layer, ts: int, now: float) -> int:
        """The viewer's timestamp for ``layer``'s keyframe at ``ts``: the same instant on the
        layer it left (both layers' sender reports map RTP to NTP time, RFC 3550 §6.4.1), else
        the time since its last packet; always after the last timestamp it was sent."""
        fwd = sub.forwarder
        if not fwd.started:
            return fwd.last_ts
        clock = self.codec.clock_rate
        old = self.layers[sub.left_layer] if sub.left_layer >= 0 else None
        if old is not None and old.sr_ntp and layer.sr_ntp and sub.left_at >= old.last_arrival:
            at = layer.sr_ntp + _signed(ts - layer.sr_rtp) / clock
            out = old.sr_rtp + round((at - old.sr_ntp) * clock) + fwd.ts_offset
        else:
            out = fwd.last_ts + int(max(0.0, now - sub.left_at) * clock)
        out %= TS_MOD
        if not 0 < _signed(out - fwd.last_ts) < TS_MOD // 4:
            out = (fwd.last_ts + 1) % TS_MOD
        return out

    @staticmethod
    def _renumber(sub: Subscription, fields: vp8.Vp8Fields) -> None:
        """Offsets that make the keyframe's PictureID / TL0PICIDX follow the last ones sent."""
        if fields.pid_pos >= 0:
            modulus = vp8.pid_modulus(fields)
            first = sub.out_pid < 0
            sub.pid_offset = 0 if first else (sub.out_pid + 1 - fields.pid) % modulus
        if fields.tl0_pos >= 0:
            first = sub.out_tl0 < 0
            sub.tl0_offset = 0 if first else (sub.out_tl0 + 1 - fields.tl0) & 0xFF
        sub.template_key = template_key(sub.group, sub.pid_offset, sub.tl0_offset)

    def set_target(self, sub: Subscription, index: int | None, at_once: bool = False) -> None:
        """Give ``sub`` layer ``index`` from that layer's next keyframe on (asked for now), or
        no video at all (``None``: at once). Its current layer goes on until the switch, unless
        ``at_once`` (a congested link: it stops now)."""
        for layer in self.layers:
            if sub in layer.pending:
                layer.pending.remove(sub)
        if index is None or at_once:
            self._leave(sub)
        if index is None:
            return
        if index == sub.layer:
            return
        layer = self.layers[index]
        layer.pending.append(sub)
        self.request_keyframe(index)

    def ask_again(self, now: float) -> None:
        """Ask again for a keyframe of each layer viewers wait for, when the last request was
        ``PLI_RETRY_S`` ago: a publisher may drop a request that came soon after another
        (libwebrtc takes one per 300 ms for all its layers), and nothing else would repeat it."""
        for layer in self.layers:
            if layer.pending and layer.requests.since(now) >= PLI_RETRY_S:
                self.request_keyframe(layer.index)

    def target_of(self, sub: Subscription) -> int | None:
        """The layer ``sub`` is moving to, else the one it gets (None: no video)."""
        for layer in self.layers:
            if sub in layer.pending:
                return layer.index
        return sub.layer if sub.layer >= 0 else None

    def options(self, now: float) -> list[tuple[int, LayerOption]]:
        """The layers, lowest first, as a chooser sees them (rates measured here, so call it
        at the adaptation tick, not per packet)."""
        for layer in self.layers:
            layer.measure(now)
        self._rerank()
        return [
            (i, LayerOption(layer.rid, layer.need_bps(now), layer.width, layer.height,
                            layer.active(now)))
            for i in self.rank
            for layer in (self.layers[i],)
        ]

    def _rerank(self) -> None:
        """Lowest quality first: by keyframe width when every layer's is known, else by rate
        (the page's rid order is not trusted: an encoder may list its layers either way)."""
        layers = self.layers
        if all(layer.width for layer in layers):
            self.rank = sorted(range(len(layers)), key=lambda i: layers[i].width)
        elif all(layer.bitrate_bps for layer in layers):
            self.rank = sorted(range(len(layers)), key=lambda i: layers[i].bitrate_bps)

    def wanted(self) -> tuple[str, ...]:
        """The rids someone gets or moves to, and always the lowest (a new viewer starts at
        once, issue 14 §4): the publisher may pause the others."""
        lowest = self.rank[0]
        return tuple(
            layer.rid for layer in self.layers if layer.wanted or layer.index == lowest
        )

    # -- taps (recorders, streaming/tap.py) ---------------------------------------------------

    def add_tap(self, tap: PacketTap, index: int | None = None) -> int:
        """Give ``tap`` every packet of layer ``index`` (default: the best-ranked layer, for a
        recording) from now on; asks for a keyframe so it can start at once. Returns the index."""
        if self.ended.is_set():
            raise RuntimeError(f"source {self.source_id} has ended")
        if index is None:
            index = self.rank[-1]
        self.remove_tap(tap)
        self.layers[index].taps.append(tap)
        self.request_keyframe(index)
        return index

    def remove_tap(self, tap: PacketTap) -> None:
        for layer in self.layers:
            if tap in layer.taps:
                layer.taps.remove(tap)

    # -- viewers ------------------------------------------------------------------------------

    def attach(self, sub: Subscription, index: int | None = None) -> None:
        """Add a viewer; a video viewer starts from the cached keyframe at once if there is one.

        On a simulcast track it starts on layer ``index`` (default: the lowest that has a
        keyframe cached, else the lowest).
        """
        if self.ended.is_set():
            raise RuntimeError(f"source {self.source_id} has ended")
        if self.full:
            raise Capacity(f"source {self.source_id} has its maximum of viewers")
        self.subscriptions.append(sub)
        if self.on_viewers is not None:
            self.on_viewers()
        if not self.simulcast:
            sub.layer = 0
            layer = self.layers[0]
            layer.subs.append(sub)
            if self._video:
                if layer.gop.ready:
                    self._replay(sub, layer.gop.packets)
                else:
                    self.request_keyframe()
            return
        if index is None:
            ready = [i for i in self.rank if self.layers[i].gop.ready]
            index = ready[0] if ready else self.rank[0]
        layer = self.layers[index]
        layer.pending.append(sub)
        if layer.gop.ready:
            self._replay_pending(layer)
        else:
            self.request_keyframe(index)

    def _replay_pending(self, layer: Layer) -> None:
        """Start ``layer``'s pending viewers from its cached keyframe at once."""
        packets = layer.gop.packets
        first = rtp_header.parse(packets[0])
        subs = list(layer.pending)
        self._promote(layer, packets[0], first)
        for sub in subs:
            self._replay(sub, packets, started=True)

    @property
    def full(self) -> bool:
        return len(self.subscriptions) >= self.max_viewers

    def set_extension_ids(self, ids: dict[str, int]) -> None:
        """The publisher's header extension ids (they may change when it reconnects)."""
        self.extension_ids = ids
        self._ast_id = ids.get(ABS_SEND_TIME, 0)
        for sub in self.subscriptions:
            sub.set_extension_table(extension_table(ids, sub.viewer_extensions))

    def _replay(self, sub: Subscription, packets: list[bytes], started: bool = False) -> None:
        sub.waiting_keyframe = False
        for index, data in enumerate(packets):
            h = rtp_header.parse(data)
            if index == 0 and not started:
                sub.forwarder.resume(h.sequence, h.timestamp)
            out_seq, out_ts = sub.forwarder.map(h.sequence, h.timestamp)
            # restamped like live packets: the publisher's own abs-send-time is on its clock,
            # and one such packet among ours corrupts the viewer's delay-based estimate
            template = self._template(data, h, sub, self._stamp_position(data, h))
            if sub.pid_offset or sub.tl0_offset:
                template = self._renumbered(template, data, h, sub)
            if sub.egress.send_rtp(template, out_seq, out_ts, sub.ssrc):
                sub.packets += 1
                sub.octets += h.payload_end - h.payload_offset

    def detach(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)
            if self.on_viewers is not None:
                self.on_viewers()
        for layer in self.layers:
            if sub in layer.subs:
                layer.subs.remove(sub)
            if sub in layer.pending:
                layer.pending.remove(sub)

    def retransmit(self, sub: Subscription, viewer_seqs: list[int]) -> int:
        """Answer a viewer's NACK from the cache (RFC 4585 §6.2.1); returns packets resent.

        Packets the cache lacks are asked upstream when this Source has a ``nack_upstream``
        (an edge's Source, fed from its origin): merged across viewers (:class:`NackWindow`).
        Numbers from before the viewer's last layer switch belong to another stream: ignored.
        """
        if sub.layer < 0:
            return 0
        cache = self.layers[sub.layer].cache
        sent, missing = 0, []
        for viewer_seq in viewer_seqs:
            if sub.switch_seq >= 0 and (viewer_seq - sub.switch_seq) & 0x8000:
                continue
            seq = sub.forwarder.source_seq(viewer_seq)
            data = cache.get(seq)
            if data is None:
                missing.append(seq)
                continue
            h = rtp_header.parse(data)
            out_ts = sub.forwarder.viewer_ts(h.timestamp)
            template = self._template(data, h, sub, self._stamp_position(data, h))
            if sub.egress.send_rtp(template, viewer_seq, out_ts, sub.ssrc):
                sent += 1
        if missing and self.nack_upstream is not None:
            ask = self.nacks.fresh(missing, self._loop.time())
            if ask:
                self.nack_upstream(ask)
        return sent

    # -- feedback -----------------------------------------------------------------------------

    def request_keyframe(self, index: int = 0) -> None:
        """A viewer needs a keyframe of layer ``index``: a PLI now, or when the throttle
        window ends."""
        if not self._video or self.ended.is_set():
            return
        layer = self.layers[index]
        now = self._loop.time()
        if layer.requests.request(now):
            self._send_pli(layer)
        elif layer.flush_handle is None:
            layer.flush_handle = self._loop.call_later(
                layer.requests.due_in(now), self._flush, layer
            )

    def _flush(self, layer: Layer) -> None:
        layer.flush_handle = None
        if layer.requests.flush(self._loop.time()):
            self._send_pli(layer)

    @staticmethod
    def _send_pli(layer: Layer) -> None:
        logger.debug("PLI for layer %s", layer.rid)
        if layer.upstream is not None:
            layer.upstream()

    def on_sender_report(self, ntp: int, rtp_ts: int, index: int = 0) -> None:
        """Translate the publisher's SR for every viewer of that layer (RFC 3550 §6.4.1): lip
        sync holds. Kept per layer too, to align timestamps at a layer switch."""
        layer = self.layers[index]
        layer.sr_ntp = ntp / (1 << 32)
        layer.sr_rtp = rtp_ts
        for tap in layer.taps:
            tap.on_sender_report(ntp, rtp_ts)
        for sub in layer.subs:
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
        for layer in self.layers:
            layer.subs.clear()
            layer.pending.clear()
            for tap in layer.taps:
                tap.on_end()
            layer.taps.clear()
            handle = layer.flush_handle
            if isinstance(handle, asyncio.TimerHandle):
                handle.cancel()
            layer.flush_handle = None
        self.ended.set()


def _signed(delta: int) -> int:
    """A 32-bit RTP timestamp difference as a signed number (RFC 3550 §5.1 wraps)."""
    delta %= TS_MOD
    return delta - TS_MOD if delta >= TS_MOD // 2 else delta
