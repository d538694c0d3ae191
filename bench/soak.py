"""Soak (issue 18 §5): two real nodes on one Redis under churn; do they give back what they took?

    .venv/bin/python -m bench.soak [--minutes 10] [--rooms 3] [--viewers 4] [--chatters 6]
        [--rate 2] [--room-s 60] [--warmup-s 120] [--period-s 60] [--grace-s 90] [--keep-logs]

Starts a ``redis-server`` on a free port and two nodes (``python -m web.cli serve``, as
bench/nodes.py does) sharing it, then a load process (bench/soak_load.py): rooms open and
close through the admin API, publishers come over WHIP and Socket.IO ``publish``, viewers over
WHEP and Socket.IO ``subscribe``, people chat, react and drop and resume their Socket.IO
sessions. Every few seconds it samples each node (bench/soak_probe.py): RSS, open fds, asyncio
tasks, peer connections, sessions, objects garbage collections freed, CPU, and the latency of
``GET /healthz`` and of a Socket.IO ack. A table row per node and period shows progress; after
``--minutes`` the load stops, the nodes get ``--grace-s`` to settle, and the verdict
(bench/soak_verdict.py) says whether RSS grew more than 10 % after warm-up and whether fds,
tasks, peers and sessions came back to their idle baseline. Exit status 1 on a leak.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp

from bench.cascade import raise_open_files
from bench.fanout import Channel
from bench.nodes import Server, start_node, start_redis
from bench.soak_load import Counts, LoadPlan, load_process
from bench.soak_probe import NodeProbe, Sample, sample_all
from bench.soak_verdict import HEADER, Criteria, NodeRun, Period, judge, needs_grace, row
from rooms.token import Grant, mint

SECRET = "soak-secret-0123456789abcdef-0123456789"
API_KEY = "soak-admin-key-0123456789abcdef0123456789"
PROBE_ROOM = "soak-probe"
IDLE_S = 5.0
GRACE_STEP_S = 2.0


@dataclass(frozen=True)
class Options:
    minutes: float = 10.0
    rooms: int = 3
    viewers: int = 4
    chatters: int = 6
    rate: float = 2.0
    room_s: float = 60.0
    warmup_s: float = 120.0
    period_s: float = 60.0
    sample_s: float = 5.0
    grace_s: float = 90.0
    keep_logs: bool = False
    criteria: Criteria = field(default_factory=Criteria)


@dataclass(frozen=True)
class Report:
    table: list[str]
    findings: list[str]
    leaks: list[str]
    counts: Counts
    log_errors: int

    @property
    def ok(self) -> bool:
        return not self.leaks


def node_env(redis_url: str, node_id: str, workdir: str) -> dict[str, str]:
    return {
        "PAVILION_REDIS_URL": redis_url, "PAVILION_SECRET": SECRET, "PAVILION_API_KEY": API_KEY,
        "PAVILION_NODE_ID": node_id, "PAVILION_DEMO": "false", "PAVILION_STATE_DIR": workdir,
        "PAVILION_LOG_LEVEL": "warning", "PAVILION_RTMP_PORT": "0",
        "PAVILION_CONFIG": str(Path(workdir) / "soak.toml"),
        "PAVILION_RECORDINGS__DIR": str(Path(workdir) / "recordings"),
        "PAVILION_CLUSTER__PLACEMENT": "first", "PAVILION_CLUSTER__CASCADE": "false",
        "PAVILION_CLUSTER__DRAIN_S": "0", "PAVILION_CLUSTER__MAX_LOAD": "100",
        "PAVILION_SIGNALING__EVENTS_PER_SECOND": "1000",
        "PAVILION_SIGNALING__EVENT_BURST": "1000",
        "PAVILION_SIGNALING__CHAT_PER_SECOND": "100", "PAVILION_SIGNALING__CHAT_BURST": "100",
        "PAVILION_SIGNALING__REACTIONS_PER_SECOND": "100",
        "PAVILION_SIGNALING__REACTION_BURST": "100",
    }


class Soak:
    """One run: redis, two nodes, their probes, the load process; periods of samples."""

    def __init__(self, options: Options, workdir: str) -> None:
        self.options, self.workdir = options, workdir
        self.servers: list[Server] = []
        self.probes: list[NodeProbe] = []
        self.started = time.monotonic()
        self.history: list[list[Sample]] = []  # per sample: one per node
        self.table: list[str] = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]

    def now(self) -> float:
        return time.monotonic() - self.started

    async def start(self, http: aiohttp.ClientSession) -> None:
        # HLS transcodes a VP8 broadcast (~0.3 core each): not what is soaked here
        (Path(self.workdir) / "soak.toml").write_text("[hls]\nkinds = []\n")
        for i in range(2):
            log = Path(self.workdir) / f"node-{i}.log"
            env = node_env(self.redis_url, f"soak-{i}", self.workdir)
            self.servers.append(await asyncio.to_thread(start_node, env, (), log))
        async with http.post(f"{self.servers[0].url}/api/admin/rooms",
                             headers={"Authorization": f"Bearer {API_KEY}"},
                             json={"id": PROBE_ROOM, "kind": "broadcast",
                                   "pavilion": "new-media", "state": "live"}) as response:
            if response.status != 201:
                raise RuntimeError(f"probe room: {response.status} {await response.text()}")
        token = mint(SECRET, identity="soak-probe", room=PROBE_ROOM,
                     grants=[Grant.JOIN, Grant.CHAT, Grant.SUBSCRIBE], ttl_s=24 * 3600)
        for server in self.servers:
            port = int(self.redis_url.rsplit(":", 1)[1].split("/", 1)[0])
            probe = NodeProbe(server, http, token, PROBE_ROOM, port)
            await probe.open()
            self.probes.append(probe)

    redis_url = ""

    async def sample(self) -> list[Sample]:
        samples = await sample_all(self.probes, self.now())
        self.history.append(samples)
        return samples

    def print_period(self, label: str, samples: list[list[Sample]],
                     before: list[Sample] | None) -> list[Period]:
        periods = []
        for i in range(len(self.servers)):
            period = Period(label, tuple(s[i] for s in samples))
            periods.append(period)
            line = row(f"soak-{i}", period, before[i] if before else None)
            self.table.append(line)
            print(line, flush=True)
        return periods

    async def close(self) -> None:
        for probe in self.probes:
            try:
                await probe.close()
            except Exception as exc:  # the nodes still go
                print(f"probe did not close cleanly: {exc!r}", flush=True)
        for server in self.servers:
            await asyncio.to_thread(server.stop)


async def run_load(soak: Soak, channel: Channel) -> tuple[list[Sample], list[list[Period]]]:
    """Sample through the load; print a row per node and period. Returns the warm-up's last
    samples and, per node, its periods after warm-up."""
    options = soak.options
    await channel.ask("start")
    load_end = soak.now() + options.minutes * 60
    warm_end = soak.now() + min(options.warmup_s, options.minutes * 60 / 2)
    period: list[list[Sample]] = []
    before: list[Sample] | None = soak.history[-1]
    warm: list[Sample] = []
    after: list[list[Period]] = [[] for _ in soak.servers]
    period_end = min(warm_end, soak.now() + options.period_s)
    while soak.now() < load_end:
        await asyncio.sleep(min(options.sample_s, max(0.0, load_end - soak.now())))
        period.append(await soak.sample())
        if soak.now() >= period_end - 0.5 or soak.now() >= load_end:
            minute = f"{soak.now() / 60:.1f} min{' warm-up' if not warm else ''}"
            periods = soak.print_period(minute, period, before)
            if warm:
                for i, p in enumerate(periods):
                    after[i].append(p)
            elif soak.now() >= warm_end - 0.5:
                warm = period[-1]
            before, period = period[-1], []
            period_end = soak.now() + options.period_s
            counts: Counts = await channel.ask("counts")
            print(f"  load so far: {_counts(counts)}", flush=True)
    return warm, after


async def settle(soak: Soak, baseline: list[Sample]) -> list[Sample]:
    """Sample until every node's live counts are back within the criteria, or the grace
    period is over; the last samples."""
    deadline = soak.now() + soak.options.grace_s
    while True:
        samples = await soak.sample()
        settled = not any(needs_grace(b, s, soak.options.criteria)
                          for b, s in zip(baseline, samples, strict=True))
        if settled or soak.now() >= deadline:
            return samples
        await asyncio.sleep(GRACE_STEP_S)


async def soak(options: Options) -> Report:
    """The whole run; see the module's docstring."""
    raise_open_files()
    workdir = tempfile.mkdtemp(prefix="pavilion-soak-")
    redis, redis_url = start_redis(workdir)
    run = Soak(options, workdir)
    run.redis_url = redis_url
    try:
        async with aiohttp.ClientSession() as http:
            try:
                return await _run(run, http)
            finally:
                await run.close()
    finally:
        redis.terminate()
        redis.wait(10)
        if options.keep_logs:
            print(f"node logs: {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run(run: Soak, http: aiohttp.ClientSession) -> Report:
    options = run.options
    await run.start(http)
    await asyncio.sleep(IDLE_S)
    baseline = await run.sample()
    print(f"{len(run.servers)} nodes, load: {options.rooms} rooms x ({options.viewers} "
          f"viewers, {options.chatters} chatters, {options.rate} chat/s), rooms live "
          f"{options.room_s:.0f} s, {options.minutes} min", flush=True)
    print(HEADER, flush=True)
    run.print_period("idle", [baseline], None)
    plan = LoadPlan(tuple(s.url for s in run.servers), API_KEY, SECRET, options.rooms,
                    options.viewers, options.chatters, options.rate, options.room_s)
    channel = Channel(load_process, plan, set())
    try:
        warm, after = await run_load(run, channel)
        counts: Counts = await asyncio.wait_for(channel.ask("stop"), 120)
    finally:
        channel.process.join(10)
        if channel.process.is_alive():
            channel.process.kill()
    stopped = run.history[-1]
    final = await settle(run, baseline)
    run.print_period(f"+{run.now() - stopped[0].t:.0f} s after", [stopped, final], None)
    findings: list[str] = []
    leaks: list[str] = []
    for i in range(len(run.servers)):
        node = NodeRun(f"soak-{i}", baseline[i], (warm or baseline)[i], tuple(after[i]),
                       final[i])
        lines, found = judge(node, options.criteria)
        findings += lines
        leaks += found
    return Report(run.table, findings, leaks, counts, _log_errors(Path(run.workdir)))


def _counts(c: Counts) -> str:
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(c.errors.items())) or "none"
    return (f"rooms {c.rooms}, WHIP {c.whip}, Socket.IO publish {c.sio_publish}, WHEP {c.whep},"
            f" Socket.IO subscribe {c.sio_subscribe}, sessions {c.sessions} (resumed "
            f"{c.resumes}), chat {c.chats}, reactions {c.reactions}; errors: {errors}")


