"""The soak's table and verdict, from samples alone (pure: no I/O, table-testable).

Per node: after warm-up, resident memory grows less than ``rss_growth`` (the largest RSS seen
after warm-up against RSS at its end); once the load stops and the grace period is over, open
fds and asyncio tasks are back within a small slack of the idle baseline, and peer connections
and Socket.IO sessions at their baseline exactly. Latency (p50/p95/p99 of ``/healthz`` and of a
Socket.IO ack) is reported as last period ÷ first period after warm-up, never judged: a shared
2-core machine makes it noisy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.soak_probe import Sample


@dataclass(frozen=True)
class Criteria:
    rss_growth: float = 0.10
    fd_slack: int = 4
    task_slack: int = 4


@dataclass(frozen=True)
class Period:
    """One node's samples over one period of the run."""

    label: str
    samples: tuple[Sample, ...]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(samples: Sequence[Sample], kind: str) -> list[float]:
    return [v for s in samples for v in (s.http_ms if kind == "http" else s.ack_ms)]


HEADER = ("| node | period | RSS MB | fds (Redis) | tasks | peers | sessions | gc freed | CPU % "
          "| /healthz ms p50/p95/p99 | ack ms p50/p95/p99 |")


def row(node: str, period: Period, before: Sample | None) -> str:
    """A Markdown line: the period's last sample, gc objects freed and CPU over the period."""
    last = period.samples[-1]
    first = before or period.samples[0]
    wall = max(1e-9, last.t - first.t)
    http, ack = latencies(period.samples, "http"), latencies(period.samples, "ack")
    return (f"| {node} | {period.label} | {last.rss / 1e6:.1f} "
            f"| {last.fds:.0f} ({last.redis_conns}) "
            f"| {last.tasks:.0f} | {last.peers:.0f} | {last.sessions:.0f} "
            f"| {last.gc_collected - first.gc_collected:.0f} "
            f"| {100 * (last.cpu_s - first.cpu_s) / wall:.0f} | {_pcts(http)} | {_pcts(ack)} |")


def _pcts(values: Sequence[float]) -> str:
    return "/".join(f"{percentile(values, q):.1f}" for q in (0.5, 0.95, 0.99))


@dataclass(frozen=True)
class NodeRun:
    """One node's whole run: idle baseline, the warm-up's last sample, the load periods after
    warm-up, and the sample after the grace period."""

    node: str
    baseline: Sample
    warm: Sample
    periods: tuple[Period, ...]
    final: Sample


def judge(run: NodeRun, criteria: Criteria) -> tuple[list[str], list[str]]:
    """(findings, leaks): every line of the verdict, and those that are leaks."""
    lines: list[str] = []
    leaks: list[str] = []
    peak = max((s.rss for p in run.periods for s in p.samples), default=run.warm.rss)
    growth = peak / run.warm.rss - 1
    _check(lines, leaks, growth < criteria.rss_growth,
           f"{run.node}: RSS {run.warm.rss / 1e6:.1f} MB after warm-up, peak "
           f"{peak / 1e6:.1f} MB after it ({growth:+.1%}; limit {criteria.rss_growth:.0%}), "
           f"{run.final.rss / 1e6:.1f} MB at the end")
    b, f = run.baseline, run.final
    _check(lines, leaks, own_fds(f) <= own_fds(b) + criteria.fd_slack,
           f"{run.node}: open fds but Redis's {own_fds(b):.0f} idle -> {own_fds(f):.0f} after "
           f"the load (slack {criteria.fd_slack}; Redis pool {b.redis_conns} -> "
           f"{f.redis_conns} connections, at most 64)")
    _check(lines, leaks, f.tasks <= b.tasks + criteria.task_slack,
           f"{run.node}: asyncio tasks {b.tasks:.0f} idle -> {f.tasks:.0f} after the load "
           f"(slack {criteria.task_slack})")
    _check(lines, leaks, f.peers <= b.peers,
           f"{run.node}: peer connections {b.peers:.0f} idle -> {f.peers:.0f} after the load")
    _check(lines, leaks, f.sessions <= b.sessions,
           f"{run.node}: Socket.IO sessions {b.sessions:.0f} idle -> {f.sessions:.0f} after "
           "the load")
    lines.append(f"{run.node}: {latency_trend(run.periods)}")
    return lines, leaks


def _check(lines: list[str], leaks: list[str], ok: bool, text: str) -> None:
    line = f"{'ok  ' if ok else 'LEAK'} {text}"
    lines.append(line)
    if not ok:
        leaks.append(line)


def latency_trend(periods: Sequence[Period]) -> str:
    """Last period ÷ first period after warm-up, per percentile, for both probes."""
    if len(periods) < 2:
        return "latency: fewer than two periods after warm-up, no trend"
    first, last = periods[0].samples, periods[-1].samples
    parts = []
    for kind in ("http", "ack"):
        ratios = []
        for q in (0.5, 0.95, 0.99):
            a, b = percentile(latencies(first, kind), q), percentile(latencies(last, kind), q)
            ratios.append(f"{b / a:.2f}" if a > 0 else "–")
        parts.append(f"{'/healthz' if kind == 'http' else 'ack'} p50/p95/p99 last ÷ first "
                     + "/".join(ratios))
    return "latency: " + "; ".join(parts)


def own_fds(sample: Sample) -> float:
    """Open fds but the Redis pool's connections (made as concurrency asks, then kept)."""
    return sample.fds - sample.redis_conns


def needs_grace(baseline: Sample, now: Sample, criteria: Criteria) -> bool:
    """True while a live count is still above what :func:`judge` accepts."""
    return (own_fds(now) > own_fds(baseline) + criteria.fd_slack
            or now.tasks > baseline.tasks + criteria.task_slack
            or now.peers > baseline.peers or now.sessions > baseline.sessions)
