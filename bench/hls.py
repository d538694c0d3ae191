"""What serving LL-HLS costs one node (issue 16 §7): N loopback viewers following a live
playlist with blocking reloads, against the same viewers polling the playlist, in one run.

    .venv/bin/python -m bench.hls [--viewers 50,200,500] [--seconds 15]

The node is Pavilion's app (``web.app.create_app``: the gate, the HLS door ``web/hls.py`` with
its blocking reload and cache headers, memory store) in a subprocess, with one public live
broadcast whose :class:`~streaming.hls.feed.HlsFeed` is :class:`PacedFeed`: a part every
``part_s`` (0.5 s, 4 per 2 s segment) of the size a 2.5 Mbit/s 720p rendition gives (~156 kB),
published on the node's event loop at real-time pace. Each part's first 8 bytes are the
node's ``CLOCK_MONOTONIC`` at publication (the clock is system-wide, so the viewers, another
process, read it as their own): the delay is from a part's availability on the node to its
last byte at a viewer.

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
import contextlib
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
    """What the viewers saw during the measured window."""

    delays: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    measuring: bool = False


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
    if tally.measuring:
        tally.delays.append(received - struct.unpack("!d", body[:8])[0])


async def follow(session: aiohttp.ClientSession, base: str, blocking: bool, tally: Tally) -> None:
    """One viewer: follow the live playlist, fetch each part once, forever."""
    seen: set[str] = set()
    async with session.get(f"{base}/index.m3u8") as response:
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
        async with session.get(f"{base}/index.m3u8{query}") as response:
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


async def measure(base: str, pid: int, viewers: int, blocking: bool, seconds: float) -> Row:
    tally, lags, stop = Tally(), list[float](), asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(follow(session, base, blocking, tally))
                 for _ in range(viewers)]
        lagger = asyncio.create_task(loop_lag(stop, lags))
        await asyncio.sleep(WARMUP_S)
        tally.measuring, tally.requests, lags[:] = True, 0, []
        start_cpu, start, own = node_cpu(pid), time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        used, took = node_cpu(pid) - start_cpu, time.monotonic() - start
        own = time.process_time() - own
        tally.measuring = False
        stop.set()
        for task in [*tasks, lagger]:
            task.cancel()
        await asyncio.gather(*tasks, lagger, return_exceptions=True)
    delays = sorted(tally.delays) or [float("nan")]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return Row("blocking" if blocking else "polling", viewers, 1000 * used / took / viewers,
               tally.requests / took, 1000 * statistics.median(delays), 1000 * p99,
               tally.errors, 1000 * max(lags, default=0.0), own / took)


def start_node() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.hls_node"], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise RuntimeError(f"the node did not start: {line!r}")
    return proc, line


async def run(viewers: list[int], seconds: float) -> list[Row]:
    proc, url = start_node()
    try:
        base = f"{url}/hls/{ROOM}"
        rows = []
        for count in viewers:
            for blocking in (True, False):
                rows.append(await measure(base, proc.pid, count, blocking, seconds))
        return rows
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    rows = asyncio.run(run([int(n) for n in args.viewers.split(",")], args.seconds))
    print(f"one node, LL-HLS part {PART_S} s, {PART_BYTES // 1000} kB parts, "
          f"{args.seconds:.0f} s measured per row, {os.cpu_count()} cores shared by node "
          "and viewers; delay = part published on the node → last byte at the viewer; "
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
