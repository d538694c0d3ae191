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
from rooms.cluster.sweeper import Sweeper, Swept, gone
from rooms.errors import WrongNode
from rooms.memory_bus import MemoryBroker, MemoryBus
from rooms.memory_store import MemoryStore
from rooms.participant import Participant, Role
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.store import LeaseHolder
from rooms.text import LocalizedText

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


@pytest.mark.parametrize(("seen", "live", "dead"), [
    (set(), {"node-a", "node-b"}, set()),  # the first look sees nobody go
    ({"node-a", "node-b"}, {"node-a", "node-b"}, set()),
    ({"node-a", "node-b"}, {"node-b"}, {"node-a"}),
    ({"node-a", "node-b"}, {"node-a"}, set()),  # this node's own report lapsing: not dead
    ({"node-a"}, {"node-a", "node-c"}, set()),  # a newcomer is not a loss
])
def test_gone(seen: set[str], live: set[str], dead: set[str]) -> None:
    assert gone(seen, live, "node-b") == dead


async def test_one_live_node_sweeps_a_dead_nodes_members_and_tracks() -> None:
    clock, broker = FakeClock(), MemoryBroker()
    store, directory = MemoryStore(clock=clock), MemoryDirectory(clock)
    b, node_b = _node("node-b", store, directory, broker, clock)
    c, node_c = _node("node-c", store, directory, broker, clock)
    await store.put_room(Room(id=ROOM, kind=RoomKind.FORUM, pavilion=Pavilion.NORTHEAST_ASIA,
                              title=LocalizedText({"en": "Hall"})))
    for identity, node_id in [("ann", "node-a"), ("bo", "node-b"), ("cy", "node-a")]:
        await store.put_participant(Participant(identity, ROOM, identity, Role.VIEWER,
                                                node_id=node_id), ttl_s=30)
    track = {"room_id": ROOM, "participant": "ann", "source": "s1", "kind": "video",
             "codec": "vp8"}
    await store.put_tracks(ROOM, "node-a", [track])
    told: list[Swept] = []

    async def tell(swept: Swept) -> None:
        told.append(swept)

    sweepers = [Sweeper(node_b, b, tell), Sweeper(node_c, c, tell)]
    for sweeper in sweepers:
        sweeper.seen = {"node-a", "node-b", "node-c"}  # node-a reported, then was killed
    await node_b.report(Usage())
    await node_c.report(Usage())
    for sweeper in sweepers:
        await sweeper.tick()
    assert len(told) == 1  # members hear each event once
    assert [(e.room_id, e.identity) for e in told[0].left] == [(ROOM, "ann"), (ROOM, "cy")]
    assert told[0].tracks == [track]
    assert [p.identity for p in await store.list_participants(ROOM)] == ["bo"]
    assert (await store.get_tracks(ROOM) or ("", []))[1] == []  # "[]" clears


async def test_after_a_store_outage_the_first_look_sweeps_nobody() -> None:
    """Reports lapse for every node while Redis is away: the live ones are not lost."""
    clock, broker = FakeClock(), MemoryBroker()
    store, directory = MemoryStore(clock=clock), MemoryDirectory(clock)
    b, node_b = _node("node-b", store, directory, broker, clock)
    told: list[Swept] = []

    async def tell(swept: Swept) -> None:
        told.append(swept)

    sweeper = Sweeper(node_b, b, tell)
    sweeper.seen = {"node-a", "node-b"}
    sweeper.forget()  # what the loop does on StoreUnavailable
    await node_b.report(Usage())
    assert await sweeper.tick() == [] and told == []
    assert sweeper.seen == {"node-b"}


async def test_a_session_joining_again_takes_its_presence_back_from_another_node() -> None:
    """A page on B moved to A, A died, the page came back to B and its old session there
    resumed: joining again must make the record name B again, or the sweep of A removes a
    person who is here (the node-loss browser test's 'not_in_room' after the move)."""
    from rooms.token import AccessToken, Grant

    clock, broker = FakeClock(), MemoryBroker()
    store, directory = MemoryStore(clock=clock), MemoryDirectory(clock)
    a, _ = _node("node-a", store, directory, broker, clock)
    b, _ = _node("node-b", store, directory, broker, clock)
    await store.put_room(Room(id=ROOM, kind=RoomKind.BROADCAST,
                              pavilion=Pavilion.NORTHEAST_ASIA, title=LocalizedText({"en": "L"}),
                              state=RoomState.LIVE))
    me = AccessToken(identity="viewer", room=ROOM, grants=frozenset({Grant.JOIN}),
                     expires_at=2**31 - 1)
    await b.join(me, ROOM)
    assert await b.rejoin(me, ROOM) is None  # named B already: nothing written
    await a.join(me, ROOM)  # the page moved to A
    assert await b.rejoin(me, ROOM) is None  # back on B: present all along, so no Joined
    record = await store.get_participant(ROOM, "viewer")
    assert record is not None and record.node_id == "node-b"
    assert not await store.remove_participant(ROOM, "viewer", only_on="node-a")  # A's sweep
    await store.remove_participant(ROOM, "viewer")  # swept before the page came back
    again = await b.rejoin(me, ROOM)
    assert again is not None and again.participant.node_id == "node-b"  # others hear them
