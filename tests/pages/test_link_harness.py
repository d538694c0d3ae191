"""The shaped-link harness itself (tests/fixtures/netns.py), without a browser: links are apart,
reach the node's end and nothing else's, change rate, vanish at teardown; a crashed run's
leftovers are removed and a live run's are not; the rates separate the layers Chromium's fake
camera was measured sending (tests/pages/link_rates.py, docs/media.md "Shaped-link tests")."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from aiohttp import web

from tests.fixtures.netns import Links, clean_leftovers, tbf_args
from tests.fixtures.ports import free_port
from tests.pages.link_rates import DROPPED, MIDDLE, STRONG, WEAK, expected, need
from tests.pages.link_stats import Layer

FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read())"


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _interface(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


async def _hello(_: web.Request) -> web.Response:
    return web.Response(text="node")


def test_the_bucket_holds_a_full_frame_and_ten_ms_of_the_rate() -> None:
    assert tbf_args(4_000, None, 200) == ["rate", "4000kbit", "burst", "5000", "latency", "200ms"]
    assert tbf_args(150, None, 100)[3] == "1514"  # 10 ms of 150 kbit/s is less than a frame
    assert tbf_args(700, 3_000, 50)[3] == "3000"


async def _fetch_inside(namespace: str, url: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", namespace, sys.executable, "-c", FETCH, url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return out.decode()


async def test_links_are_apart_and_reach_the_node_through_their_forwarder(links: Links) -> None:
    first, second = links.new(), links.new()
    first.shape(4_000)
    assert first.namespace != second.namespace and first.host_if != second.host_if
    assert first.host_address != second.host_address
    port = free_port()
    app = web.Application()
    app.router.add_get("/", _hello)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, first.host_address, port).start()
    try:
        await first.forward(port)
        assert "node" in await _fetch_inside(first.namespace, f"http://127.0.0.1:{port}/")
        assert first.sent_bytes() > 0  # the answer crossed the host end's qdisc
        # nothing listens on 127.0.0.1 in the second namespace: it is not this machine's
        assert "node" not in await _fetch_inside(second.namespace, f"http://127.0.0.1:{port}/")
    finally:
        await runner.cleanup()


async def test_a_link_changes_rate_mid_test_and_vanishes_at_close(links: Links) -> None:
    link = links.new()
    link.shape(4_000)
    assert "rate 4Mbit" in link.qdisc()
    link.shape(500, uplink_kbit=500)
    assert "rate 500Kbit" in link.qdisc()
    link.unshape()
    assert "tbf" not in link.qdisc()
    await links.close()
    assert link.namespace not in _namespaces()
    assert not _interface(link.host_if) and not link.wrapper.exists()


def test_a_crashed_runs_namespaces_are_removed_and_a_live_runs_kept(links: Links) -> None:
    """A crashed run's namespace goes, with what still ran in it (a browser); ours stays."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    crashed, live = f"pv{dead.pid}n99990", f"pv{os.getpid()}n99991"
    for name in (crashed, live):
        subprocess.run(["ip", "netns", "add", name], check=True)
    orphan = subprocess.Popen(["ip", "netns", "exec", crashed, "sleep", "600"])
    try:
        removed = clean_leftovers()
        assert crashed in removed and live not in removed
        assert crashed not in _namespaces() and live in _namespaces()
        assert orphan.wait(10) == -signal.SIGKILL
    finally:
        if orphan.poll() is None:
            orphan.kill()
        for name in (crashed, live):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _sent(*layers: tuple[int, float]) -> list[Layer]:
    return [Layer(rid, width, width * 9 // 16, kbit_s, True)
            for rid, (width, kbit_s) in zip("qhf", layers, strict=True)]


AT_720 = _sent((320, 150), (640, 380), (1280, 730))  # measured, 1280×720 capture
AT_540 = _sent((240, 130), (480, 290), (960, 576))  # measured, 960×540 capture, f at its lowest


def test_the_issues_rates_give_each_viewer_one_clear_layer_at_720p() -> None:
    assert expected(AT_720, STRONG) is AT_720[2]
    assert expected(AT_720, MIDDLE) is AT_720[1]
    assert expected(AT_720, WEAK) is None  # q with audio needs ~215 kbit/s
    assert need(AT_720[2]) > DROPPED  # the dropped link cannot keep the top layer


def test_at_540p_700_kbit_s_would_not_separate_h_from_f() -> None:
    """Why the studio's 1280×720 capture matters to these tests: at 960×540 (the forum's) f
    with audio needs ~683 kbit/s at its lowest, too close to 700 to call."""
    with pytest.raises(pytest.fail.Exception, match="premise"):
        expected(AT_540, MIDDLE)


def test_a_rate_that_separates_no_layers_fails_the_premise_not_the_node() -> None:
    with pytest.raises(pytest.fail.Exception, match="premise"):
        expected(AT_720, 500)  # h needs ~470: neither clearly in nor out
