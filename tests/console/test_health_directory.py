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
