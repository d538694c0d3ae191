"""The RTMP ingest's start-up (issue 16 §8): off at port 0, one clear line when the port is
taken (the node serves on without RTMP)."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import ConfigError, load
from tests.fixtures.ports import free_port
from web import workers
from web.rtmp_ingest import RTMP_KEY, RTMPS_KEY


async def test_port_zero_turns_rtmp_off(pavilion_app: Callable[..., Awaitable[Any]]) -> None:
    node = await pavilion_app(rtmp_port=0)
    assert RTMP_KEY not in node.app


async def test_a_taken_port_is_one_error_line_and_the_node_serves_on(
        pavilion_app: Callable[..., Awaitable[Any]], caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="pavilion"):
            node = await pavilion_app(rtmp_port=port)
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert lines == [f"RTMP ingest off: cannot listen on 127.0.0.1:{port} (Address already "
                         "in use); set rtmp_port (0 turns it off)"]
        assert RTMP_KEY not in node.app
        async with aiohttp.ClientSession() as http, http.get(node.url + "/healthz") as answer:
            assert answer.status == 200


def test_only_the_first_worker_listens_for_rtmp() -> None:
    """``serve --workers N``: one RTMP listener per machine, not N-1 bind errors."""
    args = argparse.Namespace(host=None, config=None, redis_url=None, demo=None,
                              demo_public=False)
    tls = {"rtmps_port": 1936, "rtmps_cert": "c.pem", "rtmps_key": "k.pem"}
    settings = load(env={}, overrides={"port": 8080, "secret": "s" * 32, "rtmp_port": 1935,
                                       **tls})
    planned = workers.plan(args, settings, {}, 3, explicit_id=False)
    loaded = [load(env=w.env, overrides={"secret": "s" * 32, **{k: v for k, v in tls.items()
                                                               if k != "rtmps_port"}})
              for w in planned]
    assert [s.rtmp_port for s in loaded] == [1935, 0, 0]
    assert [s.rtmps_port for s in loaded][1:] == [0, 0], "RTMPS: the first worker's alone"


async def test_an_unreadable_certificate_is_one_error_line_and_rtmp_serves_on(
        pavilion_app: Callable[..., Awaitable[Any]], caplog: pytest.LogCaptureFixture,
        tmp_path: Path) -> None:
    """RTMPS (issue 16 §8) with a certificate that cannot be loaded: off, one line; plain RTMP
    and HTTP go on."""
    (tmp_path / "cert.pem").write_text("not a certificate")
    with caplog.at_level(logging.ERROR, logger="pavilion"):
        node = await pavilion_app(rtmp_port=free_port(), rtmps_port=free_port(),
                                  rtmps_cert=str(tmp_path / "cert.pem"),
                                  rtmps_key=str(tmp_path / "key.pem"))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and lines[0].startswith(
        "RTMPS ingest off: cannot load rtmps_cert/rtmps_key"), lines
    assert RTMPS_KEY not in node.app and RTMP_KEY in node.app


def test_each_worker_gets_its_own_udp_port() -> None:
    """Issue 19: one UDP port per node, so worker i takes ``udp_port + i``."""
    args = argparse.Namespace(host=None, config=None, redis_url=None, demo=None,
                              demo_public=False)
    settings = load(env={}, overrides={"port": 8080, "secret": "s" * 32,
                                       "media": {"udp_port": 7882}})
    planned = workers.plan(args, settings, {}, 3, explicit_id=False)
    assert [load(env=w.env, overrides={"secret": "s" * 32}).media.udp_port
            for w in planned] == [7882, 7883, 7884]
    late = load(env={}, overrides={"port": 8080, "secret": "s" * 32, "redis_url": "redis://x",
                                   "media": {"udp_port": 65_535}})
    with pytest.raises(ConfigError, match=r"UDP ports 65535\.\. do not fit"):
        workers.check(late, 2)


def test_each_worker_gets_its_own_ice_tcp_port() -> None:
    """ICE-TCP likewise: worker i takes ``tcp_port + i`` beside ``udp_port + i``."""
    args = argparse.Namespace(host=None, config=None, redis_url=None, demo=None,
                              demo_public=False)
    settings = load(env={}, overrides={"port": 8080, "secret": "s" * 32,
                                       "media": {"udp_port": 7882, "tcp_port": 7882}})
    planned = workers.plan(args, settings, {}, 3, explicit_id=False)
    media = [load(env=w.env, overrides={"secret": "s" * 32}).media for w in planned]
    assert [(m.udp_port, m.tcp_port) for m in media] == [(7882, 7882), (7883, 7883),
                                                         (7884, 7884)]
    late = load(env={}, overrides={"port": 8080, "secret": "s" * 32, "redis_url": "redis://x",
                                   "media": {"udp_port": 7882, "tcp_port": 65_535}})
    with pytest.raises(ConfigError, match=r"TCP ports 65535\.\. do not fit"):
        workers.check(late, 2)
