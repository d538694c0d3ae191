"""Cascade benchmark (issue 13 §10): one broadcast on one node against the same broadcast
cascaded over several, server CPU per delivered packet, in the same run.

    .venv/bin/python -m bench.cascade [--sizes 10,40] [--seconds 5] [--nodes 2]
        [--single-max N] [--clients K] [--client-cores 2-3] [--checkers 1] [--parallel 8]

Two configurations, one after the other, on one ``redis-server`` this script starts:

- ``single``: one real node (``python -m web.cli serve``) pinned to the first core; the
  publisher (a pre-encoded ~1 Mbit/s VP8 clip + Opus, as in bench/fanout.py) sends to it over
  WHIP and every viewer plays from it over WHEP;
- ``cascade``: ``--nodes`` real nodes, one per core (each pinned), ``[cluster] cascade = true``;
  the publisher sends to node 0 (the origin, ``placement = "first"``); the viewers are spread
  evenly over all nodes, so every other node is an edge that serves its share from one upstream
  it pulls from the origin over WHEP (web/cascade.py).

The viewers live in ``--clients`` processes (default: one per client core), each pinned to one
client core: by default the cores no node uses, else every core but the origin's (the clients
then share the edges' cores; ``client s/s`` in the progress lines shows how busy they are).
Viewer ``i`` goes to node ``i % nodes`` and client process ``(i // nodes) % clients``, so every
process holds viewers of every node and the load stays even as viewers are added. The first
``--checkers`` viewers of each node decrypt and parse every packet (bench/cascade_clients.py).

Per configuration and viewer count it prints total server CPU (s/s, summed over the nodes),
µs of server CPU per delivered packet (distinct packets: a duplicate is not a delivery; the
edges' upstreams are part of the cost), and delivery:
video frames received / expected and packets received / the sequence-number span, for all
viewers and for the decrypting ones. A viewer's expected frames are its RTP timestamp span (a
gap shows whatever the timing), but at least the frames the publisher sent in the window less
2 s (a viewer that stalled or got nothing shows): a busy client whose counting thread reads a
second late is not loss (bench/fanout.py allows one frame, which a shared 2-core machine misses).
A row counts only if all three are ≥ 99 %; a configuration stops growing once frame delivery
falls under ``--stop-below`` (saturated). The last table gives cascade µs/pkt ÷ single µs/pkt
for each size both configurations served, and the marginal µs per extra delivered packet from
the previous size (the nodes' fixed cost, load reports and lease and presence upkeep, left out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.cascade_clients import Job, Tally, clients_process
from bench.clip import VIDEO_RATE, opus_clip, vp8_clip
from bench.fanout import Channel
from bench.fanout_servers import publish_on
from bench.nodes import Server, flush_redis, parse_cpus, pin, start_node, start_redis
from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint

ROOM = LIVE_BROADCAST
HOST = "changbai-foods"  # the demo broadcast's exhibitor: its token may publish
SECRET = "bench-secret-0123456789abcdef-0123456789"
API_KEY = "bench-admin-key-0123456789abcdef0123456789"
TOKEN_TTL_S = 6 * 3600
MIN_DELIVERY = 0.99
PROGRESS_EVERY_S = 5.0
FRAME_SLACK = 2 * VIDEO_RATE  # a client may read 2 s behind the publisher's count


@dataclass(frozen=True)
class Layout:
    """Where things run: node ``i`` on ``node_cores[i]``, client process ``k`` on
    ``client_cores[k % len]``, the publisher and redis on the client cores."""

    node_cores: list[int]
    client_cores: list[int]
    clients: int


def plan(nodes: int, client_cores: str, clients: int) -> Layout:
    cpus = sorted(os.sched_getaffinity(0))
    node_cores = [cpus[i % len(cpus)] for i in range(nodes)]
    if client_cores:
        spare = parse_cpus(client_cores)
    else:
        spare = cpus[nodes:] or cpus[1:] or cpus
    return Layout(node_cores, spare, clients or len(spare))


@dataclass(frozen=True)
class Row:
    config: str
    viewers: int
    nodes: int
    cpu_per_s: float
    us_per_packet: float
    packets_per_s: float  # delivered to all viewers
    frame_delivery: float
    packet_delivery: float
    checked_delivery: float

    @property
    def counts(self) -> bool:
        return min(self.frame_delivery, self.packet_delivery,
                   self.checked_delivery) >= MIN_DELIVERY


def node_env(redis_url: str, node_id: str, cascade: bool, workdir: str) -> dict[str, str]:
    return {
        "PAVILION_REDIS_URL": redis_url, "PAVILION_SECRET": SECRET,
        "PAVILION_NODE_ID": node_id, "PAVILION_API_KEY": API_KEY, "PAVILION_DEMO": "true",
        "PAVILION_STATE_DIR": workdir, "PAVILION_LOG_LEVEL": "warning",
        "PAVILION_CLUSTER__PLACEMENT": "first",  # the publisher's node is the origin
        "PAVILION_CLUSTER__CASCADE": "true" if cascade else "false",
        "PAVILION_CLUSTER__DRAIN_S": "0",
        "PAVILION_CLUSTER__MAX_LOAD": "100",  # measure the nodes, not their refusals
        "PAVILION_MEDIA__MAX_VIEWERS_PER_TRACK": "100000",
    }


def token(identity: str, grant: Grant) -> str:
    return mint(SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=TOKEN_TTL_S)


async def whip(origin: str, offer: str) -> str:
    headers = {"Content-Type": "application/sdp",
               "Authorization": f"Bearer {token(HOST, Grant.PUBLISH)}"}
    async with aiohttp.ClientSession() as http, http.post(
            f"{origin}/whip/{ROOM}", data=offer, headers=headers) as response:
        text = await response.text()
        if response.status != 201:
            raise RuntimeError(f"WHIP to the origin: {response.status} {text[:200]}")
        return text


async def placement(node: str) -> tuple[str, list[str]]:
    """The room's media home and its edges, as the admin API tells them (docs/admin-api.md)."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession() as http, http.get(
            f"{node}/api/admin/rooms/{ROOM}", headers=headers) as response:
        detail = await response.json()
        home = detail.get("node") or {}
        return str(home.get("id") if isinstance(home, dict) else home), sorted(
            detail.get("edges") or [])


