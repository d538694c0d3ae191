"""Every packet a viewer gets carries this node's abs-send-time, resent and replayed ones too.

Chromium's delay-based estimator (the source of a viewer's REMB, issue 14 §2) reads the
abs-send-time of each packet against its arrival. Live packets are restamped when forwarded;
a NACK's answer or a cached keyframe replayed to a new viewer once went out with the
publisher's own stamp, on the publisher's clock: one such packet among ours looked like a jump
of up to 32 s, and the measured effect was a 4 Mbit/s viewer whose REMB collapsed to ~94 kbit/s
with nothing lost (docs/media.md "Estimation and layer choice").
"""

from __future__ import annotations

import asyncio
import struct

from config import MediaLimits
from streaming import rtp_header
from streaming.negotiation import Codec
from streaming.source import ABS_SEND_TIME, Source
from streaming.subscription import Route, Subscription, extension_table

VP8 = Codec(96, "video/VP8", 90000)
PUBLISHER_ID, VIEWER_ID = 3, 5
PUBLISHER_STAMP = b"\xab\xcd\xef"  # the publisher's clock: far from ours


class Sent:
    """The abs-send-time value of each packet the viewer would receive, by sequence number."""

    def __init__(self) -> None:
        self.stamps: list[tuple[int, bytes | None]] = []

    def batch_rtp(self, _batch: object, template: bytes, seq: int, ts: int, ssrc: int) -> bool:
        return self.send_rtp(template, seq, ts, ssrc)

    def send_rtp(self, template: bytes, seq: int, ts: int, ssrc: int) -> bool:
        h = rtp_header.parse(template)
        self.stamps.append((seq, rtp_header.find_extension(template, h.extension_offset,
                                                           VIEWER_ID)))
        return True

    def send_rtcp(self, packet: bytes) -> bool:
        return True


def _packet(seq: int, ts: int, key: bool) -> bytes:
    header = struct.pack("!BBHII", 0x90, 0x80 | 96, seq, ts, 7)
    # one-byte header extensions (RFC 8285 §4.2): abs-send-time, 3 octets, then padding
    extension = struct.pack("!HH", 0xBEDE, 1) + bytes([PUBLISHER_ID << 4 | 2]) + PUBLISHER_STAMP
    descriptor = bytes([0x10])  # VP8 payload descriptor: S=1, partition 0 (RFC 7741 §4.2)
    frame = bytes([0x00 if key else 0x01, 0, 0, 0x9D, 0x01, 0x2A]) + bytes(30)
    return header + extension + descriptor + frame


def _viewer(source: Source) -> tuple[Subscription, Sent]:
    sent = Sent()
    table = extension_table({ABS_SEND_TIME: PUBLISHER_ID}, {ABS_SEND_TIME: VIEWER_ID})
    route = Route(96, 1234, table, 90000, ((ABS_SEND_TIME, VIEWER_ID),))
    return Subscription("viewer", "video", route, sent), sent  # type: ignore[arg-type]


def _ours(stamp: bytes | None, now: float) -> bool:
    """Whether ``stamp`` is this node's clock within a second of ``now``."""
    assert stamp is not None and stamp != PUBLISHER_STAMP
    ours = rtp_header.abs_send_time(now)
    apart = (int.from_bytes(ours, "big") - int.from_bytes(stamp, "big")) % (1 << 24)
    return min(apart, (1 << 24) - apart) < 1 << 18


async def test_resent_and_replayed_packets_carry_this_nodes_send_time() -> None:
    source = Source("p/video0", "room", "video", VP8, MediaLimits())
    source.set_extension_ids({ABS_SEND_TIME: PUBLISHER_ID})
    first, first_sent = _viewer(source)
    source.attach(first)
    for seq in range(100, 104):  # a keyframe, then three frames
        data = _packet(seq, 1000 + 3000 * (seq - 100), seq == 100)
        source.on_rtp(data, rtp_header.parse(data))
    now = asyncio.get_running_loop().time()
    assert len(first_sent.stamps) == 4
    assert all(_ours(stamp, now) for _, stamp in first_sent.stamps), "live: restamped"
    lost = first_sent.stamps[1][0]
    assert source.retransmit(first, [lost]) == 1
    assert first_sent.stamps[-1][0] == lost and _ours(first_sent.stamps[-1][1], now), "resent"
    late, late_sent = _viewer(source)
    source.attach(late)  # starts from the cached keyframe at once
    assert len(late_sent.stamps) == 4
    assert all(_ours(stamp, now) for _, stamp in late_sent.stamps), "replayed"
