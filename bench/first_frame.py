"""First-frame benchmark (issue 14 §7): how long a WHEP viewer waits, from its POST to its answer
and to its first decoded video frame, when its offer hides its addresses behind mDNS names.

    .venv/bin/python -m bench.first_frame [--viewers 20] [--offers mdns,plain]
        [--baseline /path/to/an/older/checkout]

A real node (``python -m web.cli serve``, demo mode on loopback, so private candidates are
allowed, the configuration in which aioice used to resolve mDNS names) pinned to the first core;
a publisher process sending a pre-encoded ~1 Mbit/s VP8 clip + Opus over WHIP (as
bench/cascade.py), so the node has a keyframe cached; then ``--viewers`` aiortc viewers, one
after the other, each: a recvonly offer, its candidates rewritten to ``<uuid>.local`` names and
without ``a=end-of-candidates`` (what Chromium sends from a page without camera permission:
every viewer), POST /whep, the answer applied, the time to its first decoded video frame; then
it leaves (DELETE) so each sample is a join to an otherwise idle node. ``plain`` offers keep the
real addresses: the control.

``--baseline DIR`` runs the same viewers against a node started from another checkout (e.g.
``git worktree add /tmp/before <commit>``) in the same run: the old behaviour. Prints per
configuration p50 / p95 / max of POST→answer, POST→connected (ICE + DTLS) and POST→first
frame, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from bench.clip import opus_clip, vp8_clip
from bench.fanout import Channel
from bench.fanout_servers import publish_on
from bench.nodes import ROOT, Server, pin, start_node
from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint

ROOM = LIVE_BROADCAST
HOST = "changbai-foods"  # the demo broadcast's exhibitor: its token may publish
SECRET = "bench-secret-0123456789abcdef-0123456789"
FIRST_FRAME_TIMEOUT_S = 10.0
TARGET_MS = 300  # the first-frame target


@dataclass(frozen=True)
class Sample:
    answer_ms: float
    connected_ms: float | None  # ICE and DTLS done (aiortc's connectionState "connected")
    first_frame_ms: float | None  # None: no frame within FIRST_FRAME_TIMEOUT_S


def hide_addresses(sdp: str) -> str:
    """``sdp`` as Chromium sends it without camera permission: every candidate address an mDNS
    name, and no ``a=end-of-candidates`` (Chromium never sends it in an offer)."""
    names: dict[str, str] = {}
    lines = []
    for line in sdp.split("\r\n"):
        if line == "a=end-of-candidates":
            continue
        if line.startswith("a=candidate:"):
            fields = line.split(" ")
            fields[4] = names.setdefault(fields[4], f"{uuid.uuid4()}.local")
            line = " ".join(fields)
        lines.append(line)
    return "\r\n".join(lines)


def token(identity: str, grant: Grant) -> str:
    return mint(SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=3600)


async def _first_frame(track: MediaStreamTrack, arrived: asyncio.Future[float]) -> None:
    with contextlib.suppress(MediaStreamError):
        await track.recv()  # aiortc decodes: this is the first decoded frame
        if not arrived.done():
            arrived.set_result(time.monotonic())


async def play(http: aiohttp.ClientSession, node: str, hide: bool, i: int) -> Sample:
    """One viewer's join, timed from just before its POST."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    tasks: list[asyncio.Task[None]] = []

    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video":
            tasks.append(asyncio.ensure_future(_first_frame(track, arrived)))

    pc.on("track", on_track)
    connected: list[float] = []
    pc.on("connectionstatechange", lambda: pc.connectionState == "connected"
          and connected.append(time.monotonic()))
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    offer = hide_addresses(offer) if hide else offer
    headers = {"Content-Type": "application/sdp",
               "Authorization": f"Bearer {token(f'bench-viewer-{i}', Grant.SUBSCRIBE)}"}
    location = ""
    try:
        started = time.monotonic()
        async with http.post(f"{node}/whep/{ROOM}", data=offer, headers=headers) as response:
            answer = await response.text()
            location = response.headers.get("Location", "")
            if response.status != 201:
                raise RuntimeError(f"WHEP: {response.status} {answer.strip()[:200]}")
        answered = time.monotonic()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        first: float | None = None
        with contextlib.suppress(TimeoutError):
            first = await asyncio.wait_for(asyncio.shield(arrived), FIRST_FRAME_TIMEOUT_S)
        return Sample(*((t - started) * 1000 if t is not None else None
                        for t in (answered, connected[0] if connected else None, first)))
    finally:
        await pc.close()
        for task in tasks:
            task.cancel()
        if location:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.delete(f"{node}{location}", headers=headers):
                    pass


