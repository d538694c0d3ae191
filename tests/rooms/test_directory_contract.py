"""The NodeDirectory contract on MemoryDirectory and RedisDirectory (issue 13): node id claims
and load reports, with the TTLs that let a dead node's id and report go by themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from rooms.cluster import MemoryDirectory, NodeDirectory, NodeReport, Usage
from rooms.cluster.redis_directory import RedisDirectory
from rooms.redis_store import connect
from tests.rooms.harness import BACKENDS, Harness

TTL_S = 0.6  # Redis time is real: short, and only ever waited out once per test


@pytest.fixture(params=BACKENDS)
async def directories(request: pytest.FixtureRequest) -> AsyncIterator[
        tuple[Harness, Callable[[], NodeDirectory]]]:
    """Two nodes' views of one directory: one MemoryDirectory, or two Redis clients."""
    clients: list[Redis] = []
    if request.param == "memory":
        from rooms.clock import FakeClock
        harness = Harness("memory", FakeClock())
        shared = MemoryDirectory(harness.clock)

        def make() -> NodeDirectory:
            return shared
    else:
        from rooms.clock import SystemClock
        harness = Harness("redis", SystemClock(), url=request.getfixturevalue("redis_url"))

        def make() -> NodeDirectory:
            client = connect(str(harness.url))
            clients.append(client)
            return RedisDirectory(client)
    yield harness, make
    for client in clients:
        await client.aclose()


def report(node_id: str, load: float = 0.1, *, draining: bool = False) -> NodeReport:
    return NodeReport(node_id, f"http://{node_id}:8080", load, Usage(cpu=load, sessions=3),
                      draining=draining, reported_at=1_800_000_000.5)


async def test_an_id_is_held_by_one_instance_until_released(directories) -> None:
    _, make = directories
    a, b = make(), make()
    first = await a.claim("node-x", "inst-a", "http://a", ttl_s=10)
    assert (first.instance, first.url) == ("inst-a", "http://a") and 9 < first.ttl_s <= 10
    taken = await b.claim("node-x", "inst-b", "http://b", ttl_s=10)
    assert (taken.instance, taken.url) == ("inst-a", "http://a")  # the holder, not us
    assert await b.renew("node-x", "inst-b", ttl_s=10) is False
    assert await b.release("node-x", "inst-b") is False  # someone else's is left alone
    assert await a.renew("node-x", "inst-a", ttl_s=10) is True
    assert (await a.claim("node-x", "inst-a", "http://a", ttl_s=10)).instance == "inst-a"
    assert await a.release("node-x", "inst-a") is True
    assert (await b.claim("node-x", "inst-b", "http://b", ttl_s=10)).instance == "inst-b"


async def test_an_id_whose_holder_stopped_renewing_is_free_after_its_ttl(directories) -> None:
    harness, make = directories
    a, b = make(), make()
    await a.claim("node-y", "inst-a", "http://a", ttl_s=TTL_S)
    await harness.pass_time(TTL_S + 0.2)
    assert await a.renew("node-y", "inst-a", ttl_s=TTL_S) is False
    assert (await b.claim("node-y", "inst-b", "http://b", ttl_s=10)).instance == "inst-b"


async def test_reports_are_listed_by_id_and_expire(directories) -> None:
    harness, make = directories
    a, b = make(), make()
    assert await a.reports() == []
    await b.put_report(report("node-b", 0.5), ttl_s=TTL_S)
    await a.put_report(report("node-a", 0.25, draining=True), ttl_s=60)
    assert await b.reports() == [report("node-a", 0.25, draining=True), report("node-b", 0.5)]
    await harness.pass_time(TTL_S + 0.2)  # node B stopped reporting: it drops out by itself
    assert await b.reports() == [report("node-a", 0.25, draining=True)]
    await a.put_report(report("node-a", 0.75), ttl_s=60)  # a new report replaces the last
    assert await b.reports() == [report("node-a", 0.75)]
    await a.drop_report("node-a")  # a clean stop
    assert await b.reports() == []
