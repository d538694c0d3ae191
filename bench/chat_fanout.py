"""Chat fan-out in a big broadcast: deliveries/s per node, p50/p99 latency, server CPU per delivery.

Two servers, same clients, same run (so the result is a ratio that survives a noisy machine):

- ``plain``: a bare python-socketio server (optionally with ``AsyncRedisManager``) that emits
  each chat message to the room as it arrives: one emit per message per client (issue 5's
  reference: ~115–145 µs of server CPU per delivery, collapse near 10,000 deliveries/s);
- ``pavilion``: the real node (``python -m web.cli serve``), whose signalling batches chat into
  one frame per client per tick (signaling/batch.py).

The viewers are light raw Engine.IO v4 websocket clients (aiohttp), so the client process costs
little: every viewer counts deliveries, and one viewer in ``--sample`` decodes frames and
measures latency from the send time carried in the message text. Server CPU comes from
``/proc/<pid>/stat`` over the measurement window.

    .venv/bin/python bench/chat_fanout.py --viewers 1000 --rate 50 --plain-rates 5,10
    .venv/bin/python bench/chat_fanout.py --viewers 200 --plain-rates 25,50 --cross-node

``--cross-node`` puts the sender on one node and the viewers on another, sharing a redis-server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.nodes import Server, free_port, start_redis, wait_healthy  # noqa: E402
from rooms.demo import LIVE_BROADCAST  # noqa: E402
from rooms.token import Grant, mint  # noqa: E402

SECRET = "bench-secret-0123456789abcdef-0123456789"
NS = "/rtc"
SERVER_CPUS: set[int] = set()  # where the nodes run (main() picks it before pinning itself)


# -- servers ------------------------------------------------------------------------------------
def serve_plain(port: int, redis_url: str | None) -> None:
    """The reference: bare python-socketio, one emit per chat message to the whole room."""
    import socketio
    from aiohttp import web

    manager = socketio.AsyncRedisManager(redis_url) if redis_url else None
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        transports=["websocket"],
        logger=False,
        engineio_logger=False,
    )
    app = web.Application()
    sio.attach(app)

    @sio.on("connect", namespace=NS)
    async def connect(sid: str, environ: Any, auth: Any = None) -> bool:
        return True

    @sio.on("join", namespace=NS)
    async def join(sid: str, data: Any) -> dict[str, Any]:
        await sio.enter_room(sid, data["room"], namespace=NS)
        return {"ok": True}

    @sio.on("chat.send", namespace=NS)
    async def chat(sid: str, data: Any) -> None:
        await sio.emit(
            "chat.message",
            {"room_id": data["room"], "text": data["text"]},
            room=data["room"],
            namespace=NS,
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start(kind: str, redis_url: str | None, node: str) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_")}
    if kind == "plain":
        cmd = [sys.executable, __file__, "--serve-plain", str(port)]
        if redis_url:
            cmd += ["--redis", redis_url]
    else:
        cmd = [sys.executable, "-m", "web.cli", "serve", "--port", str(port)]
        env.update(
            {
                "PAVILION_SECRET": SECRET,
                "PAVILION_DEMO": "true",
                "PAVILION_NODE_ID": node,
                "PAVILION_LOG_LEVEL": "warning",
                "PAVILION_SIGNALING__EVENTS_PER_SECOND": "10000",
                "PAVILION_SIGNALING__EVENT_BURST": "10000",
                "PAVILION_SIGNALING__CHAT_PER_SECOND": "10000",
                "PAVILION_SIGNALING__CHAT_BURST": "10000",
            }
        )
        if redis_url:
            env["PAVILION_REDIS_URL"] = redis_url
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if SERVER_CPUS:  # the nodes on the first CPU, the clients (this process) on the others
        os.sched_setaffinity(proc.pid, SERVER_CPUS)
    return wait_healthy(Server(f"http://127.0.0.1:{port}", proc), f"{kind} server")


# -- light Engine.IO v4 / Socket.IO v5 clients --------------------------------------------------
@dataclass
class Viewer:
    ws: aiohttp.ClientWebSocketResponse
    sample: bool
    deliveries: int = 0
    latencies: list[float] = field(default_factory=list)
    ingress: list[float] = field(default_factory=list)  # ms from the send to the server's stamp
    pending: list[asyncio.Future[Any]] = field(default_factory=list)
    acks: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    counting: bool = False
    _next: int = 0

    async def request(self, event: str, payload: Any) -> asyncio.Future[Any]:
        """Send ``event`` now; the future gets its ack."""
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[self._next] = future
        await self.ws.send_str(f"42{NS},{self._next}" + json.dumps([event, payload]))
        return future

    async def call(self, event: str, payload: Any) -> Any:
        return await asyncio.wait_for(await self.request(event, payload), 60)

    async def emit(self, event: str, payload: Any) -> None:
        await self.ws.send_str(f"42{NS}," + json.dumps([event, payload]))

    async def run(self) -> None:
        async for msg in self.ws:
            data = msg.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith(f"42{NS},"):
                self._event(data)
            elif data.startswith(f"43{NS},"):
                body = data[len(NS) + 3 :]
                digits = len(body) - len(body.lstrip("0123456789"))
                future = self.acks.pop(int(body[:digits]), None)
                if future is not None and not future.done():
                    args = json.loads(body[digits:])
                    future.set_result(args[0] if args else None)

    def _event(self, data: str) -> None:
        if not self.counting:
            return
        count = data.count('"chat.message"')
        self.deliveries += count
        if self.sample and count:
            now = time.time_ns()
            name, payload = json.loads(data[len(NS) + 3 :])[:2]
            messages = (
                [p for n, p in payload["events"] if n == "chat.message"]
                if name == "batch"
                else [payload]
            )
            for message in messages:
                if message["text"].startswith("t="):
                    sent = int(message["text"][2:])
                    self.latencies.append((now - sent) / 1e6)
                    if "sent_at" in message:  # Pavilion's stamp (the plain server has none)
                        self.ingress.append(message["sent_at"] * 1e3 - sent / 1e6)


async def connect(
    http: aiohttp.ClientSession, url: str, identity: str, grants: list[Grant], sample: bool
) -> tuple[Viewer, asyncio.Task[None]]:
    ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket", max_msg_size=0)
    opened = await ws.receive_str()
    assert opened.startswith("0"), opened
    token = mint(SECRET, identity=identity, room=LIVE_BROADCAST, grants=grants, ttl_s=3600)
    await ws.send_str(f"40{NS}," + json.dumps({"token": token}))
    while not (await ws.receive_str()).startswith(f"40{NS},"):
        pass
    viewer = Viewer(ws, sample)
    task = asyncio.create_task(viewer.run())
    reply = await viewer.call("join", {"room": LIVE_BROADCAST})
    if not reply.get("ok", False):
        raise RuntimeError(f"join refused: {reply}")
    return viewer, task


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    kind: str, viewers_n: int, rate: float, seconds: float, cross: bool, redis_url: str | None
) -> dict[str, Any]:
    home = start(kind, redis_url, "bench-a")
    edge = start(kind, redis_url, "bench-b") if cross else home
    viewers: list[Viewer] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            sender, sender_task = await connect(
                http,
                home.url,
                "changbai-foods",
                [Grant.JOIN, Grant.PUBLISH, Grant.CHAT, Grant.MODERATE],
                sample=False,
            )
            tasks.append(sender_task)
            for n in range(viewers_n):
                viewer, task = await connect(
                    http,
                    edge.url,
                    f"viewer{n}",
                    [Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT],
                    sample=n % max(1, viewers_n // 20) == 0,
                )
                viewers.append(viewer)
                tasks.append(task)
            return await _window(sender, viewers, rate, seconds, edge, kind, cross)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if edge is not home:
            edge.stop()
        home.stop()


async def _window(
    sender: Viewer,
    viewers: list[Viewer],
    rate: float,
    seconds: float,
    edge: Server,
    kind: str,
    cross: bool,
) -> dict[str, Any]:
    async def send_for(duration: float) -> int:
        """Chat at ``rate`` for ``duration``; each message asks for an ack (refusals count)."""
        interval, begin, n = 1.0 / rate, time.monotonic(), 0
        while time.monotonic() - begin < duration:
            n += 1
            sender.pending.append(await sender.request(
                "chat.send", {"room": LIVE_BROADCAST, "text": f"t={time.time_ns()}"}))
            await asyncio.sleep(max(0.0, begin + n * interval - time.monotonic()))
        return n

    # The clients' own garbage collections would show as latency the server did not cause.
    gc.collect()
    gc.disable()
    await send_for(1.0)  # warm-up
    for viewer in viewers:
        viewer.counting = True
    cpu0, own0, t0 = edge.cpu_s(), _own_cpu(), time.monotonic()
    sent = await send_for(seconds)
    await asyncio.sleep(0.5)  # let the last frames arrive
    acks = await asyncio.gather(*(asyncio.wait_for(f, 10) for f in sender.pending),
                                return_exceptions=True)
    gc.enable()
    refused = [a for a in acks if isinstance(a, BaseException) or (
        kind == "pavilion" and not (isinstance(a, dict) and a.get("ok")))]
    if refused:
        print(f"  {len(refused)} of {len(acks)} chat messages refused, e.g. {refused[0]!r}")
    cpu, elapsed = edge.cpu_s() - cpu0, time.monotonic() - t0
    clients = (_own_cpu() - own0) / elapsed
    deliveries = sum(v.deliveries for v in viewers)
    latencies = [ms for v in viewers for ms in v.latencies]
    ingress = [ms for v in viewers for ms in v.ingress]
    offered = sent * len(viewers)  # what was sent, so a sender that lagged is not loss
    return {
        "server": kind,
        "path": "cross-node" if cross else "same-node",
        "viewers": len(viewers),
        "rate": rate,
        "offered/s": offered / seconds,
        "delivered/s": deliveries / seconds,
        "complete": deliveries / offered,
        "cpu_us": cpu * 1e6 / max(1, deliveries),
        "cpu_s/s": cpu / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p90_ms": percentile(latencies, 0.9),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "ingress_p50_ms": percentile(ingress, 0.5),
        "ingress_p99_ms": percentile(ingress, 0.99),
        "clients_s/s": clients,
    }


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'server':9} {'path':10} {'viewers':>7} {'msg/s':>6} {'offered/s':>10} "
        f"{'delivered/s':>11} {'complete':>8} {'CPU µs/dlv':>10} {'CPU s/s':>7} "
        f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>8} {'max ms':>8} {'clients s/s':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['server']:9} {r['path']:10} {r['viewers']:>7} {r['rate']:>6.0f} "
            f"{r['offered/s']:>10.0f} {r['delivered/s']:>11.0f} {r['complete']:>8.3f} "
            f"{r['cpu_us']:>10.1f} {r['cpu_s/s']:>7.2f} {r['p50_ms']:>7.1f} {r['p90_ms']:>7.1f} "
            f"{r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} {r['clients_s/s']:>11.2f}"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    cpus = os.sched_getaffinity(0)
    if len(cpus) > 1:
        SERVER_CPUS.add(min(cpus))
        os.sched_setaffinity(0, cpus - SERVER_CPUS)
    redis_proc, redis_url = None, None
    workdir = tempfile.mkdtemp(prefix="chat-fanout-")
    if args.cross_node:
        redis_proc, redis_url = start_redis(workdir)
    rows = []
    try:
        for plain_rate in [float(r) for r in args.plain_rates.split(",") if r]:
            rows.append(
                await measure(
                    "plain",
                    args.plain_viewers or args.viewers,
                    plain_rate,
                    args.seconds,
                    args.cross_node,
                    redis_url,
                )
            )
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        # Joining a broadcast claims no media lease (rooms/service.py), so the viewers join on
        # the second node and the sender's chat reaches them through Redis.
        rows.append(
            await measure(
                "pavilion", args.viewers, args.rate, args.seconds, args.cross_node, redis_url
            )
        )
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(rows))
    for r in rows[-1:]:
        print(f"{r['server']} {r['path']}: send -> server stamp p50 {r['ingress_p50_ms']:.1f} ms,"
              f" p99 {r['ingress_p99_ms']:.1f} ms (the rest is batching and delivery)")
    plain = [r for r in rows if r["server"] == "plain"]
    if plain and rows[-1]["server"] == "pavilion":
        ours = rows[-1]
        print(
            f"\nserver CPU per delivery, plain / pavilion: "
            f"{min(r['cpu_us'] for r in plain) / ours['cpu_us']:.1f}x less with batching"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="chat messages per second")
    parser.add_argument(
        "--plain-rates",
        default="5,10",
        help="message rates for the plain server, comma-separated ('' skips)",
    )
    parser.add_argument(
        "--plain-viewers",
        type=int,
        default=0,
        help="viewers for the plain server (default: --viewers)",
    )
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--cross-node", action="store_true")
    parser.add_argument("--serve-plain", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_plain:
        serve_plain(options.serve_plain, options.redis)
    else:
        asyncio.run(main(options))
