"""What bench/soak.py samples on each node: its ``/metrics`` gauges and two latencies.

Per node and sample: resident memory, open file descriptors, asyncio tasks, peer connections,
Socket.IO sessions, objects garbage collections freed (``pavilion_gc_collected_objects``,
web/live_metrics.py), CPU seconds (``/proc``), and the round-trip times of a cheap HTTP call
(``GET /healthz``) and of a Socket.IO ack (``chat.history`` of a probe room: one Redis read).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from bench.nodes import Server

NS = "/rtc"
HTTP_PROBES = 5  # GET /healthz per sample
GAUGES = {
    "process_resident_memory_bytes": "rss",
    "process_open_fds": "fds",
    "pavilion_asyncio_tasks": "tasks",
    "pavilion_media_peers": "peers",
    "pavilion_rtc_sessions": "sessions",
}


@dataclass(frozen=True)
class Sample:
    """One node at one moment (``t``: seconds since the run began)."""

    t: float
    rss: float
    fds: float
    tasks: float
    peers: float
    sessions: float
    gc_collected: float  # total since the node started
    redis_conns: int  # TCP connections to Redis (redis-py's pool: bounded, kept once made)
    cpu_s: float
    http_ms: tuple[float, ...]
    ack_ms: tuple[float, ...]


def parse_metrics(text: str) -> dict[str, float]:
    """The gauges soak watches, and ``gc_collected`` summed over generations."""
    found = dict.fromkeys((*GAUGES.values(), "gc_collected"), 0.0)
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, _, value = line.rpartition(" ")
        family = name.split("{", 1)[0]
        if family in GAUGES:
            found[GAUGES[family]] = float(value)
        elif family == "pavilion_gc_collected_objects_total":
            found["gc_collected"] += float(value)
    return found


class NodeProbe:
    """Samples one node; holds one Socket.IO client joined to the probe room."""

    def __init__(self, server: Server, http: aiohttp.ClientSession, token: str,
                 room: str, redis_port: int) -> None:
        self.server, self.http, self.token, self.room = server, http, token, room
        self.redis_port = redis_port
        self.sio = socketio.AsyncClient(reconnection=True)

    async def open(self) -> None:
        await self.sio.connect(self.server.url, namespaces=[NS], transports=["websocket"],
                               auth={"token": self.token}, wait_timeout=10)
        reply = await self.sio.call("join", {"room": self.room}, namespace=NS, timeout=20)
        if not reply.get("ok"):
            raise RuntimeError(f"probe join: {reply}")

    async def close(self) -> None:
        await self.sio.disconnect()

    async def sample(self, t: float) -> Sample:
        async with self.http.get(f"{self.server.url}/metrics") as response:
            gauges = parse_metrics(await response.text())
        return Sample(t=t, cpu_s=self.server.cpu_s(), http_ms=await self._http_times(),
                      ack_ms=(await self._ack_time(),),
                      redis_conns=redis_connections(self.server.proc.pid, self.redis_port),
                      **gauges)

    async def _http_times(self) -> tuple[float, ...]:
        times = []
        for _ in range(HTTP_PROBES):
            started = time.perf_counter()
            async with self.http.get(f"{self.server.url}/healthz") as response:
                await response.read()
            times.append((time.perf_counter() - started) * 1000)
        return tuple(times)

    async def _ack_time(self) -> float:
        started = time.perf_counter()
        reply: Any = await self.sio.call("chat.history", {"room": self.room, "limit": 1},
                                         namespace=NS, timeout=20)
        if not reply.get("ok"):
            raise RuntimeError(f"probe chat.history: {reply}")
        return (time.perf_counter() - started) * 1000


async def sample_all(probes: list[NodeProbe], t: float) -> list[Sample]:
    return list(await asyncio.gather(*(p.sample(t) for p in probes)))


def redis_connections(pid: int, port: int) -> int:
    """The process's open sockets that are TCP connections to ``port`` on this machine
    (``/proc/<pid>/fd`` against ``/proc/<pid>/net/tcp``): redis-py opens pool connections as
    concurrency needs them and keeps them (at most 64, rooms/redis_store.py), which is no leak."""
    remote = f":{port:04X}"
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[2].endswith(remote) and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
    count = 0
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] in inodes:
                    count += 1
    return count
