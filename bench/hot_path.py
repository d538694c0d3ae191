"""The fan-out loop alone: Source.on_rtp -> N Subscriptions -> Egress, in µs per delivered packet.

    .venv/bin/python -m bench.hot_path [--viewers 100] [--packets 2000] [--modes ...] [--repeat 1]
        [--srtp cm80|gcm128|gcm256]

No peers, no ICE, no DTLS: real libsrtp sessions and real UDP sockets on loopback, so what is
measured is the per-viewer path itself (copy, header, in-place SRTP, ``sendto``). Two receivers:
sockets nobody reads (the kernel drops the datagram once their buffer is full: cheapest), and
sockets drained by another process on core 1 (each burst wakes it: what a real viewer costs the
sender). The gap between the two is kernel delivery work that any server pays on loopback.

Modes (issue 19 §2): ``ports`` gives each viewer its own socket, ``shared`` one socket for all
(a node on one UDP port; each viewer a duplicate of it, as ``nominated_socket`` makes);
``sendmmsg`` / ``sendto`` is the batch backend (streaming/send_backend.py), ``unbatched`` the
path before batching (one ``sendto`` per copy, no batch). Those modes run the per-viewer loop in
Python; ``compiled`` runs it in C (streaming/_fastsend.c ``fanout``, issue 19 §4: what a node
with the extension built does), batched with ``sendmmsg``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import select
import socket
import struct
import time
from typing import Any

from pylibsrtp import Policy, Session

from config import MediaLimits
from streaming import rtp_header, send_backend
from streaming.egress import Egress
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription


def drain(fds: list[int], stop: Any) -> None:
    """Read everything arriving on ``fds`` (datagrams, or a stream: bench/ice_tcp.py) until
    ``stop`` is set (runs on core 1). A read of nothing (a closed stream) ends that round:
    reading it again would spin without looking at ``stop``."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {1})
    poller = select.epoll()
    for fd in fds:
        os.set_blocking(fd, False)
        poller.register(fd, select.EPOLLIN)
    while not stop.is_set():
        for fd, _ in poller.poll(0.1):
            with contextlib.suppress(BlockingIOError):
                while os.read(fd, 65_536):
                    pass


MODES = ("ports+unbatched", "ports+sendto", "ports+sendmmsg", "shared+sendto", "shared+sendmmsg",
         "ports+compiled", "shared+compiled")


# SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714): the key and salt each needs
PROFILES = {
    "cm80": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
    "gcm128": (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
    "gcm256": (Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44),  # aiortc's first choice
}


async def measure(
    viewers: int, packets: int, live: bool, mode: str = "ports+unbatched", srtp: str = "cm80"
) -> float:
    loop = asyncio.get_running_loop()
    profile, key_length = PROFILES[srtp]
    key = os.urandom(key_length)
    sinks = []
    for _ in range(viewers):
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sinks.append(sink)
    stop = multiprocessing.get_context("fork").Event()
    reader = None
    if live:
        reader = multiprocessing.get_context("fork").Process(
            target=drain, args=([s.fileno() for s in sinks], stop), daemon=True
        )
        reader.start()
    source = Source(
        "bench",
        "bench",
        "video",
        Codec(96, "video/VP8", 90000),
        MediaLimits(max_viewers_per_track=100_000),
    )
    table = rtp_header.extension_map_table({})
    sessions = []
    ports, kind = mode.split("+")
    backend = None if kind == "unbatched" else send_backend.choose(
        "auto" if kind in ("compiled", "sendmmsg") else kind)
    if kind != "compiled":
        source.fanout = None  # the per-viewer loop in Python
        backend = _python_only(backend)
    shared = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    for sink in sinks:
        if ports == "shared":
            sock = socket.socket(fileno=socket.dup(shared.fileno()))
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        session = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                                 srtp_profile=profile))
        sessions.append(session)
        egress = Egress(session._srtp[0], sock, sink.getsockname(), 512, loop, backend)
        sub = Subscription("v", "video", Route(96, random.getrandbits(32), table, 90000), egress)
        source.attach(sub)
    stream = [
        struct.pack("!BBHII", 0x80, 96, n, n * 3000, 42)
        + (b"\x10\x00" if n == 0 else b"\x10\x01")  # VP8: a keyframe first, then inter frames
        + os.urandom(1100)
        for n in range(packets)
    ]
    headers = [rtp_header.parse(p) for p in stream]
    start = time.process_time()
    for index, (data, header) in enumerate(zip(stream, headers, strict=True)):
        source.on_rtp(data, header)
        if index % 10 == 9:
            await asyncio.sleep(0.005)  # paced like a stream, so a live receiver sleeps between
    cost = (time.process_time() - start) * 1e6 / (packets * viewers)
    stop.set()
    if reader is not None:
        reader.join(5)
    for sink in sinks:
        sink.close()
    for sub in source.subscriptions:
        sub.egress.close()
    shared.close()
    return cost


class _PythonOnly:
    """A backend that sends as ``inner`` but gives no compiled Port: the Python loop's path."""

    def __init__(self, inner: send_backend.SendBackend) -> None:
        self.name = inner.name
        self.destination = inner.destination
        self.send = inner.send

    def port(self, ctx: int, protect: int) -> None:
        return None


def _python_only(backend: send_backend.SendBackend | None) -> Any:
    return None if backend is None else _PythonOnly(backend)


async def main(
    viewers: int, packets: int, modes: list[str], repeat: int, srtp: str = "cm80"
) -> None:
    """Each mode ``repeat`` times, the modes interleaved, the lowest figure kept: on a shared
    machine other load only ever adds CPU time."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {0})
    best: dict[str, list[float]] = {mode: [float("inf")] * 2 for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            for column, live in enumerate((False, True)):
                cost = await measure(viewers, packets, live, mode, srtp)
                best[mode][column] = min(best[mode][column], cost)
    print(f"viewers {viewers}, packets {packets}, SRTP {srtp}, best of {repeat};"
          " µs of CPU per delivered packet")
    print(f"{'mode':18} {'never read':>10} {'drained':>10}")
    for mode, (idle, drained) in best.items():
        print(f"{mode:18} {idle:10.2f} {drained:10.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--srtp", choices=sorted(PROFILES), default="cm80",
                        help="SRTP profile (aiortc and Chromium negotiate AES-GCM where both can)")
    args = parser.parse_args()
    asyncio.run(main(args.viewers, args.packets, args.modes.split(","), args.repeat, args.srtp))
