"""The RTMP ingest's start-up (issue 16 §8): off at port 0, one clear line when the port is
taken (the node serves on without RTMP)."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from config import load
from tests.fixtures.ports import free_port
from web import workers
from web.rtmp_ingest import RTMP_KEY


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
    settings = load(env={}, overrides={"port": 8080, "secret": "s" * 32, "rtmp_port": 1935})
    planned = workers.plan(args, settings, {}, 3, explicit_id=False)
    ports = [load(env=w.env, overrides={"secret": "s" * 32}).rtmp_port for w in planned]
    assert ports == [1935, 0, 0]