MEDIA_COUNTERS = ("received_packets", "dropped_packets", "nacks_answered", "keyframe_requests",
                  "path_changes")
MEDIA_GAUGES = ("publishers", "sources", "viewers")  # now, not over the window


async def media_counters(nodes: list[Server]) -> dict[str, float]:
    """The nodes' media counters from ``/metrics`` (web/live_metrics.py), summed over nodes:
    packets taken in (the origin's publisher and the edges' upstreams), dropped for full
    viewer queues, resent from the NACK cache, keyframe requests; and the peers and Sources
    held now (an edge's upstream is a publisher-like intake, its tracks Sources)."""
    totals = dict.fromkeys(MEDIA_COUNTERS + MEDIA_GAUGES, 0.0)
    async with aiohttp.ClientSession() as http:
        for node in nodes:
            async with http.get(f"{node.url}/metrics") as response:
                for line in (await response.text()).splitlines():
                    name, _, value = line.partition(" ")
                    key = name.removeprefix("pavilion_media_").removesuffix("_total")
                    if name.startswith("pavilion_media_") and key in totals:
                        totals[key] += float(value)
    return totals


class Run:
    """One configuration: its nodes, publisher and client processes, grown size by size."""

    def __init__(self, config: str, nodes: int, layout: Layout, args: argparse.Namespace,
                 redis_url: str, workdir: str, clips: tuple[list[bytes], list[bytes]]) -> None:
        self.config, self.layout, self.args = config, layout, args
        flush_redis(redis_url)  # no lease or presence left by the previous configuration
        self.servers: list[Server] = []
        try:
            for i in range(nodes):
                log = Path(workdir) / f"{config}-{i}.log"
                env = node_env(redis_url, f"bench-{config}-{i}", nodes > 1, workdir)
                self.servers.append(start_node(env, [layout.node_cores[i]], log))
        except BaseException:  # no node outlives a failed start
            for server in self.servers:
                server.stop()
            raise
        count = max(1, min(layout.clients, max(args.sizes)))
        cores = layout.client_cores
        self.clients = [Channel(clients_process, {cores[k % len(cores)]}) for k in range(count)]
        self.publisher = Channel(publish_on, set(cores), clips)
        self.viewers = 0

    async def start(self) -> None:
        offer = await self.publisher.ask("offer")
        await self.publisher.ask("answer", await whip(self.servers[0].url, offer))

    def _job(self, i: int) -> tuple[int, Job]:
        nodes, clients = len(self.servers), len(self.clients)
        job = Job(self.servers[i % nodes].url, f"/whep/{ROOM}",
                  token(f"bench-viewer-{i}", Grant.SUBSCRIBE), i // nodes < self.args.checkers)
        return (i // nodes) % clients, job

    async def grow(self, size: int) -> None:
        """Add viewers up to ``size``, a chunk per client process at a time, with progress."""
        step = len(self.clients) * self.args.parallel * 2
        shown = time.monotonic()
        while self.viewers < size:
            chunk: list[list[Job]] = [[] for _ in self.clients]
            for i in range(self.viewers, min(size, self.viewers + step)):
                k, job = self._job(i)
                chunk[k].append(job)
            await asyncio.gather(*(c.ask("add", (jobs, self.args.parallel))
                                   for c, jobs in zip(self.clients, chunk, strict=True) if jobs))
            self.viewers = min(size, self.viewers + step)
            if time.monotonic() - shown > PROGRESS_EVERY_S or self.viewers == size:
                shown = time.monotonic()
                print(f"  {self.config}: {self.viewers}/{size} viewers connected", flush=True)
        await self.check_edges()

    async def check_edges(self) -> None:
        """Every node but the origin serves its viewers as an edge; say so if not (a viewer
        redirected to the origin would make the cascade look cheaper than it is)."""
        home, edges = await placement(self.servers[0].url)
        nodes = len(self.servers)
        wanted = sorted(f"bench-{self.config}-{i}" for i in range(1, min(nodes, self.viewers)))
        if home != f"bench-{self.config}-0" or edges != wanted:
            print(f"  {self.config}: WARNING: origin {home}, edges {edges}; expected "
                  f"bench-{self.config}-0 and {wanted}", flush=True)
        elif edges:
            print(f"  {self.config}: origin {home}, {len(edges)} edge(s) pulling", flush=True)

    async def measure(self, seconds: float) -> Row:
        await asyncio.sleep(self.args.warmup)  # keyframes reached everyone, queues settled
        await asyncio.gather(*(c.ask("reset") for c in self.clients))
        frames0 = await self.publisher.ask("frames")
        media0 = await media_counters(self.servers)
        cpu0, wall0 = [s.cpu_s() for s in self.servers], time.monotonic()
        await asyncio.sleep(seconds)
        cpu = [s.cpu_s() - c0 for s, c0 in zip(self.servers, cpu0, strict=True)]
        wall = time.monotonic() - wall0
        media = await media_counters(self.servers)
        frames = await self.publisher.ask("frames") - frames0
        at_least = max(0, frames - FRAME_SLACK)
        tallies: list[Tally] = list(await asyncio.gather(*(c.ask("tally", at_least)
                                                           for c in self.clients)))
        row = self._row(cpu, wall, tallies)
        print(f"  {self.config}: {_line(row)}", flush=True)
        print(f"    {_details(row, [c / wall for c in cpu], tallies, frames)}; nodes: "
              + ", ".join([f"{k.replace('_', ' ')} {media[k] - media0[k]:.0f}"
                           for k in MEDIA_COUNTERS] + [f"{k} {media[k]:.0f}"
                                                       for k in MEDIA_GAUGES]), flush=True)
        return row

    def _row(self, cpu: list[float], wall: float, tallies: list[Tally]) -> Row:
        packets = sum(t.got for t in tallies)  # distinct: a duplicate is no delivery
        return Row(
            self.config, self.viewers, len(self.servers), sum(cpu) / wall,
            sum(cpu) * 1e6 / max(1, packets), packets / wall,
            sum(t.frames for t in tallies) / max(1, sum(t.frames_expected for t in tallies)),
            sum(t.got for t in tallies) / max(1, sum(t.expected for t in tallies)),
            sum(t.checked_got for t in tallies) / max(1, sum(t.checked_expected
                                                             for t in tallies)),
        )

    async def close(self) -> None:
        for channel in (*self.clients, self.publisher):
            try:
                await asyncio.wait_for(channel.ask("stop"), 60)
            except Exception as exc:  # the nodes still go; say what did not close cleanly
                print(f"  {self.config}: a helper did not stop cleanly: {exc!r}", flush=True)
            channel.process.join(10)
            if channel.process.is_alive():
                channel.process.kill()
        for server in self.servers:
            server.stop()


async def run_config(config: str, nodes: int, sizes: list[int], layout: Layout,
                     args: argparse.Namespace, redis_url: str, workdir: str,
                     clips: tuple[list[bytes], list[bytes]]) -> list[Row]:
    print(f"{config}: {nodes} node(s) on cores {layout.node_cores[:nodes]}, "
          f"clients on {layout.client_cores}", flush=True)
    run = Run(config, nodes, layout, args, redis_url, workdir, clips)
    rows: list[Row] = []
    try:
        await run.start()
        for size in sizes:
            await run.grow(size)
            rows.append(await run.measure(args.seconds))
            if rows[-1].frame_delivery < args.stop_below:
                print(f"  {config}: frame delivery under {args.stop_below:.0%} at {size} "
                      "viewers: saturated, no larger size for this configuration", flush=True)
                break
    finally:
        await run.close()
    return rows


def _details(row: Row, node_load: list[float], tallies: list[Tally], frames: int) -> str:
    """What explains a row: each node's CPU, the clients' (a busy client reads late), the
    viewers connected, redirected and short of the frame floor, frames within spans alone."""
    wall = max(t.wall_s for t in tallies)
    client_us = sum(t.cpu_s for t in tallies) * 1e6 / max(1, row.packets_per_s * wall)
    spanned = sum(t.frames for t in tallies) / max(1, sum(t.frames_spanned for t in tallies))
    return (f"per node s/s {' '.join(f'{load:.2f}' for load in node_load)}; client s/s max "
            f"{max(t.cpu_s / t.wall_s for t in tallies):.2f} ({client_us:.1f} µs/pkt); "
            f"connected {sum(t.connected for t in tallies)}/{row.viewers}; redirected "
            f"{sum(t.redirected for t in tallies)}; adopted late "
            f"{sum(t.late for t in tallies)}, never {sum(t.unadopted for t in tallies)}; "
            f"broken {sum(t.broken for t in tallies)}; "
            f"duplicate packets {sum(t.packets - t.got for t in tallies)}; "
            f"publisher frames {frames}; frames within spans {spanned:.1%}; viewers short "
            f"{sum(t.short for t in tallies)} {[d for t in tallies for d in t.short_detail]}")


def _line(row: Row) -> str:
    return (f"{row.viewers} viewers, {row.cpu_per_s:.3f} CPU s/s, "
            f"{row.us_per_packet:.1f} µs/pkt, frames {row.frame_delivery:.1%}, "
            f"packets {row.packet_delivery:.1%}, checked {row.checked_delivery:.1%}")


def marginal(row: Row, before: Row | None) -> str:
    """µs of server CPU per extra delivered packet from the previous size of the same
    configuration: the per-packet cost without the nodes' fixed cost (load reports, lease
    and presence upkeep), which dominates at small sizes."""
    if before is None or not (row.counts and before.counts):
        return "–"
    extra = row.packets_per_s - before.packets_per_s
    return f"{(row.cpu_per_s - before.cpu_per_s) * 1e6 / extra:.1f}" if extra > 0 else "–"


def table(rows: list[Row]) -> str:
    """The Markdown table: one line per configuration and size, the ratio on cascade lines."""
    single = {r.viewers: r for r in rows if r.config == "single"}
    lines = ["| configuration | viewers | nodes | server CPU s/s | µs CPU / delivered pkt "
             "| marginal µs/pkt | frames | packets | checked | counts "
             "| cascade ÷ single µs/pkt |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    previous: dict[str, Row] = {}
    for r in rows:
        base = single.get(r.viewers)
        ratio = "–"
        if r.config == "cascade" and base is not None and base.counts and r.counts:
            ratio = f"{r.us_per_packet / base.us_per_packet:.2f}"
        elif r.config == "cascade" and (base is None or not base.counts):
            ratio = "(single not measured)" if base is None else "(single < 99 %)"
        lines.append(f"| {r.config} | {r.viewers} | {r.nodes} | {r.cpu_per_s:.3f} "
                     f"| {r.us_per_packet:.1f} | {marginal(r, previous.get(r.config))} "
                     f"| {r.frame_delivery:.1%} | {r.packet_delivery:.1%} "
                     f"| {r.checked_delivery:.1%} | {'yes' if r.counts else 'no'} | {ratio} |")
        previous[r.config] = r
    return "\n".join(lines)


def clip(tries: int = 5) -> list[bytes]:
    """The VP8 clip at about 1 Mbit/s. libvpx's realtime mode adapts to the CPU it gets, so
    on a busy machine one encode came out at 2.4 Mbit/s: encode again (outside any
    measurement) until within ±30 %, else keep the closest and say so."""
    best: list[bytes] = []
    for _ in range(tries):
        frames = vp8_clip()
        if not best or abs(_mbps(frames) - 1) < abs(_mbps(best) - 1):
            best = frames
        if abs(_mbps(best) - 1) <= 0.3:
            break
    note = "" if abs(_mbps(best) - 1) <= 0.3 else " (WARNING: not ~1 Mbit/s)"
    print(f"clip: VP8 {_mbps(best):.2f} Mbit/s at {VIDEO_RATE} fps{note}, Opus", flush=True)
    return best


def _mbps(frames: list[bytes]) -> float:
    return sum(map(len, frames)) * 8 * VIDEO_RATE / len(frames) / 1e6


def raise_open_files() -> None:
    """Each viewer holds a few UDP sockets at both ends; 1,024 (a common soft limit) is too few
    for a few hundred viewers per process. Children inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main(args: argparse.Namespace) -> None:
    raise_open_files()
    layout = plan(args.nodes, args.client_cores, args.clients)
    pin(0, layout.client_cores)  # this driver only mints tokens and waits
    workdir = tempfile.mkdtemp(prefix="bench-cascade-")
    redis, redis_url = start_redis(workdir, layout.client_cores)
    clips = clip(), opus_clip()  # once: both configurations send the very same packets
    rows: list[Row] = []
    try:
        single_sizes = [s for s in args.sizes if not args.single_max or s <= args.single_max]
        if single_sizes:
            rows += await run_config("single", 1, single_sizes, layout, args, redis_url,
                                     workdir, clips)
        rows += await run_config("cascade", args.nodes, args.sizes, layout, args, redis_url,
                                 workdir, clips)
    finally:
        redis.terminate()
        redis.wait(10)
        if args.keep_logs:
            print(f"node logs: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(rows))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,40", help="viewer counts, ascending")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per size")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling before a window")
    parser.add_argument("--nodes", type=int, default=2, help="nodes of the cascade (origin "
                        "+ edges), one per core")
    parser.add_argument("--single-max", type=int, default=0, help="largest size the single "
                        "node is asked to serve (0: every size)")
    parser.add_argument("--clients", type=int, default=0, help="viewer processes (default: "
                        "one per client core)")
    parser.add_argument("--client-cores", default="", help="cores for the viewer processes, "
                        "publisher and redis, e.g. 12-15 (default: those no node uses, else "
                        "all but the origin's)")
    parser.add_argument("--checkers", type=int, default=1, help="decrypting viewers per node")
    parser.add_argument("--parallel", type=int, default=8, help="viewers each client process "
                        "connects at once")
    parser.add_argument("--stop-below", type=float, default=0.9, help="a configuration "
                        "stops growing after frame delivery under this (a row counts only "
                        "at >= 0.99 whatever this says)")
    parser.add_argument("--nice", type=int, default=0, help="scheduling priority of nodes "
                        "and clients, as in bench/fanout.py (negative needs root)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the nodes' logs")
    args = parser.parse_args()
    args.sizes = sorted(int(x) for x in args.sizes.split(","))
    if args.nodes < 2:
        parser.error("--nodes must be at least 2 (an origin and an edge)")
    return args


if __name__ == "__main__":
    options = arguments()
    if options.nice:
        os.nice(options.nice)  # inherited by every process this script starts
    asyncio.run(main(options))
