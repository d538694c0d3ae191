"""Simulcast's cost on the hot path, against today's single-layer fan-out in the same run.

    .venv/bin/python -m bench.simulcast [--viewers 150] [--packets 3000] [--repeats 5]

Real libsrtp sessions and real UDP sockets on loopback (as bench/hot_path.py), no peers. Three
rows, each in µs of CPU per delivered packet:

- one layer: every packet goes to every viewer (what the plane did before simulcast);
- three layers: packets of q, h and f interleaved 1:3:8 (their rates' ratio), a third of the
  viewers on each layer, none switched: every viewer shares its layer's template;
- three layers, switched: the same after every viewer moved layers once, so its VP8 PictureID
  and TL0PICIDX are rewritten (one template per group of viewers with the same offsets).

Then what the adaptation tick costs per viewer (streaming/viewer_adapt.py), and so what share of
a core adapting one viewer takes (the allocator ticks every ``TICK_S``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import struct
import time

from pylibsrtp import Policy, Session

from config import MediaLimits
from streaming import rtp_header
from streaming.adaptation import TileView
from streaming.allocator import TICK_S
from streaming.egress import Egress
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription
from streaming.viewer_adapt import Sent, ViewerAdaptation

RATIO = (1, 3, 8)  # packets of q, h, f per round


class Streams:
    """VP8 packets of each layer: own SSRC, numbers, 15-bit PictureID and TL0PICIDX."""

    def __init__(self, layers: int) -> None:
        self.seq = [random.getrandbits(16) for _ in range(layers)]
        self.ts = [random.getrandbits(32) for _ in range(layers)]
        self.pid = [random.getrandbits(15) for _ in range(layers)]
        self.payload = os.urandom(1100)

    def packet(self, layer: int, key: bool) -> bytes:
        seq, ts, pid = self.seq[layer], self.ts[layer], self.pid[layer]
        self.seq[layer] = (seq + 1) & 0xFFFF
        self.ts[layer] = (ts + 3000) & 0xFFFFFFFF
        self.pid[layer] = (pid + 1) & 0x7FFF
        descriptor = bytes([0x90, 0xC0, 0x80 | pid >> 8, pid & 0xFF, pid & 0xFF])
        tag = b"\x00\x00\x00\x9d\x01\x2a" if key else b"\x01\x00\x00"
        return struct.pack("!BBHII", 0x80, 0x80 | 96, seq, ts, 1000 + layer) + descriptor + tag \
            + self.payload

    def round(self, layers: int, key: bool = False) -> list[tuple[bytes, int]]:
        if layers == 1:
            return [(self.packet(0, key), 0) for _ in range(sum(RATIO))]
        return [(self.packet(i, key and n == 0), i) for i in range(3) for n in range(RATIO[i])]


def _viewers(source: Source, count: int, loop: asyncio.AbstractEventLoop) -> list[object]:
    """``count`` viewers of ``source``; returns what must outlive them (sinks, SRTP sessions:
    an Egress holds a raw libsrtp pointer)."""
    key, sinks, keep = os.urandom(30), [], []
    table = rtp_header.extension_map_table({})
    for index in range(count):
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sinks.append(sink)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        session = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
        keep.append(session)
        egress = Egress(session._srtp[0], sock, sink.getsockname(), 512, loop)
        sub = Subscription("v", "video", Route(96, random.getrandbits(32), table, 90000), egress)
        source.attach(sub, (index + 1) % len(source.layers) if source.simulcast else None)
    return sinks + keep


async def fan_out(layers: int, viewers: int, packets: int, switched: bool) -> tuple[float, int]:
    """µs of CPU per delivered packet, and the packets delivered."""
    loop = asyncio.get_running_loop()
    rids = ("q", "h", "f") if layers == 3 else ("",)
    source = Source("bench/video0", "bench", "video", Codec(96, "video/VP8", 90000),
                    MediaLimits(max_viewers_per_track=100_000), rids)
    sinks = _viewers(source, viewers, loop)
    streams = Streams(layers)
    for data, index in streams.round(layers, key=True):
        source.on_rtp(data, rtp_header.parse(data), index)
    if switched:  # every viewer to its own layer, at that layer's next keyframe
        for n, sub in enumerate(source.subscriptions):
            source.set_target(sub, n % layers)
        for data, index in streams.round(layers, key=True):
            source.on_rtp(data, rtp_header.parse(data), index)
    stream = [pair for _ in range(packets // sum(RATIO)) for pair in streams.round(layers)]
    parsed = [(data, rtp_header.parse(data), index) for data, index in stream]
    before = sum(sub.packets for sub in source.subscriptions)
    start = time.process_time()
    for n, (data, header, index) in enumerate(parsed):
        source.on_rtp(data, header, index)
        if n % 12 == 11:
            await asyncio.sleep(0.002)
    cost = time.process_time() - start
    delivered = sum(sub.packets for sub in source.subscriptions) - before
    source.end()
    _close(sinks)
    return cost * 1e6 / max(1, delivered), delivered


async def tick_cost(viewers: int) -> float:
    """µs of CPU per viewer per adaptation tick (one simulcast video each)."""
    loop = asyncio.get_running_loop()
    source = Source("bench/video0", "bench", "video", Codec(96, "video/VP8", 90000),
                    MediaLimits(max_viewers_per_track=100_000), ("q", "h", "f"))
    sinks = _viewers(source, viewers, loop)
    adaptations = [ViewerAdaptation(MediaLimits().adapt) for _ in range(viewers)]
    pairs = [[(source, sub)] for sub in source.subscriptions]
    now = loop.time()
    start = time.process_time()
    rounds = 50
    for n in range(rounds):
        ranked = source.options(now + n * 0.2)
        for adaptation, subs in zip(adaptations, pairs, strict=True):
            adaptation.on_remb(2_000_000, now + n * 0.2)
            sent = Sent(n * 50_000, n * 40, 0)
            adaptation.tick(subs, TileView(), lambda _s, r=ranked: r, sent, now + n * 0.2)
    cost = (time.process_time() - start) * 1e6 / (rounds * viewers)
    _close(sinks)
    return cost


def _close(kept: list[object]) -> None:
    for thing in kept:
        if isinstance(thing, socket.socket):
            thing.close()


MODES = (
    ("one layer (before simulcast)", 1, False),
    ("three layers", 3, False),
    ("three layers, every viewer switched", 3, True),
)


async def main(viewers: int, packets: int, repeats: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {0})
    costs: dict[str, list[float]] = {name: [] for name, _, _ in MODES}
    delivered: dict[str, int] = {}
    for _ in range(repeats):  # interleaved, so a noisy moment hits every mode alike
        for name, layers, switched in MODES:
            cost, count = await fan_out(layers, viewers, packets, switched)
            costs[name].append(cost)
            delivered[name] = count
    base = statistics.median(costs[MODES[0][0]])
    print(f"viewers {viewers}, publisher packets {packets}, median of {repeats} runs")
    print(f"{'fan-out':38} {'delivered':>10} {'µs/packet':>10} {'ratio':>7}")
    for name, _, _ in MODES:
        cost = statistics.median(costs[name])
        print(f"{name:38} {delivered[name]:>10} {cost:>10.2f} {cost / base:>7.2f}")
    tick = await tick_cost(viewers)
    per_s = round(1 / TICK_S)
    print(f"adaptation tick: {tick:.1f} µs per viewer; at {per_s} ticks/s that is "
          f"{tick * per_s / 1e4:.3f} % of a core per viewer")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=150)
    parser.add_argument("--packets", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.viewers, args.packets, args.repeats))
