"""The processes of the fan-out benchmark: the server under test and the publisher.

Both run in their own process (spawned by bench/fanout.py): the server pinned to core 0, the
publisher to core 1, so neither's event loop shares a GIL with the counting viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import gc
import os
import socket
import time
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from bench.clip import AUDIO_FRAME, VIDEO_RATE, opus_clip, vp8_clip

SERVER_CORE, CLIENT_CORE = 0, 1


def serve(system: str, conn: Any) -> None:
    """Answer offers for ``system`` ("pavilion" or "relay") until told to stop."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {SERVER_CORE})
    if os.environ.get("BENCH_LOG"):
        import logging

        logging.basicConfig(level=os.environ["BENCH_LOG"].upper())
    if os.environ.get("BENCH_PROFILE") and os.environ.get("BENCH_PROFILE_WINDOWS"):
        asyncio.run(_serve(system, conn, os.environ["BENCH_PROFILE"] + "." + system))
        return
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx(
            "asyncio.run(_serve(system, conn))",
            globals(),
            locals(),
            os.environ["BENCH_PROFILE"] + "." + system,
        )
        return
    asyncio.run(_serve(system, conn))


def _toggle(profile: Any, path: str, asks: int) -> None:
    """Asks 1-2 bound the busy window, 3-4 the idle one (``--idle``): BENCH_PROFILE_WINDOWS
    ``busy`` or ``idle`` profiles one kind only, anything else both."""
    kind = os.environ.get("BENCH_PROFILE_WINDOWS", "")
    phase = "busy" if asks % 4 in (1, 2) else "idle"
    if kind in ("busy", "idle") and phase != kind:
        return
    if asks % 2:
        profile.enable()
    else:
        profile.disable()
        profile.dump_stats(path)


async def _serve(system: str, conn: Any, windows: str = "") -> None:
    """``windows``: profile only the measured windows (BENCH_PROFILE_WINDOWS), into that file
    (the steady state: no ICE or DTLS of joining viewers)."""
    import cProfile

    profile = cProfile.Profile() if windows else None
    asks = 0
    loop = asyncio.get_running_loop()
    server: PavilionServer | RelayServer
    if system.startswith("pavilion"):
        server = PavilionServer(*PAVILION_MODES[system])
    else:
        server = RelayServer()
    while True:
        command, payload = await loop.run_in_executor(None, conn.recv)
        if command == "stop":
            await server.close()
            conn.send(None)
            return
        if command == "cpu":
            conn.send(time.process_time())
            if profile is not None:  # the driver asks at each window's start and end
                _toggle(profile, windows, asks := asks + 1)
        elif command == "stats":
            conn.send(server.stats())
        else:
            try:
                conn.send(await getattr(server, command)(payload))
            except Exception as exc:  # report it to the driver instead of dying silently
                conn.send(RuntimeError(f"{system} server: {command} failed: {exc!r}"))


