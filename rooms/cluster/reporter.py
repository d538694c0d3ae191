"""``Reporter``: the loop that samples the node's usage and reports it every interval, with
the health of the rooms whose media it serves (issue 18 §2).

The gauges (peers, sessions, rooms, send totals) come from a function the composition root
gives (rooms/ cannot read the media plane or the hub); CPU is this process's CPU seconds per
wall second over the interval (``time.process_time``), and packets and bits per second are the
send totals' growth over it. A store outage is logged once; reporting resumes with Redis. The
loop sets ``exited`` when it ends, so ``aclose()`` never hangs; a clean stop drops the report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from rooms.cluster.health import RoomDetail
from rooms.cluster.node import ClusterNode
from rooms.cluster.report import Gauges, Usage
from rooms.errors import StoreUnavailable
from rooms.lifecycle import cancel_and_wait

log = logging.getLogger(__name__)
MIN_SPAN_S = 0.05  # a shorter span (the first report, at start) measures nothing yet


class Reporter:
    def __init__(self, node: ClusterNode, read: Callable[[], Gauges],
                 health: Callable[[], list[RoomDetail]] | None = None) -> None:
        self.node = node
        self._read = read
        self._health = health  # the rooms' health (issue 18 §2), read with each report
        self.exited = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._healthy = True
        self._wall, self._cpu = time.monotonic(), time.process_time()
        self._sent = read()
        self._last = Usage()  # the rates of the last full span (none yet)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cluster-reporter")

    async def _run(self) -> None:
        try:
            while not self._closing:
                await self.report_now()
                await asyncio.sleep(self.node.rules.report_interval_s)
        finally:
            self.exited.set()

    def sample(self) -> Usage:
        """Usage since the last sample (CPU and rates over that span).

        A report made at once between ticks (:meth:`report_now`: a drain, a console's push on
        change) keeps the rates of the last full span and only refreshes the counts: CPU over a
        few milliseconds is noise (one burst reads as a full core), and a node that looked
        loaded for it would send new rooms elsewhere (placement "load")."""
        wall, cpu, now = time.monotonic(), time.process_time(), self._read()
        span = wall - self._wall
        if span < max(MIN_SPAN_S, self.node.rules.report_interval_s / 2):
            return replace(self._last, publishers=now.publishers, viewers=now.viewers,
                           sessions=now.sessions, rooms=now.rooms)
        before = self._sent
        self._wall, self._cpu, self._sent, cpu_before = wall, cpu, now, self._cpu
        self._last = Usage(cpu=(cpu - cpu_before) / span, publishers=now.publishers,
                           viewers=now.viewers, sessions=now.sessions, rooms=now.rooms,
                           packets_per_s=max(now.sent_packets - before.sent_packets, 0) / span,
                           egress_bps=8 * max(now.sent_bytes - before.sent_bytes, 0) / span)
        return self._last

    async def report_now(self) -> None:
        """Sample and report at once (also when a drain starts: others must know now)."""
        try:
            await self.node.report(self.sample())
            if self._health is not None:
                await self.node.report_health(self._health())
        except StoreUnavailable as exc:
            if self._healthy:
                log.warning("load report not written: %s", exc.reason)
            self._healthy = False
            return
        self._healthy = True

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()
