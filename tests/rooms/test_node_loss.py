"""A room whose node died (issue 13, node loss): its lease is taken back as soon as the node's
load report expires, not when the lease's own TTL runs out, and no client is sent to it.

Two services share one memory Store and one node directory under a fake clock; each node's
``ClusterNode`` is its placer, as in a running node (rooms/factory.py).
"""

from __future__ import annotations

import pytest

from config import ClusterSettings
from rooms.clock import FakeClock
from rooms.cluster import ClusterNode, MemoryDirectory, Usage
from rooms.errors import WrongNode
from rooms.memory_bus import MemoryBroker, MemoryBus
from rooms.memory_store import MemoryStore
from rooms.service import RoomService
from rooms.store import LeaseHolder

RULES = ClusterSettings(placement="first", report_interval_s=2.0, lease_ttl_s=8.0)
ROOM = "hall-1"


def _node(node_id: str, store: MemoryStore, directory: MemoryDirectory, broker: MemoryBroker,
          clock: FakeClock) -> tuple[RoomService, ClusterNode]:
    url = f"http://{node_id}:8080"
    cluster = ClusterNode(directory, node_id=node_id, url=url, rules=RULES,
                          claim_ttl_s=RULES.lease_ttl_s)
    service = RoomService(store, MemoryBus(node_id, broker), node=LeaseHolder(node_id, url),
                          clock=clock, lease_ttl_s=RULES.lease_ttl_s, placer=cluster)
    return service, cluster


@pytest.mark.parametrize(("silent_s", "moved"), [
    (0.0, False),  # both report: B sends the client to A
    (5.9, False),  # A's last report still lives (3 intervals = 6 s)
    (6.0, True),  # A's report expired: its lease is dead although it has 2 s left
])
async def test_a_lease_is_dead_once_its_holders_report_expires(silent_s: float,
                                                               moved: bool) -> None:
    clock, broker = FakeClock(), MemoryBroker()
    store, directory = MemoryStore(clock=clock), MemoryDirectory(clock)
    a, node_a = _node("node-a", store, directory, broker, clock)
    b, node_b = _node("node-b", store, directory, broker, clock)
    await node_a.report(Usage())
    await a.claim(ROOM)
    clock.advance(silent_s)  # A was killed: it reports and renews no more
    await node_b.report(Usage())
    if not moved:
        with pytest.raises(WrongNode) as refused:
            await b.claim(ROOM)
        assert refused.value.node_id == "node-a"
        return
    await b.claim(ROOM)
    lease = await store.get_lease(ROOM)
    assert lease is not None and lease.holder == b.node
    assert ROOM in b.leases


async def test_alive_names_this_node_and_reporting_ones_only() -> None:
    clock = FakeClock()
    directory = MemoryDirectory(clock)
    here = ClusterNode(directory, node_id="node-a", url="http://a", rules=RULES)
    other = ClusterNode(directory, node_id="node-b", url="http://b", rules=RULES)
    await other.report(Usage())
    assert [await here.alive(n) for n in ("node-a", "node-b", "node-c")] == [True, True, False]
    clock.advance(other.report_ttl_s)
    assert await here.alive("node-b") is False
    assert await here.alive("node-a") is True  # before its first report too