async def whip(http: aiohttp.ClientSession, node: str, offer: str) -> str:
    headers = {"Content-Type": "application/sdp",
               "Authorization": f"Bearer {token(HOST, Grant.PUBLISH)}"}
    async with http.post(f"{node}/whip/{ROOM}", data=offer, headers=headers) as response:
        text = await response.text()
        if response.status != 201:
            raise RuntimeError(f"WHIP: {response.status} {text.strip()[:200]}")
        return text


async def run_config(name: str, root: Path, offers: list[str], args: argparse.Namespace,
                     clips: tuple[list[bytes], list[bytes]]) -> list[tuple[str, list[Sample]]]:
    """Start a node from ``root``, publish, and time ``args.viewers`` joins per kind of offer."""
    cpus = sorted(os.sched_getaffinity(0))
    others = set(cpus[1:] or cpus)
    workdir = tempfile.mkdtemp(prefix="bench-first-frame-")
    env = {"PAVILION_SECRET": SECRET, "PAVILION_DEMO": "true", "PAVILION_STATE_DIR": workdir,
           "PAVILION_NODE_ID": "bench-" + name.split()[0], "PAVILION_LOG_LEVEL": "warning"}
    node: Server = start_node(env, [cpus[0]], root=root)
    publisher = Channel(publish_on, others, clips)
    results = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            await publisher.ask("answer", await whip(http, node.url, await publisher.ask("offer")))
            await asyncio.sleep(args.settle)  # the node caches the publisher's keyframe
            for kind in offers:
                samples = []
                for i in range(args.viewers):
                    samples.append(await play(http, node.url, kind == "mdns", i))
                    await asyncio.sleep(args.pause)
                results.append((f"{name}, {kind} offers", samples))
                print(line(results[-1][0], samples), flush=True)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(publisher.ask("stop"), 10)
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, samples: list[Sample]) -> str:
    answers = [s.answer_ms for s in samples]
    links = [s.connected_ms for s in samples if s.connected_ms is not None]
    frames = [s.first_frame_ms for s in samples if s.first_frame_ms is not None]
    missing = len(samples) - len(frames)

    def figures(values: list[float]) -> str:
        if not values:
            return "none | – | –"
        return (f"{statistics.median(values):.0f} | {percentile(values, 0.95):.0f}"
                f" | {max(values):.0f}")

    within = sum(1 for f in frames if f < TARGET_MS)
    return (f"| {name} | {len(samples)} | {figures(answers)} | {figures(links)}"
            f" | {figures(frames)} | {within}/{len(samples)}"
            f"{f' ({missing} without a frame)' if missing else ''} |")


async def main(args: argparse.Namespace) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    pin(0, cpus[1:] or cpus)  # the viewers, off the node's core
    clips = vp8_clip(), opus_clip()  # once: every configuration sends the very same packets
    offers = [o.strip() for o in args.offers.split(",") if o.strip()]
    configs = [("this checkout", ROOT)]
    if args.baseline:
        configs.append(("baseline", args.baseline))
    print("| node, offers | viewers | answer p50 | p95 | max | connected p50 | p95 | max"
          f" | first frame p50 | p95 | max | first frame < {TARGET_MS} ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, root in configs:
        await run_config(name, root, offers, args, clips)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20, help="joins per kind of offer")
    parser.add_argument("--offers", default="mdns,plain",
                        help="mdns (Chromium without camera permission) and/or plain")
    parser.add_argument("--baseline", type=lambda p: Path(p).resolve(),
                        help="another checkout to run the same viewers against, in the same"
                        " run (the old behaviour)")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after publishing")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between joins")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
