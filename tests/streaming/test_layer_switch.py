"""A viewer moved between simulcast layers (issue 14 §2): what the Source sends it, packet by
packet, with synthetic VP8 streams whose SSRCs, sequence numbers, timestamps and PictureIDs all
start apart. The Source's own logic is under test; the send path records instead of sending
(the real path is proven end to end by tests/whip/test_simulcast.py with Chromium)."""

from __future__ import annotations

import itertools
import struct

from config import MediaLimits
from streaming import rtp_header, vp8
from streaming.keyframe import vp8_keyframe_start
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription

VP8 = Codec(96, "video/VP8", 90000)
RIDS = ("q", "h", "f")


class Sent:
    """What the viewer would receive: (seq, ts, PictureID, keyframe start)."""

    def __init__(self) -> None:
        self.packets: list[tuple[int, int, int, bool]] = []
        self.rtcp: list[bytes] = []

    def batch_rtp(self, _batch: object, template: bytes, seq: int, ts: int, ssrc: int) -> bool:
        return self.send_rtp(template, seq, ts, ssrc)

    def send_rtp(self, template: bytes, seq: int, ts: int, ssrc: int) -> bool:
        h = rtp_header.parse(template)
        pid = vp8.descriptor(template, h.payload_offset, h.payload_end).pid
        key = vp8_keyframe_start(template, h.payload_offset, h.payload_end)
        self.packets.append((seq, ts, pid, key))
        return True

    def send_rtcp(self, packet: bytes) -> bool:
        self.rtcp.append(packet)
        return True


def _packet(ssrc: int, seq: int, ts: int, pid: int, key: bool, last: bool) -> bytes:
    header = struct.pack("!BBHII", 0x80, (0x80 if last else 0) | 96, seq & 0xFFFF,
                         ts & 0xFFFFFFFF, ssrc)
    descriptor = bytes([0x90, 0x80, 0x80 | (pid >> 8) & 0x7F, pid & 0xFF])
    frame = bytes([0x00 if key else 0x01, 0, 0, 0x9D, 0x01, 0x2A]) + bytes(30)
    return header + descriptor + frame


class Streams:
    """Three layers sending frames of two packets, 30 frames/s (3000 ticks), apart in every
    number; ``frame(keys)`` sends one frame on every layer, keyframes on those in ``keys``,
    highest layer first (a viewer moving up gets the new layer's frame before the old one's)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.seq = [100, 30000, 60000]
        self.ts = [1000, 2_000_000_000, 4_000_000_000]
        self.pid = [5, 20000, 32760]
        self.ssrc = [11, 22, 33]

    def frame(self, keys: tuple[int, ...] = ()) -> None:
        for layer in (2, 1, 0):
            for part in range(2):
                data = _packet(self.ssrc[layer], self.seq[layer], self.ts[layer],
                               self.pid[layer], layer in keys and part == 0, part == 1)
                self.source.on_rtp(data, rtp_header.parse(data), layer)
                self.seq[layer] += 1
            self.ts[layer] += 3000
            self.pid[layer] = (self.pid[layer] + 1) % (1 << 15)


async def _viewer() -> tuple[Source, Subscription, Sent, Streams]:
    source = Source("p/video0", "room", "video", VP8, MediaLimits(), RIDS)
    sent = Sent()
    sub = Subscription("viewer", "video", Route(96, 1234, bytes(256), 90000), sent)  # type: ignore[arg-type]
    return source, sub, sent, Streams(source)


def _continuous(packets: list[tuple[int, int, int, bool]]) -> None:
    for (seq, ts, pid, _), (seq2, ts2, pid2, _) in itertools.pairwise(packets):
        assert seq2 == (seq + 1) & 0xFFFF, (seq, seq2)
        assert 0 <= (ts2 - ts) % (1 << 32) < 90000, (ts, ts2)
        assert pid2 in (pid, (pid + 1) % (1 << 15)), (pid, pid2)


async def test_a_switch_happens_at_the_target_keyframe_and_every_number_continues() -> None:
    source, sub, sent, streams = await _viewer()
    source.attach(sub, 0)
    streams.frame()  # no keyframe yet: nothing sent
    assert sent.packets == []
    streams.frame(keys=(0, 1, 2))
    assert len(sent.packets) == 2 and sent.packets[0][3], "it starts at layer 0's keyframe"
    source.set_target(sub, 2)
    for _ in range(3):
        streams.frame()
    assert sub.layer == 0 and source.target_of(sub) == 2, "no switch before f's keyframe"
    streams.frame(keys=(2,))
    assert sub.layer == 2 and sent.packets[-2][3], "moved at f's keyframe"
    source.set_target(sub, 1)
    streams.frame(keys=(1,))
    streams.frame()
    assert sub.layer == 1
    assert len(sent.packets) == 2 * 8
    _continuous(sent.packets)
    assert source.switches == 2


async def test_timestamps_follow_the_sender_reports_across_layers() -> None:
    """With both layers' sender reports, the first frame of the new layer gets exactly the
    viewer timestamp its capture time had on the old one (RFC 3550 §6.4.1)."""
    source, sub, sent, streams = await _viewer()
    source.attach(sub, 0)
    streams.frame(keys=(0,))
    ntp = 1 << 32  # both layers: the NTP second 1.0 is their current timestamp
    source.on_sender_report(ntp, streams.ts[0], 0)
    source.on_sender_report(ntp, streams.ts[2], 2)
    source.set_target(sub, 2)
    streams.frame()
    streams.frame(keys=(2,))
    first_ts = sent.packets[0][1]
    assert sent.packets[-2][1] == (first_ts + 2 * 3000) % (1 << 32)
    _continuous(sent.packets)


async def test_no_video_then_back() -> None:
    source, sub, sent, streams = await _viewer()
    source.attach(sub, 1)
    streams.frame(keys=(1,))
    source.set_target(sub, None)
    streams.frame(keys=(0, 1, 2))
    assert sub.layer == -1 and len(sent.packets) == 2
    assert source.wanted() == ("q",), "only the lowest stays wanted"
    source.set_target(sub, 0)
    assert source.wanted() == ("q",)
    streams.frame(keys=(0,))
    assert sub.layer == 0
    _continuous(sent.packets)


async def test_a_nack_from_before_the_switch_is_not_answered_from_the_new_layer() -> None:
    source, sub, sent, streams = await _viewer()
    source.attach(sub, 0)
    streams.frame(keys=(0,))
    old_seq = sent.packets[0][0]
    source.set_target(sub, 2)
    streams.frame(keys=(2,))
    count = len(sent.packets)
    assert source.retransmit(sub, [old_seq]) == 0
    assert len(sent.packets) == count
    assert source.retransmit(sub, [sent.packets[-1][0]]) == 1
