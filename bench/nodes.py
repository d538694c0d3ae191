"""Real processes for the benchmarks: a ``redis-server`` and Pavilion nodes, with their CPU time.

Shared by bench/chat_fanout.py and bench/cascade.py. A node is ``python -m web.cli serve`` (the
README's command), pinned to the CPUs it is given; its CPU time (all threads, user + system)
comes from ``/proc/<pid>/stat``, so a benchmark can charge each node exactly what it spent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_cpus(text: str) -> list[int]:
    """``"0,2-4"`` -> ``[0, 2, 3, 4]`` (the notation of ``taskset -c``)."""
    cpus: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def pin(pid: int, cpus: Iterable[int]) -> None:
    """Pin ``pid`` (0: this process) to ``cpus``, where the OS allows it."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(pid, set(cpus))


@dataclass
class Server:
    """A server process and the base URL it answers on."""

    url: str
    proc: subprocess.Popen[bytes]

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def wait_healthy(server: Server, what: str, timeout_s: float = 30) -> Server:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {server.proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(server.url + "/healthz", timeout=1):
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{what} did not answer /healthz within {timeout_s:.0f} s")


def start_node(env: Mapping[str, str], cpus: Iterable[int] = (), log: Path | None = None,
               root: Path = ROOT) -> Server:
    """A Pavilion node on a free port with ``env`` (``PAVILION_*``; the caller's are dropped),
    pinned to ``cpus`` if given; its output goes to ``log`` (else nowhere). ``root``: the
    checkout it runs from (another one compares an older version in the same run)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_")}
    environ.update(env)
    cmd = [sys.executable, "-m", "web.cli", "serve", "--port", str(port)]
    with (log.open("ab") if log else open(os.devnull, "wb")) as out:
        proc = subprocess.Popen(cmd, cwd=root, env=environ, stdout=out,
                                stderr=subprocess.STDOUT)
    cores = list(cpus)
    if cores:
        pin(proc.pid, cores)
    return wait_healthy(Server(f"http://127.0.0.1:{port}", proc), f"node {env}")


def start_redis(workdir: str, cpus: Iterable[int] = ()) -> tuple[subprocess.Popen[bytes], str]:
    """A throw-away ``redis-server`` on a free loopback port (no persistence) and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("this benchmark needs redis-server (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cores = list(cpus)
    if cores:
        pin(proc.pid, cores)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def flush_redis(url: str) -> None:
    """``FLUSHALL`` over a raw socket: a fresh start for the next configuration's nodes."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.create_connection((host, int(port)), 5) as sock:
        sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
        if not sock.recv(64).startswith(b"+OK"):
            raise RuntimeError("redis refused FLUSHALL")