# system -> how Pavilion runs (issue 19 §4): (one UDP port for every peer, [media]
# send_backend, the per-viewer loop in C, settled_ms (None: the node's default), [media]
# srtp_backend)
PAVILION_MODES = {
    "pavilion": (False, "auto", True, None, "auto"),  # per-peer ports: each copy sent at once
    # the same with the loop in Python and libsrtp: the code before issue 19 §4
    "pavilion-python": (False, "auto", False, None, "libsrtp"),
    "pavilion-1port": (True, "auto", True, None, "auto"),  # one port, C loop, one sendmmsg
    "pavilion-1port-libsrtp": (True, "auto", True, None, "libsrtp"),  # the same, RTP by libsrtp
    "pavilion-1port-python": (True, "auto", False, None, "auto"),  # the loop in Python
    "pavilion-1port-sendto": (True, "sendto", False, None, "auto"),  # Python, sendto a copy
    # settled viewers' layers chosen at every 100 ms tick, as before issue 19's settled_ms
    "pavilion-1port-eager": (True, "auto", True, 100, "auto"),
}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PavilionServer:
    def __init__(
        self, one_port: bool = False, backend: str = "auto", compiled: bool = True,
        settled_ms: int | None = None, srtp: str = "auto",
    ) -> None:
        from config import AdaptSettings, MediaLimits
        from streaming import MediaPlane, send_backend

        if not compiled:  # every Source of this process runs its per-viewer loop in Python
            send_backend.fanout = lambda preference="auto": None  # type: ignore[assignment]

        # one port announced on 127.0.0.1: one socket for every viewer (docs/media.md)
        port = {"udp_port": free_udp_port(), "announce_ip": "127.0.0.1"} if one_port else {}
        settled = {} if settled_ms is None else {"settled_ms": settled_ms}
        self.plane = MediaPlane(MediaLimits(  # its peers offer this machine's own addresses
            max_viewers_per_track=10_000, allow_loopback_candidates=True,
            allow_private_candidates=True, send_backend=backend, srtp_backend=srtp,
            # the counting viewers send no RTCP (no REMB, no receiver reports), so the
            # downlink estimate stays at its start: at the default 1 Mbit/s the ~1.1 Mbit/s
            # clip was "weak" and video paused for some or all viewers (padding probes only),
            # read as 1-40 % frame delivery with 100 % packets (issue 19 measurements)
            adapt=AdaptSettings(start_kbps=20_000, **settled), **port))
        self.adapt_cpu_s = 0.0  # CPU seconds in adaptation ticks (every viewer, every 100 ms)
        self._adapt_mark = 0.0
        allocator = self.plane.allocator
        tick = allocator.tick

        def timed(now: float) -> None:
            start = time.thread_time()
            tick(now)
            self.adapt_cpu_s += time.thread_time() - start

        allocator.tick = timed  # type: ignore[method-assign]
        self.gc_s = 0.0
        self._gc_at = 0.0
        gc.callbacks.append(self._timed_gc)

    async def costs(self, _: object = None) -> tuple[float, float]:
        """Seconds spent so far in adaptation ticks (CPU) and in garbage collections (wall
        time on this single-threaded server): their shares of the idle cost."""
        return self.adapt_cpu_s, self.gc_s

    def _timed_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_at = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_at

    async def publish(self, sdp: str) -> str:
        return (await self.plane.publish("bench", "publisher", sdp)).sdp

    async def view(self, sdp: str) -> str:
        return (await self.plane.subscribe_whep("bench", "viewer", sdp)).sdp

    def stats(self) -> str:
        from streaming.publisher import PublisherLeg
        from streaming.viewer import ViewerLeg

        legs = [p for p in self.plane.peers.values() if isinstance(p, ViewerLeg)]
        egresses = [leg._egress for leg in legs if leg._egress is not None]
        dropped = sum(e.dropped_packets for e in egresses)
        errors = sum(e.errors for e in egresses)
        source = sum(s.packets for s in self.plane.live_sources("bench").values())
        srtp = sum(p.srtp_errors for p in self.plane.peers.values() if isinstance(p, PublisherLeg))
        batches = [s.batch for s in self.plane.live_sources("bench").values()]
        calls = sum(b.calls for b in batches)
        per_call = sum(b.datagrams for b in batches) / max(1, calls)
        adapt, self._adapt_mark = self.adapt_cpu_s - self._adapt_mark, self.adapt_cpu_s
        return (
            f"adaptation {adapt:.3f} s since the last stats,"
            f" viewers {len(legs)}, source packets {source}, publisher srtp errors {srtp},"
            f" egress drops {dropped}, send errors {errors}, {self.plane.send_backend}"
            f" batches {calls} of {per_call:.1f}{self._mux_stats()}"
        )

    def _mux_stats(self) -> str:
        """The one port's drops (streaming/udp_mux.py): a datagram no agent took."""
        mux = self.plane.mux
        if mux is None:
            return ""
        return f", mux received {mux.received} dropped {dict(mux.dropped)}"

    async def close(self) -> None:
        await self.plane.aclose()


