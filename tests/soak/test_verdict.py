"""The soak's verdict (bench/soak_verdict.py) on made-up samples: each leak is named."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.soak_probe import Sample, parse_metrics
from bench.soak_verdict import Criteria, NodeRun, Period, judge, needs_grace, row

IDLE = Sample(t=0, rss=100e6, fds=20, tasks=30, peers=0, sessions=1, gc_collected=0,
              redis_conns=6, cpu_s=1.0, http_ms=(1.0, 2.0), ack_ms=(3.0,))


def run(final: Sample, peak_rss: float = 112e6) -> NodeRun:
    warm = replace(IDLE, t=60, rss=110e6, fds=40, tasks=80, peers=6, sessions=8)
    during = replace(warm, t=120, rss=peak_rss)
    return NodeRun("n", IDLE, warm, (Period("1", (during,)), Period("2", (during,))), final)


def test_a_clean_run_has_no_leak() -> None:
    final = replace(IDLE, t=200, rss=111e6, redis_conns=14, fds=28, tasks=33)  # pool grew
    lines, leaks = judge(run(final), Criteria())
    assert leaks == [] and len(lines) == 6


@pytest.mark.parametrize(("change", "named"), [
    ({"peers": 1}, "peer connections"),
    ({"sessions": 2}, "Socket.IO sessions"),
    ({"tasks": 35}, "asyncio tasks"),
    ({"fds": 25}, "open fds"),  # 5 more, none of them Redis's
])
def test_a_count_above_its_baseline_is_a_leak(change: dict[str, float], named: str) -> None:
    final = replace(IDLE, t=200, **change)
    _, leaks = judge(run(final), Criteria())
    assert len(leaks) == 1 and named in leaks[0]
    assert needs_grace(IDLE, final, Criteria())


def test_memory_growing_ten_percent_after_warm_up_is_a_leak() -> None:
    _, leaks = judge(run(replace(IDLE, t=200), peak_rss=122e6), Criteria())
    assert len(leaks) == 1 and "RSS" in leaks[0]


def test_metrics_text_and_row() -> None:
    text = ("# HELP x\nprocess_resident_memory_bytes 1.5e+08\nprocess_open_fds 42.0\n"
            "pavilion_asyncio_tasks 7.0\npavilion_media_peers 3.0\npavilion_rtc_sessions 2.0\n"
            'pavilion_gc_collected_objects_total{generation="0"} 10.0\n'
            'pavilion_gc_collected_objects_total{generation="2"} 5.0\n')
    assert parse_metrics(text) == {"rss": 1.5e8, "fds": 42, "tasks": 7, "peers": 3,
                                   "sessions": 2, "gc_collected": 15}
    line = row("n", Period("idle", (IDLE, replace(IDLE, t=10, cpu_s=2.0))), None)
    assert line.startswith("| n | idle | 100.0 | 20 (6) | 30 | 0 | 1 | 0 | 10 |")