def _log_errors(workdir: Path) -> int:
    """Lines at ERROR or with a traceback in the nodes' logs (warnings are expected: the
    load's viewers leave abruptly)."""
    count = 0
    for log in workdir.glob("node-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "ERROR" in line or line.startswith("Traceback"):
                count += 1
    return count


def print_report(report: Report) -> None:
    print()
    print("\n".join(report.table))
    print()
    print(f"load: {_counts(report.counts)}")
    print(f"node logs: {report.log_errors} ERROR/traceback lines")
    print("\n".join(report.findings))
    print("verdict: " + ("no leak" if report.ok else f"{len(report.leaks)} leak(s)"), flush=True)


def arguments() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Options()
    for name in ("minutes", "rate", "room_s", "warmup_s", "period_s", "sample_s", "grace_s"):
        parser.add_argument("--" + name.replace("_", "-"), type=float,
                            default=getattr(defaults, name))
    for name in ("rooms", "viewers", "chatters"):
        parser.add_argument("--" + name, type=int, default=getattr(defaults, name))
    parser.add_argument("--keep-logs", action="store_true", help="keep the nodes' logs")
    args = vars(parser.parse_args())
    return replace(defaults, **args)


def main() -> None:
    report = asyncio.run(soak(arguments()))
    print_report(report)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
