"""What serving LL-HLS costs one node (issue 16 §7): N loopback viewers following a live
playlist with blocking reloads, against the same viewers polling the playlist, in one run.

    .venv/bin/python -m bench.hls [--viewers 50,200,500] [--seconds 15]

The node is Pavilion's app (``web.app.create_app``: the gate, the HLS door ``web/hls.py`` with
its blocking reload and cache headers, memory store) in a subprocess (bench/hls_node.py), with
one public live broadcast, 0.5 s parts, 2 s segments. Its feed (``--feed``):

* ``packager``: the real pipeline: a MediaPlane, an aiortc publisher over loopback replaying a
  pre-encoded 720p H264 clip (~2.5 Mbit/s), the plane's HlsPackager. A part's availability is
  when a reference viewer (blocking reloads, not counted) first sees it listed.
* ``paced`` (default): :class:`bench.hls_node.PacedFeed` publishes parts of a 2.5 Mbit/s
  rendition's size (~156 kB) at real-time pace, each stamped with the node's
  ``CLOCK_MONOTONIC`` at publication (system-wide: the viewers read it as their own clock),
  so the delay is exact from publication on the node to the last byte at a viewer.

The node's CPU with no viewer (the feed, the publisher) is measured first and subtracted.

Viewers (asyncio + aiohttp, one process, one connection each, like a player):

* **blocking** (LL-HLS, RFC 8216bis §6.2.5.2): ``GET index.m3u8?_HLS_msn=M&_HLS_part=P`` for
  the part after the last one it has; when it answers, fetch each new part.
* **polling** (the baseline): ``GET index.m3u8`` every part target, fetch each new part.

Figures per N, measured over ``--seconds`` after a warm-up: the node's CPU (``/proc``,
user + system) per viewer, requests/s, and p50/p99 of availability → receipt. The viewer
process is a load generator, not the subject; when its own loop lags the figures say so
(``viewer loop lag``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field

import aiohttp

PART_S = 0.5
PARTS_PER_SEGMENT = 4
PART_BYTES = round(2_500_000 / 8 * PART_S)
ROOM = "hls-bench"
WARMUP_S = 3.0
PART_LINE = re.compile(r'#EXT-X-PART:.*URI="([^"]+)"')


@dataclass
class Tally:
    """What the viewers saw during the measured window. ``stamped``: parts carry their
    publication time (the paced feed); else a part's availability is when the reference
    viewer (blocking, not counted) first saw it listed: ``listed``."""

    stamped: bool
    delays: list[float] = field(default_factory=list)
    receipts: list[tuple[str, float]] = field(default_factory=list)
    listed: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    errors: int = 0
    measuring: bool = False

    def all_delays(self) -> list[float]:
        if self.stamped:
            return sorted(self.delays)
        return sorted(at - self.listed[uri] for uri, at in self.receipts if uri in self.listed)


@dataclass(frozen=True, slots=True)
class Listing:
    """A media playlist as a viewer needs it: every part URI (oldest first) and the next
    part to ask for (``_HLS_msn``, ``_HLS_part``)."""

    parts: list[str]
    next_msn: int
    next_part: int


def listing(text: str) -> Listing:
    """Read the parts of an LL-HLS media playlist (RFC 8216bis §4.4.4.9)."""
    msn, part, parts = 0, 0, []
    for line in text.splitlines():
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            msn = int(line.split(":", 1)[1])
        elif match := PART_LINE.match(line):
            parts.append(match.group(1))
            part += 1
        elif line and not line.startswith("#"):  # a whole segment's URI: the next one opens
            msn, part = msn + 1, 0
    return Listing(parts, msn, part)


async def fetch_part(session: aiohttp.ClientSession, base: str, uri: str, tally: Tally) -> None:
    async with session.get(f"{base}/{uri}") as response:
        body = await response.read()
    received = time.monotonic()
    tally.requests += 1
    if response.status != 200 or len(body) < 8:
        tally.errors += 1
        return
    if tally.measuring and tally.stamped:
        tally.delays.append(received - struct.unpack("!d", body[:8])[0])
    elif tally.measuring:
        tally.receipts.append((uri, received))


async def reference(session: aiohttp.ClientSession, base: str, name: str, tally: Tally) -> None:
    """The availability clock: blocking reloads only, noting when each part is first listed."""
    now = listing("")
    while True:
        query = f"?_HLS_msn={now.next_msn}&_HLS_part={now.next_part}" if now.parts else ""
        async with session.get(f"{base}/{name}{query}") as response:
            text = await response.text()
        at = time.monotonic()
        now = listing(text) if response.status == 200 else now
        for uri in now.parts:
            tally.listed.setdefault(uri, at)


async def follow(session: aiohttp.ClientSession, base: str, name: str, blocking: bool,
                 tally: Tally) -> None:
    """One viewer: follow the live playlist, fetch each part once, forever."""
    seen: set[str] = set()
    async with session.get(f"{base}/{name}") as response:
        now = listing(await response.text())
    seen.update(now.parts)  # a player starts at the live edge, not with the backlog
    if not blocking:  # pollers join at random moments: their phase to the parts is uniform
        await asyncio.sleep(random.uniform(0, PART_S))
    while True:
        if blocking:
            query = f"?_HLS_msn={now.next_msn}&_HLS_part={now.next_part}"
        else:
            await asyncio.sleep(PART_S)
            query = ""
        async with session.get(f"{base}/{name}{query}") as response:
            text = await response.text()
            tally.requests += 1
            if response.status != 200:
                tally.errors += 1
                await asyncio.sleep(PART_S)
                continue
        now = listing(text)
        for uri in now.parts:
            if uri not in seen:
                seen.add(uri)
                await fetch_part(session, base, uri, tally)


def node_cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - before - 0.05)


@dataclass(frozen=True, slots=True)
class Row:
    mode: str
    viewers: int
    cpu_ms_per_viewer_s: float
    requests_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    lag_ms: float
    viewer_cores: float


async def measure(node: Node, viewers: int, blocking: bool, seconds: float) -> Row:
    tally, lags, stop = Tally(node.stamped), list[float](), asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    base, name = node.base, node.playlist
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(follow(session, base, name, blocking, tally))
                 for _ in range(viewers)]
        tasks.append(asyncio.create_task(reference(session, base, name, tally)))
        lagger = asyncio.create_task(loop_lag(stop, lags))
        await asyncio.sleep(WARMUP_S)
        tally.measuring, tally.requests, lags[:] = True, 0, []
        start_cpu, start, own = node_cpu(node.pid), time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        used, took = node_cpu(node.pid) - start_cpu, time.monotonic() - start
        own = time.process_time() - own
        tally.measuring = False
        stop.set()
        for task in [*tasks, lagger]:
            task.cancel()
        await asyncio.gather(*tasks, lagger, return_exceptions=True)
    delays = tally.all_delays() or [float("nan")]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    per_viewer = 1000 * (used / took - node.idle) / viewers
    return Row("blocking" if blocking else "polling", viewers, per_viewer,
               tally.requests / took, 1000 * statistics.median(delays), 1000 * p99,
               tally.errors, 1000 * max(lags, default=0.0), own / took)


@dataclass(frozen=True, slots=True)
class Node:
    """The node process: its pid, the playlist to follow, its CPU (cores) with no viewer."""

    pid: int
    base: str
    playlist: str
    stamped: bool
    idle: float


def start_node(feed: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.hls_node", "--feed", feed],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"the node did not start: {line!r}")
    return proc, line


async def idle_cpu(pid: int, seconds: float = 5.0) -> float:
    """The node's CPU (cores) with no viewer: the feed (and publisher) alone."""
    before = node_cpu(pid)
    await asyncio.sleep(seconds)
    return (node_cpu(pid) - before) / seconds


