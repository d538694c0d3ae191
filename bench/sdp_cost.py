"""What one hostile offer of legal size costs the event loop, before and after the SDP screen.

Every offer below is under the default caps (``max_sdp_bytes`` 20000, ``max_sdp_lines`` 1000),
made from the real Chromium capture (tests/data/sdp) by repeating, lengthening or multiplying
lines (tests/streaming/hostile_sdp.py). For each, in one run against the plain Chromium offer
as the baseline:

- ``before``: the publisher leg negotiates the raw offer, as the plane did before the screen
  (streaming/offer_check.py) existed: our parse and codec plan, then aiortc;
- ``after``: ``MediaPlane.publish``, screen first (a refusal costs only the screen);
- ``hold``: the longest the loop went without running another task (a ticker task records the
  gaps between its turns), which is what every other room on the node feels;
- ``calls``: Python function calls during ``after`` (``sys.setprofile``), the deterministic
  measure tests/streaming/test_sdp_cost.py bounds.

Run: ``.venv/bin/python -m bench.sdp_cost`` (``--runs 3`` takes the median of three).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from config import MediaLimits
from streaming import MediaPlane
from streaming.publisher import PublisherLeg
from streaming.source import Source
from tests.streaming.hostile_sdp import (
    CHROMIUM,
    GSTREAMER,
    candidates,
    distinct,
    fit,
    huge_fingerprint,
    long_line,
    media_sections,
    repeat,
)

LIMITS = MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True)
SLOW_MS = 500.0  # a "before" slower than this is run once, not ``--runs`` times


def kinds() -> list[tuple[str, str]]:
    """(name, offer): the baseline first, then the worst legal-size offer of each kind."""
    video = "m=video"
    return [
        ("chromium (baseline)", CHROMIUM),
        ("gstreamer", GSTREAMER),
        ("rtpmap line repeated", fit(lambda n: repeat(CHROMIUM, "a=rtpmap:96 ", n))),
        ("rtcp-fb line repeated", fit(lambda n: repeat(CHROMIUM, "a=rtcp-fb:96 nack", n))),
        ("candidate repeated", fit(lambda n: repeat(CHROMIUM, "a=candidate:", n))),
        ("distinct candidates", fit(lambda n: candidates(CHROMIUM, n))),
        ("64 candidates (the cap)", candidates(CHROMIUM, 56)),
        ("distinct ssrc lines", fit(lambda n: distinct(CHROMIUM, video, "a=ssrc:{k} cname:x", n))),
        ("ssrc lines (section cap)", distinct(CHROMIUM, video, "a=ssrc:{k} cname:x", 300 - 127)),
        ("distinct rtcp-fb lines", fit(lambda n: distinct(
            CHROMIUM, video, "a=rtcp-fb:96 x{k}", n))),
        ("distinct extmap lines", fit(lambda n: distinct(
            CHROMIUM, video, "a=extmap:{k} urn:x:{k}", n))),
        ("fmtp with many parameters", CHROMIUM.replace(
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=fmtp:111 " + ";".join(f"p{k}=1" for k in range(1_500)))),
        ("18 media sections", media_sections(CHROMIUM, 18)),
        ("8 media sections (the cap)", media_sections(CHROMIUM, 8)),
        ("one 13,000-char line", long_line(CHROMIUM, 13_000)),
        ("1,024-char line (the cap)", long_line(CHROMIUM, 1_024 - len("a=x-pavilion-test:"))),
        ("huge fingerprint", huge_fingerprint(CHROMIUM)),
    ]


@dataclass
class Cost:
    wall_ms: float
    hold_ms: float
    calls: int
    outcome: str


async def measure(run: Callable[[], Awaitable[object]], count_calls: bool) -> Cost:
    """Run once; the wall time, the longest the loop was held, and (optionally) the calls."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    calls = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls[0] += 1

    start = time.perf_counter()
    if count_calls:
        sys.setprofile(profile)
    try:
        await run()
        outcome = "answered"
    except Exception as exc:  # the refusal is the point of most rows
        outcome = f"{type(exc).__name__}: {exc}"[:60]
    finally:
        sys.setprofile(None)
    wall = (time.perf_counter() - start) * 1000
    done.set()
    await task
    return Cost(wall, max(gaps, default=0.0) * 1000, calls[0], outcome)


class Bench:
    def __init__(self) -> None:
        self.plane = MediaPlane(LIMITS)
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"p{self._n}"

    async def before(self, offer: str) -> Cost:
        """The leg negotiating the raw offer, as ``publish`` did without the screen."""
        leg = PublisherLeg(self._id(), "bench", self._id(), LIMITS, [], self._sink)
        try:
            return await measure(lambda: leg.answer(offer), False)
        finally:
            await leg.close()

    def _sink(self, leg: PublisherLeg, kind: str, codec: Any, ids: dict[str, int]) -> Source:
        return Source(f"{leg.peer_id}/{kind}", "bench", kind, codec, LIMITS)

    async def after(self, offer: str, count_calls: bool = False) -> Cost:
        answer: list[str] = []

        async def publish() -> None:
            answer.append((await self.plane.publish("bench", self._id(), offer)).peer_id)

        cost = await measure(publish, count_calls)
        for peer_id in answer:
            await self.plane.close(peer_id)
        return cost


async def median(make: Callable[[], Awaitable[Cost]], runs: int) -> Cost:
    costs = [await make()]
    while len(costs) < runs and costs[0].wall_ms < SLOW_MS:
        costs.append(await make())
    return Cost(statistics.median(c.wall_ms for c in costs),
                statistics.median(c.hold_ms for c in costs), costs[0].calls, costs[0].outcome)


async def main(runs: int) -> None:
    bench = Bench()
    await bench.after(CHROMIUM)  # warm up: imports, the first certificate
    await bench.before(CHROMIUM)
    print(f"{'offer (legal size)':28} {'bytes':>6} {'lines':>5} | {'before ms':>9} {'hold':>7} |"
          f" {'after ms':>8} {'hold':>6} {'calls':>7} | after: outcome")
    for name, offer in kinds():
        old = await median(lambda o=offer: bench.before(o), runs)
        new = await median(lambda o=offer: bench.after(o), runs)
        counted = await bench.after(offer, count_calls=True)
        print(f"{name:28} {len(offer.encode()):6} {offer.count(chr(10)):5} |"
              f" {old.wall_ms:9.1f} {old.hold_ms:7.1f} | {new.wall_ms:8.1f} {new.hold_ms:6.1f}"
              f" {counted.calls:7} | {new.outcome}", flush=True)
    await bench.plane.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
