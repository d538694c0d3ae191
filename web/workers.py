"""``pavilion serve --workers N``: N nodes on one machine, one per core, sharing one Redis.

A node is one Python process on one core (DESIGN.md §2), so a many-core machine runs several.
The parent starts each worker as ``pavilion serve`` on port ``port + i`` with its own node id
(the configured ``node_id`` + ``-i``, else the default ``<host>-<port>``, unique by
construction) and its own ``public_url`` (``{port}`` and ``{worker}`` in the configured one are
filled in; without either it would name one node for all, refused). The parent hands its
secret to every worker (in demo mode without one it is drawn once, by the parent), so a token
minted by one node works on every node. Only the first worker listens for RTMP and RTMPS
(``rtmp_port``, ``rtmps_port``; the others get 0): one port cannot be bound twice, and an
RTMP publish enters its room's media node like any publisher (issue 16 §8). With one UDP port
per node (``[media] udp_port``, issue 19) worker ``i`` takes ``udp_port + i``: the kernel would
spread one shared port's datagrams over the processes by address hash, not by ICE agent.

Signals: the parent forwards SIGTERM and SIGINT to every worker (each drains: web/server.py)
and exits when all have, with status 0 if all exited 0. Workers run in their own session, so a
terminal's Ctrl-C reaches them once, through the parent; each is asked to die with it
(``PR_SET_PDEATHSIG``) should the parent be killed. A worker that exits on its own (a crash, or
a drain through the admin API) is reported on stderr and restarted after
:data:`RESTART_DELAY_S`; status 2 (a configuration error or a node id clash: restarting cannot
help) stops every worker and the parent exits 2; more than :data:`MAX_RESTARTS` restarts of one
worker within :data:`RESTART_WINDOW_S` stop every worker and the parent exits 1.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TextIO

from config import ConfigError, Settings

EXIT_CONFIG = 2
POLL_S = 0.2
RESTART_DELAY_S = 1.0
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
PR_SET_PDEATHSIG = 1


@dataclass
class Worker:
    index: int
    port: int
    node_id: str
    env: dict[str, str]
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "web.cli", *self.argv], env=self.env,
                                     start_new_session=True, preexec_fn=_die_with_parent)

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)


def check(settings: Settings, workers: int) -> None:
    """Refuse what cannot work with ``workers`` nodes (a :class:`ConfigError`: exit 2)."""
    if workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if workers == 1:
        return
    if settings.redis_url is None:
        raise ConfigError(f"--workers {workers}: needs redis_url (PAVILION_REDIS_URL or "
                          "--redis-url): the nodes share rooms through Redis")
    if settings.port == 0 or settings.port + workers - 1 > 65_535:
        raise ConfigError(f"--workers {workers}: ports {settings.port}.. do not fit; set --port")
    udp = settings.media.udp_port
    if udp and udp + workers - 1 > 65_535:
        raise ConfigError(f"--workers {workers}: UDP ports {udp}.. do not fit; set "
                          "media.udp_port lower")
    tcp = settings.media.tcp_port
    if tcp and tcp + workers - 1 > 65_535:
        raise ConfigError(f"--workers {workers}: TCP ports {tcp}.. do not fit; set "
                          "media.tcp_port lower")
    url = settings.public_url
    if url is not None and "{port}" not in url and "{worker}" not in url:
        raise ConfigError(f"public_url: with --workers {workers} it must contain {{port}} or "
                          f"{{worker}}, one URL per node (got {url!r})")


def plan(args: argparse.Namespace, settings: Settings, env: Mapping[str, str],
         workers: int, explicit_id: bool) -> list[Worker]:
    """The workers to start: ports, ids, URLs, and the environment each inherits."""
    base = dict(env)
    base["PAVILION_SECRET"] = settings.secret_value()  # demo mode invents one: one for all
    made = []
    for i in range(workers):
        port = settings.port + i
        node_id = f"{settings.node_id}-{i}" if explicit_id else ""
        child = {**base, "PAVILION_PORT": str(port)}
        child.pop("PAVILION_NODE_ID", None)
        if i > 0:  # one RTMP listener per machine: the first worker's (docs/hls.md §8)
            child["PAVILION_RTMP_PORT"] = "0"
            child["PAVILION_RTMPS_PORT"] = "0"
        if settings.media.udp_port:  # one UDP port per node: the next one for each worker
            child["PAVILION_MEDIA__UDP_PORT"] = str(settings.media.udp_port + i)
        if settings.media.tcp_port:  # and one ICE-TCP port, likewise
            child["PAVILION_MEDIA__TCP_PORT"] = str(settings.media.tcp_port + i)
        if node_id:
            child["PAVILION_NODE_ID"] = node_id
        if settings.public_url is not None:
            child["PAVILION_PUBLIC_URL"] = settings.public_url.format(port=port, worker=i)
        made.append(Worker(i, port, node_id or f"<host>-{port}", child, _argv(args, port)))
    return made


def _argv(args: argparse.Namespace, port: int) -> list[str]:
    argv = ["serve", "--port", str(port)]
    for flag, value in (("--host", args.host), ("--config", args.config),
                        ("--redis-url", args.redis_url)):
        if value:
            argv += [flag, value]
    if args.demo is not None:
        argv.append("--demo" if args.demo else "--no-demo")
    if args.demo_public:
        argv.append("--demo-public")
    return argv


def supervise(workers: list[Worker], err: TextIO = sys.stderr) -> int:
    """Run the workers until a signal stops them (see the module's rules); the exit status."""
    stopping: list[int] = []

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        stopping.append(sig)
        for worker in workers:
            worker.signal(sig)  # a second signal reaches them too: they stop at once

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for worker in workers:
            worker.start()
        return _watch(workers, stopping, err)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch(workers: list[Worker], stopping: list[int], err: TextIO) -> int:
    failed = 0
    while True:
        time.sleep(POLL_S)
        codes = [w.proc.poll() if w.proc is not None else 0 for w in workers]
        if stopping and all(code is not None for code in codes):
            return failed or (0 if all(code == 0 for code in codes) else 1)
        if stopping:
            continue
        for worker, code in zip(workers, codes, strict=True):
            if code is None:
                continue
            print(f"pavilion: worker {worker.index} (node {worker.node_id}, port {worker.port}) "
                  f"exited with status {code}", file=err, flush=True)
            failed = _restart(worker, code, err)
            if failed:
                _stop_all(workers, stopping)
                break


def _restart(worker: Worker, code: int, err: TextIO) -> int:
    """Restart ``worker``; a status to exit with instead when restarting cannot help."""
    if code == EXIT_CONFIG:
        print("pavilion: stopping every worker (a configuration error: restarting cannot help)",
              file=err, flush=True)
        return EXIT_CONFIG
    now = time.monotonic()
    worker.restarts.append(now)
    while worker.restarts and worker.restarts[0] < now - RESTART_WINDOW_S:
        worker.restarts.popleft()
    if len(worker.restarts) > MAX_RESTARTS:
        print(f"pavilion: worker {worker.index} restarted {MAX_RESTARTS} times within "
              f"{RESTART_WINDOW_S:.0f} s; stopping every worker", file=err, flush=True)
        return 1
    time.sleep(RESTART_DELAY_S)
    print(f"pavilion: restarting worker {worker.index}", file=err, flush=True)
    worker.start()
    return 0


def _stop_all(workers: list[Worker], stopping: list[int]) -> None:
    stopping.append(signal.SIGTERM)
    for worker in workers:
        worker.signal(signal.SIGTERM)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM (a drain) when the parent dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