class RelayServer:
    """The aiortc way: MediaRelay of the decoded tracks, one encoder per viewer."""

    def __init__(self) -> None:
        from aiortc.contrib.media import MediaRelay

        self.relay = MediaRelay()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.pcs: list[RTCPeerConnection] = []

    async def costs(self, _: object = None) -> tuple[float, float]:
        return 0.0, 0.0  # no adaptation (one encoder for all); collections not timed

    async def publish(self, sdp: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        pc.on("track", lambda track: self.tracks.__setitem__(track.kind, track))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def view(self, sdp: str) -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            track = self.tracks.get(transceiver.kind)
            if track is not None:
                transceiver.sender.replaceTrack(self.relay.subscribe(track))
                transceiver.direction = "sendonly"
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    def stats(self) -> str:
        states = [pc.connectionState for pc in self.pcs]
        return f"peers {len(states)}, connected {states.count('connected')}"

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()


class PacketTrack(MediaStreamTrack):
    """Replays pre-encoded packets in real time (aiortc packetizes an ``av.Packet`` as is)."""

    def __init__(self, kind: str, packets: list[bytes], rate: float, step: int, clock: int) -> None:
        super().__init__()
        self.kind = kind
        self._packets, self._rate, self._step = packets, rate, step
        self._time_base = fractions.Fraction(1, clock)
        self._index = 0
        self._start = 0.0
        self.sent = 0
        self.playing = asyncio.Event()  # cleared: paused (the driver's idle window)
        self.playing.set()

    async def recv(self) -> Any:
        if not self.playing.is_set():
            paused = time.monotonic()
            await self.playing.wait()
            self._start += time.monotonic() - paused  # go on from where it stopped
        if not self._start:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._index / self._rate - time.monotonic()))
        packet = av.Packet(self._packets[self._index % len(self._packets)])
        packet.pts = self._index * self._step
        packet.time_base = self._time_base
        self._index += 1
        self.sent += 1
        return packet


def publish_process(conn: Any) -> None:
    """The publisher in its own process (core 1): the viewers' load cannot starve its ICE."""
    publish_on({CLIENT_CORE}, None, conn)


def publish_on(cores: set[int], clips: tuple[list[bytes], list[bytes]] | None,
               conn: Any) -> None:
    """The publisher in its own process, pinned to ``cores`` (bench/cascade.py picks them),
    sending ``clips`` (video, audio) if given: libvpx's realtime rate control does not make
    the same clip twice (one encode came out at twice the packets of another), so a benchmark
    comparing two publishers encodes once and hands both the same packets."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, cores)
    asyncio.run(_publish(conn, clips))


async def _publish(conn: Any, clips: tuple[list[bytes], list[bytes]] | None = None) -> None:
    loop = asyncio.get_running_loop()
    frames, sound = clips or (vp8_clip(), opus_clip())
    video = PacketTrack("video", frames, VIDEO_RATE, 90000 // VIDEO_RATE, 90000)
    audio = PacketTrack("audio", sound, 50, AUDIO_FRAME, 48000)
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publisher.addTransceiver(video, direction="sendonly")
    publisher.addTransceiver(audio, direction="sendonly")
    for transceiver in publisher.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(
                [c for c in transceiver.sender.getCapabilities("video").codecs if c.name == "VP8"]
            )
    while True:
        command, payload = await loop.run_in_executor(None, conn.recv)
        if command == "offer":
            await publisher.setLocalDescription(await publisher.createOffer())
            conn.send(publisher.localDescription.sdp)
        elif command == "answer":
            await publisher.setRemoteDescription(RTCSessionDescription(sdp=payload, type="answer"))
            conn.send(None)
        elif command == "frames":
            conn.send(video.sent)
        elif command in ("pause", "resume"):
            for track in (video, audio):
                (track.playing.clear if command == "pause" else track.playing.set)()
            conn.send(None)
        else:
            await publisher.close()
            conn.send(None)
            return
