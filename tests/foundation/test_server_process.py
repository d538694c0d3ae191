"""``pavilion serve`` as a real process: banner, demo token, Redis down at start, SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Callable

from rooms.token import Grant, verify
from tests.fixtures.pavilion import PavilionProcess
from tests.fixtures.ports import free_udp_port


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_with_unreachable_redis_starts_and_is_not_ready(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    node = pavilion_process(env={"PAVILION_REDIS_URL": "redis://127.0.0.1:1"})
    assert fetch(node.url + "/healthz")[0] == 200
    status, body = fetch(node.url + "/readyz")
    assert status == 503
    assert json.loads(body)["ready"] is False and json.loads(body)["reason"]
    assert node.stop(signal.SIGTERM) == 0


def test_sigterm_shuts_down_gracefully_with_status_0(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    node = pavilion_process()
    assert fetch(node.url + "/?lang=zh")[0] == 200
    assert node.stop(signal.SIGTERM) == 0
    output = node.output()
    assert "Traceback" not in output


def test_demo_banner_prints_urls_and_a_working_host_token(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    node = pavilion_process(env={"PAVILION_SECRET": "banner-secret-0123456789-0123456789"})
    assert node.stop(signal.SIGINT) == 0
    output = node.output()
    assert f"Pavilion is serving on {node.url}/" in output
    assert f"{node.url}/?lang=mn" in output
    token = output.split("is ready:\n", 1)[1].split()[0]
    access = verify(
        "banner-secret-0123456789-0123456789", token, room="any-room", require=Grant.PUBLISH
    )
    assert access.identity == "demo-host"


def test_a_taken_udp_port_is_one_line_and_status_2(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    """Issue 19: ``[media] udp_port`` already bound by someone else: no traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        port = holder.getsockname()[1]
        node = pavilion_process(env={"PAVILION_MEDIA__UDP_PORT": str(port)}, wait=False)
        assert node.proc.wait(30) == 2
        output = node.output()
    line = output.strip().splitlines()[-1]
    assert line.startswith(f"pavilion: media.udp_port: cannot bind UDP port {port} on ")
    assert line.endswith(" (Address already in use)")
    assert "Traceback" not in output


def test_a_taken_tcp_port_is_one_line_and_status_2(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    """ICE-TCP's ``[media] tcp_port`` already listened on by someone else: no traceback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        node = pavilion_process(env={"PAVILION_MEDIA__UDP_PORT": str(free_udp_port()),
                                     "PAVILION_MEDIA__TCP_PORT": str(port)}, wait=False)
        assert node.proc.wait(30) == 2
        output = node.output()
    line = output.strip().splitlines()[-1]
    assert line.startswith(f"pavilion: media.tcp_port: cannot bind TCP port {port} on ")
    assert line.endswith(" (Address already in use)")
    assert "Traceback" not in output

