"""``pavilion serve --workers N`` (issue 13): N nodes on one machine sharing one Redis."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.fixtures.pavilion import TEST_SECRET

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _ports_in_a_row(count: int) -> int:
    """A base port with ``count`` free ports from it (tried a moment ago)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65_535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free ports in a row")


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=2) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


def _serve(*args: str, redis_url: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAVILION_")}
    env.update({"PAVILION_SECRET": TEST_SECRET, "PYTHONUNBUFFERED": "1"})
    if redis_url:
        env["PAVILION_REDIS_URL"] = redis_url
    return subprocess.Popen([sys.executable, "-m", "web.cli", "serve", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_workers_answer_and_stop_cleanly_on_sigterm(redis_url: str) -> None:
    base = _ports_in_a_row(2)
    started = time.monotonic()
    parent = _serve("--port", str(base), "--workers", "2", redis_url=redis_url)
    try:
        deadline, up = time.monotonic() + 60, set()
        while up != {base, base + 1} and time.monotonic() < deadline:
            assert parent.poll() is None, parent.stdout.read() if parent.stdout else ""
            for port in {base, base + 1} - up:
                try:
                    assert _get(f"http://127.0.0.1:{port}/healthz") == {"ok": True}
                    up.add(port)
                except OSError:
                    time.sleep(0.1)
        assert up == {base, base + 1}
        print(f"both workers answer /healthz {time.monotonic() - started:.2f} s after start")
        nodes = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{base}/api/admin/nodes",
            headers={"Authorization": f"Bearer {TEST_SECRET}"}), timeout=5).read())
        host = socket.gethostname()
        deadline = time.monotonic() + 10
        while len(nodes) < 2 and time.monotonic() < deadline:  # the second's first report
            time.sleep(0.2)
            nodes = json.loads(urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{base}/api/admin/nodes",
                headers={"Authorization": f"Bearer {TEST_SECRET}"}), timeout=5).read())
        assert {(n["id"], n["url"]) for n in nodes} == {
            (f"{host}-{p}", f"http://127.0.0.1:{p}") for p in (base, base + 1)}
        stopping = time.monotonic()
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(30) == 0
        print(f"parent exited 0 {time.monotonic() - stopping:.2f} s after SIGTERM")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
    output = parent.stdout.read() if parent.stdout else ""
    assert "Traceback" not in output and "exited with status" not in output
    for port in (base, base + 1):  # both workers are gone, not orphaned
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/healthz")
    if parent.stdout:
        parent.stdout.close()


def test_several_workers_need_redis() -> None:
    parent = _serve("--workers", "2", redis_url=None)
    assert parent.wait(30) == 2
    output = parent.stdout.read() if parent.stdout else ""
    assert output.strip().splitlines()[-1] == (
        "pavilion: configuration error: --workers 2: needs redis_url (PAVILION_REDIS_URL or "
        "--redis-url): the nodes share rooms through Redis")
    if parent.stdout:
        parent.stdout.close()
