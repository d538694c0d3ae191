"""A forum with six interpretation channels against the same forum without them, in one run
(issue 17 §10): the server's CPU per listener per second of audio.

    .venv/bin/python -m bench.interpretation [--listeners 100] [--seconds 10]

In-process, like bench/hot_path.py: no peers, no ICE, no DTLS, but the real fan-out (Source,
Subscription, Egress with real libsrtp sessions and real UDP sockets on loopback, receivers
that never read). Every 20 ms the floor's Opus source gets one packet and, with channels, each
of six interpreters' sources gets one, which their tap relays into the channel Source
(streaming/channels.py). Without channels a listener receives the floor; with channels it
receives the floor and one channel (round robin over zh en ja ko ru mn): what a page listening to
a language gets. Both rows count every delivered packet, so the last column shows what the
relay itself adds per packet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import struct
import time

from pylibsrtp import Policy, Session

from config import LANGUAGES, MediaLimits
from streaming import rtp_header
from streaming.channels import Booths
from streaming.egress import Egress
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription

OPUS = Codec(111, "audio/opus", 48000, 2)
LIMITS = MediaLimits(max_viewers_per_track=100_000)


def _listener(loop: asyncio.AbstractEventLoop, key: bytes, sink: socket.socket,
              sessions: list[Session]) -> Egress:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    session = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    sessions.append(session)  # the egress uses its libsrtp context: keep it alive
    return Egress(session._srtp[0], sock, sink.getsockname(), 512, loop)


def _attach(source: Source, egress: Egress) -> None:
    table = rtp_header.extension_map_table({})
    source.attach(Subscription("l", "audio", Route(111, random.getrandbits(32), table, 48000),
                               egress))


def _packets(ssrc: int, count: int) -> list[tuple[bytes, rtp_header.RtpHeader]]:
    stream = [struct.pack("!BBHII", 0x80, 111, n & 0xFFFF, n * 960, ssrc) + os.urandom(80)
              for n in range(count)]
    return [(data, rtp_header.parse(data)) for data in stream]


async def measure(listeners: int, seconds: float, channels: bool) -> tuple[float, int]:
    """(CPU seconds, packets delivered) for ``seconds`` of audio to ``listeners``."""
    loop = asyncio.get_running_loop()
    key = os.urandom(30)
    sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(listeners)]
    for sink in sinks:
        sink.bind(("127.0.0.1", 0))
    floor = Source("speaker/audio0", "forum", "audio", OPUS, LIMITS)
    booths = Booths(LIMITS, lambda s: None, lambda s: None, lambda e: None)
    feeds = []
    if channels:
        for language in LANGUAGES:
            feed = Source(f"booth-{language}/audio0", "forum", "audio", OPUS, LIMITS)
            booths.assign("forum", f"booth-{language}", language)
            booths.fed(feed, f"booth-{language}")
            feeds.append(feed)
    sessions: list[Session] = []
    egresses = [_listener(loop, key, sink, sessions) for sink in sinks]
    for index, egress in enumerate(egresses):
        _attach(floor, egress)
        if channels:
            _attach(booths.channels[("forum", LANGUAGES[index % 6])].source, egress)
    ticks = int(seconds * 50)
    streams = [_packets(1000, ticks)] + [_packets(2000 + n, ticks) for n in range(len(feeds))]
    sources = [floor, *feeds]
    start = time.process_time()
    for tick in range(ticks):
        for source, stream in zip(sources, streams, strict=True):
            source.on_rtp(*stream[tick])
        if tick % 5 == 4:
            await asyncio.sleep(0.002)  # let the loop breathe, as paced media would
    cost = time.process_time() - start
    delivered = sum(sub.packets for source in [floor, *[c.source for c in booths.channels
                                                         .values()]]
                    for sub in source.subscriptions)
    for egress in egresses:
        egress.close()
    for sink in sinks:
        sink.close()
    return cost, delivered


async def main(listeners: int, seconds: float) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {0})
    rows = [("floor only", await measure(listeners, seconds, channels=False)),
            ("floor + 6 channels", await measure(listeners, seconds, channels=True))]
    print(f"listeners {listeners}, {seconds:g} s of audio (50 packets/s per track)")
    print("| forum | CPU s | packets delivered | µs CPU per listener-second |"
          " µs per delivered packet |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0][1][0] / listeners / seconds * 1e6
    for name, (cpu, delivered) in rows:
        per_listener = cpu / listeners / seconds * 1e6
        print(f"| {name} | {cpu:.2f} | {delivered} | {per_listener:.0f} "
              f"({per_listener / base:.2f}x) | {cpu * 1e6 / max(1, delivered):.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.listeners, args.seconds))
