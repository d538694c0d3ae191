"""Fan-out benchmark: one publisher -> N viewers, Pavilion's MediaPlane vs aiortc's MediaRelay.

    .venv/bin/python -m bench.fanout [--sizes 1,10,25,50,100,200] [--seconds 5] [--checkers 3]
        [--systems pavilion,pavilion-python,pavilion-1port,pavilion-1port-python,relay]
        [--nice -5]

Pavilion runs in several modes (issue 19 §4, bench/fanout_servers.py ``PAVILION_MODES``):
``pavilion`` per-peer ports (each copy its own ``sendto``), ``pavilion-1port`` one UDP port
(``[media] udp_port``, announced on 127.0.0.1: one socket) with each packet's copies in one
``sendmmsg``; both run the per-viewer loop in C (streaming/_fastsend.c) and protect RTP with
the compiled AES-GCM (streaming/_srtpgcm.c). ``pavilion-1port-libsrtp`` is ``pavilion-1port``
with libsrtp protecting RTP. ``pavilion-python`` is per-peer ports with the loop in Python and
libsrtp (the code before issue 19 §4), ``pavilion-1port-python`` one port with the loop in
Python, ``pavilion-1port-sendto`` the fallback of a node without the extension (Python, a
``sendto`` per copy).

The server runs in its own process pinned to core 0; the publisher (a pre-encoded ~1 Mbit/s
VP8 clip + Opus, no encoding) in another, and the viewers in this one, both on core 1. Most
viewers are counted by one reader thread on their sockets (the RTP header is in clear in SRTP,
RFC 3711 §3.1); ``--checkers`` viewers go through aiortc's DTLS/SRTP and parse every decrypted
packet, so broken SRTP cannot pass as delivery (DESIGN.md §3). Per N it prints server CPU
(s/s), µs of server CPU per delivered packet, delivery (video frames received / sent, one frame
of slack for the window's edges; packets: distinct sequence numbers received / the span they
cover, so loss shows whatever the timing, for the first ``--audited`` viewers and for the
decrypting ones; the others' packets are only counted, so a few hundred viewers do not starve
this process), and the ratio Pavilion / MediaRelay for each N both ran. MediaRelay stops once
frame delivery < 99 %. ``--idle S`` splits the server's CPU into a cost per viewer (the
publisher paused S seconds) and a cost per copy beyond it. ``--perf`` records the server with
Linux ``perf`` over each busy window and prints the share of its CPU that is loopback delivering
its copies to the viewers' sockets (bench/loopback_share.py) and µs per packet without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from bench.fanout_servers import CLIENT_CORE, publish_process, serve
from bench.loopback_share import LoopbackShare, available


@dataclass
class Count:
    """What one viewer received since the last reset."""

    packets: int = 0
    frames: set[int] = field(default_factory=set)
    broken: int = 0
    first: dict[int, int] = field(default_factory=dict)  # SSRC -> first sequence number seen
    seen: dict[int, set[int]] = field(default_factory=dict)  # SSRC -> offsets from it

    def sequence(self, ssrc: int, seq: int) -> None:
        first = self.first.setdefault(ssrc, seq)
        self.seen.setdefault(ssrc, set()).add((seq - first + 32768) % 65536 - 32768)

    def span(self) -> tuple[int, int]:
        """(distinct packets, packets the sequence numbers say were sent) in this window.

        Loss shows as gaps whatever the timing; a backlog read late cannot exceed 100 %.
        """
        got = sum(len(s) for s in self.seen.values())
        expected = sum(max(s) - min(s) + 1 for s in self.seen.values() if s)
        return got, expected


class BenchViewer:
    """A recvonly aiortc peer that counts packets without decoding them."""

    def __init__(self, decrypt: bool, reader: CountingReader, audited: bool = True) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.reader = reader
        self.decrypt = decrypt
        # audited: every packet's sequence number and timestamp kept (delivery and loss);
        # else only counted, so a few hundred viewers do not starve this process
        self.audited = audited
        self.count = Count()
        self.video_pt = -1
        self.adopting: asyncio.Task[None] | None = None

    async def offer(self) -> str:
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        video = next(t for t in self.pc.getTransceivers() if t.kind == "video")
        self.video_pt = video._codecs[0].payloadType
        dtls = video.receiver.transport
        if self.decrypt:
            dtls._handle_rtp_data = self._on_clear_rtp  # after SRTP unprotect, no decoding
        if self.decrypt:
            return
        # from ICE's nomination on the counting thread reads this socket; on a loaded machine
        # a viewer may connect after the next one was added (the window counts it if so)
        self.adopting = asyncio.get_running_loop().create_task(self._adopt(dtls))
        for _ in range(400):
            if self.pc.connectionState == "connected":
                break
            await asyncio.sleep(0.025)

    async def _adopt(self, dtls: Any) -> None:
        nominated = dtls.transport._connection._nominated
        while self.pc.connectionState != "connected" or not nominated:
            if self.pc.connectionState in ("failed", "closed"):
                return
            await asyncio.sleep(0.025)
        # every socket of the viewer's ICE agent, not only its nominated pair's: the server
        # sends on the pair *it* nominated, and a viewer counted on another socket read as
        # "silent" in per-peer mode (issue 19 notes)
        for protocol in dtls.transport._connection._protocols:
            self.reader.adopt(self, protocol)

    async def _on_clear_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        from streaming import rtp_header

        try:
            h = rtp_header.parse(data)
        except ValueError:
            self.count.broken += 1
            return
        if h.payload_end <= h.payload_offset:
            self.count.broken += 1
        self._count(data)

    def _count(self, data: bytes | memoryview) -> None:
        count = self.count  # the driver swaps in a fresh Count between windows
        count.packets += 1
        count.sequence(int.from_bytes(data[8:12], "big"), (data[2] << 8) | data[3])
        if data[1] & 0x7F == self.video_pt:
            count.frames.add(int.from_bytes(data[4:8], "big"))


class CountingReader:
    """One thread that reads every counting viewer's socket with ``recvfrom_into``.

    asyncio's datagram path costs tens of µs per packet in Python; with a few hundred viewers
    in one client process that, not the server, would be what is measured. Datagrams that are
    not RTP (STUN consent checks, RFC 7675; DTLS) go back to aioice on the event loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoll = select.epoll()
        self._viewers: dict[int, tuple[BenchViewer, socket.socket, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-reader", daemon=True)
        self._thread.start()

    def adopt(self, viewer: BenchViewer, protocol: Any) -> None:
        sock = protocol.transport.get_extra_info("socket")
        protocol.transport.pause_reading()  # asyncio stops reading; the transport still sends
        own = socket.socket(fileno=os.dup(sock.fileno()))
        own.setblocking(False)
        self._viewers[own.fileno()] = (viewer, own, protocol)
        self._epoll.register(own.fileno(), select.EPOLLIN)

    def _run(self) -> None:
        buffer = bytearray(2048)
        while not self._stop.is_set():
            for fd, _ in self._epoll.poll(0.2):
                entry = self._viewers.get(fd)
                if entry is not None:
                    self._drain(buffer, *entry)

    def _drain(
        self, buffer: bytearray, viewer: BenchViewer, sock: socket.socket, protocol: Any
    ) -> None:
        view = memoryview(buffer)
        while True:
            try:
                size, addr = sock.recvfrom_into(buffer)
            except (BlockingIOError, OSError):
                return
            if size >= 12 and 128 <= buffer[0] < 192:
                if not 200 <= buffer[1] <= 207:
                    if viewer.audited:
                        viewer._count(view[:size])
                    else:
                        viewer.count.packets += 1
            else:
                self._loop.call_soon_threadsafe(
                    protocol.datagram_received, bytes(view[:size]), addr
                )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for _, sock, _ in self._viewers.values():
            sock.close()
        self._epoll.close()


@dataclass
class Row:
    system: str
    viewers: int
    cpu_per_s: float
    us_per_packet: float
    frame_delivery: float
    packet_delivery: float
    checked_delivery: float
    idle_per_viewer_ms: float = 0.0  # server CPU per viewer and second with no media (ms/s)
    per_copy_us: float = 0.0  # server CPU per delivered packet beyond that idle cost
    idle_adapt_ms: float = 0.0  # of the idle cost: adaptation ticks (ms/s a viewer)
    idle_gc_ms: float = 0.0  # of the idle cost: garbage collections (ms/s a viewer)
    loopback: float = 0.0  # share of the server's CPU delivering its copies on loopback (--perf)
    busy_adapt_ms: float = 0.0  # adaptation ticks in the busy window (ms/s a viewer)

    @property
    def sender_us(self) -> float:
        """µs per delivered packet without loopback's delivery to the receivers (--perf)."""
        return self.us_per_packet * (1.0 - self.loopback)


class Channel:
    """Request/response over a pipe to a child process, without blocking the event loop."""

    def __init__(self, target: Any, *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._here, there = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(*args, there), daemon=True)
        self.process.start()

    async def ask(self, command: str, payload: Any = None) -> Any:
        self._here.send((command, payload))
        reply = await asyncio.get_running_loop().run_in_executor(None, self._here.recv)
        if isinstance(reply, Exception):
            raise reply
        return reply


async def _idle_cost(row: Row, ask: Any, publisher: Channel, seconds: float,
                     delivered_per_s: float) -> None:
    """The publisher pauses for ``seconds``: what the server spends then (ICE consent, RTCP,
    adaptation ticks, the loop) is a cost per viewer, not per packet; the rest of the busy
    window's CPU, per delivered packet, is the fan-out's own."""
    await publisher.ask("pause")
    await asyncio.sleep(1.0)  # what was in flight is through
    adapt0, gc0 = await ask("costs")
    cpu0 = await ask("cpu")
    wall0 = time.monotonic()
    await asyncio.sleep(seconds)
    idle = (await ask("cpu") - cpu0) / (time.monotonic() - wall0)
    adapt, collect = await ask("costs")
    adapt = (adapt - adapt0) / (time.monotonic() - wall0)
    await publisher.ask("resume")
    await asyncio.sleep(1.0)
    row.idle_per_viewer_ms = idle * 1000 / max(1, row.viewers)
    row.idle_adapt_ms = adapt * 1000 / max(1, row.viewers)
    row.idle_gc_ms = (collect - gc0) / (time.monotonic() - wall0) * 1000 / max(1, row.viewers)
    row.per_copy_us = max(0.0, row.cpu_per_s - idle) * 1e6 / max(1.0, delivered_per_s)


async def run_system(system: str, sizes: list[int], seconds: float, checkers: int,
                     idle: float = 0.0, audited: int = 100, perf: bool = False) -> list[Row]:
    loop = asyncio.get_running_loop()
    server = Channel(serve, system)
    publisher = Channel(publish_process)
    ask = server.ask
    await publisher.ask("answer", await ask("publish", await publisher.ask("offer")))
    await asyncio.sleep(2)
    viewers: list[BenchViewer] = []
    rows: list[Row] = []
    reader = CountingReader(loop)
    for size in sizes:
        # viewers join while the publisher pauses: counting a few hundred viewers' media took
        # the driver's core, joining viewers' ICE and DTLS starved, and at 200-300 viewers the
        # server rightly ended peers whose consent checks went unanswered
        await publisher.ask("pause")
        try:
            while len(viewers) < size:
                viewer = BenchViewer(len(viewers) < checkers, reader, len(viewers) < audited)
                await viewer.accept(await ask("view", await viewer.offer()))
                viewers.append(viewer)
                if len(viewers) % 100 == 0:
                    print(f"{system}: {len(viewers)} viewers joined", flush=True)
        except RuntimeError as exc:  # the publisher's ICE ended on a starved machine
            print(f"{system}: stopped before {size} viewers: {exc}", flush=True)
            break
        finally:
            await publisher.ask("resume")
        await asyncio.sleep(3)  # warm up: keyframe reached everyone, queues settled
        for viewer in viewers:
            viewer.count = Count()
        frames0 = await publisher.ask("frames")
        recording = LoopbackShare(server.process.pid) if perf and server.process.pid else None
        if recording is not None:
            await recording.start()
        adapt0, _ = await ask("costs")
        cpu0 = await ask("cpu")
        client0 = time.process_time()
        wall0 = time.monotonic()
        await asyncio.sleep(seconds)
        cpu1 = await ask("cpu")
        adapt1, _ = await ask("costs")
        loopback = await recording.stop() if recording is not None else 0.0
        wall = time.monotonic() - wall0
        client = (time.process_time() - client0) / wall
        frames = await publisher.ask("frames") - frames0
        delivered = sum(v.count.packets for v in viewers)
        checked = [v for v in viewers if v.decrypt]
        sample = [v for v in viewers if v.audited]
        row = Row(
            system,
            size,
            (cpu1 - cpu0) / wall,
            (cpu1 - cpu0) * 1e6 / max(1, delivered),
            min(1.0, sum(len(v.count.frames) for v in sample)
                / max(1, (frames - 1) * len(sample))),
            _span_ratio(sample),
            _span_ratio(checked) if checked else 1.0,
            loopback=loopback,
            busy_adapt_ms=(adapt1 - adapt0) * 1000 / wall / max(1, size),
        )
        if idle:
            await _idle_cost(row, ask, publisher, idle, delivered / wall)
        rows.append(row)
        silent = sum(1 for v in viewers if not v.count.packets)
        print(_format(row), f"  idle {row.idle_per_viewer_ms:.2f} ms/s a viewer"
              f" ({row.idle_adapt_ms:.2f} of it adaptation ticks,"
              f" {row.idle_gc_ms:.2f} garbage collections),"
              f" {row.per_copy_us:.1f} µs a copy beyond it;" if idle else "",
              f"  silent viewers {silent};" if silent else "",
              f"  loopback delivery {loopback:.0%} of the server's CPU;" if perf else "",
              f"  adaptation {row.busy_adapt_ms:.3f} ms/s a viewer;",
              f"  client {client:.2f} s/s;", await ask("stats"), flush=True)
        if system == "relay" and row.frame_delivery < 0.99:
            break
    reader.close()
    for viewer in viewers:
        if viewer.adopting is not None:
            viewer.adopting.cancel()
        await viewer.pc.close()
    await publisher.ask("stop")
    await ask("stop")
    for channel in (publisher, server):
        channel.process.join(10)
    return rows


def _span_ratio(viewers: list[BenchViewer]) -> float:
    spans = [v.count.span() for v in viewers]
    return sum(g for g, _ in spans) / max(1, sum(e for _, e in spans))


def _format(row: Row) -> str:
    return (
        f"{row.system:9} {row.viewers:5d} {row.cpu_per_s:8.3f} {row.us_per_packet:10.1f}"
        f" {row.frame_delivery:8.1%} {row.packet_delivery:8.1%} {row.checked_delivery:8.1%}"
    )


async def main(sizes: list[int], seconds: float, checkers: int, systems: list[str],
               idle: float = 0.0, audited: int = 100, perf: bool = False) -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {CLIENT_CORE})
    if perf and (why := available()):
        raise SystemExit(f"--perf: {why}")
    print("system    viewers  cpu s/s  µs/packet   frames  packets  checked")
    results = {system: await run_system(system, sizes, seconds, checkers, idle, audited, perf)
               for system in systems}
    summary(results, perf)


def summary(results: dict[str, list[Row]], perf: bool = False) -> None:
    """Per mode and N: µs of server CPU per delivered packet, viewers of this stream one core
    would carry at that cost, and the ratios to the mode before issue 19 (per-peer ports, the
    loop in Python: ``pavilion-python``, else ``pavilion``) and to MediaRelay. With ``perf``,
    also µs per delivered packet without loopback's delivery to the receivers (the sender's
    own cost, what a network card would leave to the node: bench/loopback_share.py)."""
    before = results.get("pavilion-python") or results.get("pavilion", [])
    today = {row.viewers: row for row in before}
    relay = {row.viewers: row for row in results.get("relay", [])}
    print(f"\n{'system':22} {'viewers':>7} {'µs/pkt':>7} {'viewers/core':>12}"
          f" {'vs before':>11} {'vs relay':>9} {'idle ms/s/viewer':>16} {'µs/copy':>8}"
          + (f" {'µs/pkt sender':>13}" if perf else ""))
    for system, rows in results.items():
        if system == "relay":
            continue
        for row in rows:
            print(f"{system:22} {row.viewers:7d} {row.us_per_packet:7.1f}"
                  f" {_per_core(row):12.0f} {_ratio(row, today):>11} {_ratio(row, relay):>9}"
                  f" {row.idle_per_viewer_ms:16.2f} {row.per_copy_us:8.1f}"
                  + (f" {row.sender_us:13.1f}" if perf else ""))


STREAM_PPS = 170  # the clip's packets a second: ~1 Mbit/s VP8 at 30 fps + Opus at 50/s


def _per_core(row: Row) -> float:
    """Viewers of this ~1 Mbit/s stream one core carries at this cost per delivered packet
    (from µs/packet, not CPU s/s: on a starved machine the publisher sends less)."""
    return 1e6 / (row.us_per_packet * STREAM_PPS) if row.us_per_packet > 0 else 0.0


def _ratio(row: Row, base: dict[int, Row]) -> str:
    other = base.get(row.viewers)
    if other is None:
        return "-"
    return f"{row.us_per_packet / other.us_per_packet:.3f}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,25,50,100,200")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--checkers", type=int, default=3)
    parser.add_argument("--audited", type=int, default=100,
                        help="viewers whose every packet is accounted (frames, loss); the"
                        " others are only counted (CPU per delivered packet)")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="after each window, pause the publisher this long: the server's"
                        " CPU per viewer with no media, and per copy beyond it")
    parser.add_argument("--systems", default="pavilion,pavilion-1port,pavilion-1port-sendto,relay")
    parser.add_argument("--perf", action="store_true",
                        help="perf-record the server over each busy window: the share of its CPU"
                        " that is loopback delivering its copies to the receivers, and µs per"
                        " packet without it (bench/loopback_share.py; needs perf and root)")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of server and clients (negative needs root; on a shared"
        " machine it keeps other load from starving the clients, which the figures assume)",
    )
    args = parser.parse_args()
    if args.nice:
        os.nice(args.nice)  # inherited by the spawned server process
    sizes = [int(x) for x in args.sizes.split(",")]
    asyncio.run(main(sizes, args.seconds, args.checkers, args.systems.split(","), args.idle,
                     args.audited, args.perf))