async def run(feed: str, viewers: list[int], seconds: float) -> tuple[Node, list[Row]]:
    proc, url = start_node(feed)
    try:
        node = Node(proc.pid, f"{url}/hls/{ROOM}",
                    "index.m3u8" if feed == "paced" else "v0.m3u8", feed == "paced",
                    await idle_cpu(proc.pid))
        rows = []
        for count in viewers:
            for blocking in (True, False):
                rows.append(await measure(node, count, blocking, seconds))
        return node, rows
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # a stuck clean-up must not hold the benchmark
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--feed", choices=["paced", "packager"], default="paced")
    args = parser.parse_args()
    node, rows = asyncio.run(run(args.feed, [int(n) for n in args.viewers.split(",")],
                                 args.seconds))
    since = ("published on the node (stamp)" if node.stamped else
             "first listed to a reference blocking viewer")
    print(f"one node, feed {args.feed}, LL-HLS part {PART_S} s, {args.seconds:.0f} s measured "
          f"per row, {os.cpu_count()} cores shared by node and viewers; node idle "
          f"{node.idle:.3f} cores (subtracted); delay = part {since} → last byte at the viewer; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print("| viewers | reload | node CPU ms/s per viewer | requests/s | p50 ms | p99 ms "
          "| errors | viewers' process: cores, loop lag max ms |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row.viewers} | {row.mode} | {row.cpu_ms_per_viewer_s:.2f} | "
              f"{row.requests_s:.0f} | {row.p50_ms:.0f} | {row.p99_ms:.0f} | {row.errors} | "
              f"{row.viewer_cores:.2f}, {row.lag_ms:.0f} |")


if __name__ == "__main__":
    main()
