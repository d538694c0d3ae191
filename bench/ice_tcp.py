"""What a viewer on ICE-TCP costs the node against one on UDP: CPU µs per delivered packet.

    .venv/bin/python -m bench.ice_tcp [--viewers 50] [--packets 2000] [--repeat 3]

The per-viewer path alone, no peers: real libsrtp, a real Egress per viewer (copy, header,
in-place SRTP, one send). ``udp``: each Egress sends on its own UDP socket to a loopback
receiver (the node's path for a UDP viewer). ``tcp``: each Egress sends on its ICE-TCP link's
media socket (a Unix ``SOCK_SEQPACKET`` pair), and the link (streaming/tcp_link.py) reads it,
frames each packet (RFC 4571) and writes it on a loopback TCP connection: the node's path for a
TCP viewer. Receivers are drained by another process on core 1. CPU is this process's
(``time.process_time``) from the first packet until every link's buffer is written out,
divided by the packets that reached the kernel (drops are counted and left out). Both modes
run in the same process run, alternately, so the ratio is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import struct
import time
from typing import Any

from pylibsrtp import Policy, Session

from bench.hot_path import drain
from streaming.egress import Egress
from streaming.tcp_link import TcpLink

PAYLOAD = bytes(1100)  # a typical video packet's payload
BURST = 10  # packets per fan-out before the loop runs (a frame's worth)


def udp_paths(n: int) -> tuple[list[tuple[socket.socket, Any]], list[socket.socket]]:
    senders, receivers = [], []
    for _ in range(n):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.bind(("127.0.0.1", 0))
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tx.setblocking(False)
        senders.append((tx, rx.getsockname()))
        receivers.append(rx)
    return senders, receivers


def tcp_paths(n: int) -> tuple[list[TcpLink], list[socket.socket]]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(n)
    links, receivers = [], []
    for _ in range(n):
        client = socket.create_connection(server.getsockname())
        conn, addr = server.accept()
        links.append(TcpLink(conn, addr, "127.0.0.1", 65_535, (256 * 1024, 512 * 1024),
                             lambda _link, _message: None, lambda _link: None))
        receivers.append(client)
    server.close()
    return links, receivers


async def measure(mode: str, viewers: int, packets: int) -> tuple[float, int]:
    """µs of CPU per delivered packet, and the packets dropped."""
    loop = asyncio.get_running_loop()
    key = os.urandom(30)
    links: list[TcpLink] = []
    # each Egress protects through its session's srtp_t: the sessions must outlive them
    sessions = [Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
                for _ in range(viewers)]
    if mode == "udp":
        senders, receivers = udp_paths(viewers)
        egresses = [Egress(session._srtp[0], tx, addr, 512, loop)
                    for session, (tx, addr) in zip(sessions, senders, strict=True)]
    else:
        links, receivers = tcp_paths(viewers)
        egresses = [Egress(session._srtp[0], link.media_socket(), None, 512, loop)
                    for session, link in zip(sessions, links, strict=True)]
    stop = multiprocessing.Event()
    reader = multiprocessing.Process(target=drain, args=([r.fileno() for r in receivers], stop),
                                     daemon=True)
    reader.start()
    template = struct.pack("!BBHII", 0x80, 96, 0, 0, 0) + PAYLOAD
    started = time.process_time()
    for seq in range(packets):
        for egress in egresses:
            egress.send_rtp(template, seq & 0xFFFF, seq * 90, 0x1234)
        if seq % BURST == BURST - 1:
            await asyncio.sleep(0)
    for _ in range(10_000):  # until everything queued is written out (at most ~10 s)
        if not any(e.queued for e in egresses) and not any(link.buffered for link in links):
            break
        await asyncio.sleep(0.001)
    for _ in range(20):  # the links' last reads of their socket pairs
        await asyncio.sleep(0)
    spent = time.process_time() - started
    dropped = sum(e.dropped_packets for e in egresses) + sum(link.dropped for link in links)
    stop.set()
    reader.join()
    for egress in egresses:
        egress.close()
    for link in links:
        link.close()
    for r in receivers:
        r.close()
    del sessions  # after the Egresses that protect through them
    delivered = packets * viewers - dropped
    return spent / max(delivered, 1) * 1e6, dropped


async def main(viewers: int, packets: int, repeat: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {0})
    rows: dict[str, list[tuple[float, int]]] = {"udp": [], "tcp": []}
    for _ in range(repeat):
        for mode in rows:
            rows[mode].append(await measure(mode, viewers, packets))
    print(f"{viewers} viewers x {packets} packets of {len(PAYLOAD) + 12} bytes, {repeat} runs")
    print(f"{'path':<6} {'µs/packet (best)':>17} {'median':>8} {'dropped':>8}")
    best = {mode: min(us for us, _ in runs) for mode, runs in rows.items()}
    for mode, runs in rows.items():
        median = sorted(us for us, _ in runs)[len(runs) // 2]
        print(f"{mode:<6} {best[mode]:>17.2f} {median:>8.2f} {sum(d for _, d in runs):>8}")
    print(f"tcp / udp: {best['tcp'] / best['udp']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.viewers, options.packets, options.repeat))
