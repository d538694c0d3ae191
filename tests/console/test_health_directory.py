"""Issue 18 §2: rooms' health in the NodeDirectory, on MemoryDirectory and on RedisDirectory
(a real redis-server): what one node writes, another reads; it expires with the reports' TTL,
and a room the node stopped serving loses its detail at once."""

from __future__ import annotations

from rooms.cluster.health import LinkHealth, RoomDetail, RoomHealth
from tests.rooms.test_directory_contract import TTL_S, directories

__all__ = ["directories"]


def detail(room: str, node: str, viewers: int = 1) -> RoomDetail:
    health = RoomHealth(room, node, publishers=1, viewers=viewers, bitrate_bps=700_000,
                        quiet_s=0.0, reported_at=1_800_000_000.0)
    return RoomDetail(health, (LinkHealth("fan", "peer-1", "view", 500_000, 0.01, False, 2,
                                          {"host/video": "h"}),))


async def test_every_node_reads_every_rooms_health_until_it_expires(directories) -> None:
    harness, make = directories
    a, b = make(), make()
    assert await a.health() == [] and await a.room_detail("r1") is None
    await b.put_health("node-b", [detail("r2", "node-b"), detail("r1", "node-b", 4)],
                       ttl_s=TTL_S)
    await a.put_health("node-a", [detail("r3", "node-a")], ttl_s=60)
    assert [(h.room, h.node, h.viewers) for h in await a.health()] == [
        ("r1", "node-b", 4), ("r2", "node-b", 1), ("r3", "node-a", 1)]
    assert await a.room_detail("r1") == detail("r1", "node-b", 4)
    await harness.pass_time(TTL_S + 0.2)  # node B stopped reporting: its rooms drop out
    assert [h.room for h in await b.health()] == ["r3"]
    assert await b.room_detail("r1") is None


async def test_a_room_no_longer_served_loses_its_detail(directories) -> None:
    _, make = directories
    a = make()
    await a.put_health("node-a", [detail("r1", "node-a"), detail("r2", "node-a")], ttl_s=60)
    await a.put_health("node-a", [detail("r2", "node-a", 7)], ttl_s=60)
    assert [(h.room, h.viewers) for h in await a.health()] == [("r2", 7)]
    assert await a.room_detail("r1") is None
    assert (await a.room_detail("r2")) == detail("r2", "node-a", 7)


def link(identity: str, peer: str, direction: str, loss: float = 0.0) -> LinkHealth:
    return LinkHealth(identity, peer, direction, 400_000, loss, loss > 0.1, 0, {})


async def test_an_edge_never_overwrites_the_origins_detail(directories) -> None:
    """Issue 18 §2 follow-up: a cascaded room is reported by its origin (the publisher) and by
    each edge (more viewers); the detail keeps every node's links and the origin's summary,
    whichever node wrote last, and an edge that stops serving the room leaves the origin's."""
    _, make = directories
    origin, edge = make(), make()
    ours = RoomDetail(RoomHealth("r1", "node-a", publishers=1, viewers=1, bitrate_bps=900_000),
                      (link("fan-a", "v-a", "view"), link("host", "p-1", "publish")))
    theirs = RoomDetail(RoomHealth("r1", "node-b", publishers=0, viewers=2),
                        (link("fan-b", "v-b", "view", 0.2), link("fan-c", "v-c", "view")))
    await origin.put_health("node-a", [ours], ttl_s=60)
    await edge.put_health("node-b", [theirs], ttl_s=60)  # the edge writes last
    for reader in (origin, edge):
        merged = await reader.room_detail("r1")
        assert merged is not None
        assert (merged.health.node, merged.health.publishers, merged.health.viewers,
                merged.health.bitrate_bps) == ("node-a", 1, 3, 900_000)
        assert [x.peer for x in merged.links] == ["v-b", "v-a", "v-c", "p-1"]  # worst first
    await edge.put_health("node-b", [], ttl_s=60)
    assert await origin.room_detail("r1") == ours
