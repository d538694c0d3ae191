"""A report made at once between ticks keeps the last full span's rates (issue 18 §2).

The console's pushes on change and a drain call ``Reporter.report_now`` right after a tick;
CPU over those few milliseconds is noise (one burst reads as a whole core), and a node that
reported it looked loaded, so placement "load" sent the next room to another node (seen:
tests/interpretation/test_channels_nodes.py answered ``wrong_node``). Counts stay fresh.
"""

from __future__ import annotations

import time

from config import ClusterSettings
from rooms.cluster.memory_directory import MemoryDirectory
from rooms.cluster.node import ClusterNode
from rooms.cluster.report import Gauges
from rooms.cluster.reporter import Reporter


def busy(seconds: float, within_s: float) -> None:
    """Burn ``seconds`` of CPU, but stop after ``within_s`` of wall time whatever it got: on a
    loaded machine 80 ms of CPU may take longer than half a report interval, which would make
    the second sample a full span of its own (CI saw that)."""
    end, deadline = time.process_time() + seconds, time.monotonic() + within_s
    while time.process_time() < end and time.monotonic() < deadline:
        pass


def test_a_report_between_ticks_keeps_the_last_rates_and_fresh_counts() -> None:
    node = ClusterNode(MemoryDirectory(), node_id="a", url="http://a",
                       rules=ClusterSettings(report_interval_s=2.0))
    gauges = Gauges(sessions=1)
    reporter = Reporter(node, lambda: gauges)
    time.sleep(1.05)  # a quiet full span (over half the interval): about no CPU
    first = reporter.sample()
    assert first.cpu < 0.5
    busy(0.08, within_s=0.3)  # a burst just after the tick (well under half an interval)
    gauges = Gauges(sessions=7)
    between = reporter.sample()
    assert between.cpu == first.cpu  # not ~1.0: a burst over a short span
    assert between.sessions == 7
