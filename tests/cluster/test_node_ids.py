"""Node ids (issue 13): a second node started with a live node's id is refused (one line, exit
2); a node's load report is listed by every node and drops out when the node dies."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.cluster.helpers import FAST, ids, wait_nodes
from tests.fixtures.pavilion import node_env

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_a_live_nodes_id_is_refused_and_a_dead_nodes_report_expires(
        redis_url: str, pavilion_process: Any, pavilion_app: Any) -> None:
    env = {**node_env(redis_url, "hall-a"), "PAVILION_CLUSTER__REPORT_INTERVAL_S": "0.3"}
    first = pavilion_process(env=env)
    started = time.monotonic()
    twin = pavilion_process(env=env, wait=False)
    assert twin.proc.wait(30) == 2
    print(f"second node with the id refused after {time.monotonic() - started:.2f} s")
    output = twin.output()
    refusal = [line for line in output.splitlines() if "hall-a" in line]
    assert refusal == [
        f"pavilion: node id 'hall-a' is held by another live node ({first.url}); give each "
        "node its own node_id (PAVILION_NODE_ID), or leave it unset for <host name>-<port>"]
    assert "Traceback" not in output

    other = await pavilion_app(redis_url=redis_url, node_id="hall-b", cluster=FAST)
    listed = await wait_nodes(other.url, lambda found: ids(found) == ["hall-a", "hall-b"])
    assert listed[0]["url"] == first.url and listed[0]["draining"] is False
    assert set(listed[0]) >= {"id", "url", "load", "rooms", "viewers", "draining"}
    first.proc.kill()  # no clean stop: only the report's TTL can remove it
    first.proc.wait(10)
    killed = time.monotonic()
    await wait_nodes(other.url, lambda found: ids(found) == ["hall-b"], within=10)
    print(f"dead node dropped out of the node list after {time.monotonic() - killed:.2f} s")
