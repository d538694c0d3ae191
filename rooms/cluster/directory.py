"""The ``NodeDirectory`` port: which nodes are alive, what each reports, who holds which id.

Two implementations pass one contract suite (tests/rooms/test_directory_contract.py):
:class:`~rooms.cluster.memory_directory.MemoryDirectory` (one node) and
:class:`~rooms.cluster.redis_directory.RedisDirectory` (many nodes, keys in docs/state.md).
Every method may raise :class:`~rooms.errors.StoreUnavailable` when Redis is down.

A node id is *claimed* (``SET NX PX``) by one running process, named by a random ``instance``
token it draws at start: two processes configured with one id would otherwise drop each
other's bus messages as their own echo (issue 13). Reports live ``ttl_s`` after the last one,
so a node that dies drops out of placement and of ``GET /api/admin/nodes`` by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rooms.cluster.health import RoomDetail, RoomHealth
from rooms.cluster.report import NodeReport


@dataclass(frozen=True, slots=True)
class NodeClaim:
    """Who holds a node id now: the process's ``instance`` token, its URL, and for how long."""

    node_id: str
    instance: str
    url: str
    ttl_s: float


class NodeDirectory(Protocol):
    async def claim(self, node_id: str, instance: str, url: str, *, ttl_s: float) -> NodeClaim:
        """Take the id if free (or already ours: then extend it); return whoever holds it."""
        ...

    async def renew(self, node_id: str, instance: str, *, ttl_s: float) -> bool:
        """Extend our claim; False if we no longer hold it."""
        ...

    async def release(self, node_id: str, instance: str) -> bool:
        """Give our claim up (a clean stop); someone else's is left alone."""
        ...

    async def put_report(self, report: NodeReport, *, ttl_s: float) -> None:
        """Record the node's report; it vanishes ``ttl_s`` after the last put."""
        ...

    async def drop_report(self, node_id: str) -> None:
        """Forget the node's report now (it stopped cleanly)."""
        ...

    async def reports(self) -> list[NodeReport]:
        """Every live report, by node id."""
        ...

    async def put_health(self, node_id: str, details: list[RoomDetail], *,
                         ttl_s: float) -> None:
        """Record the health of the rooms ``node_id`` serves (issue 18 §2): its summaries as
        one value, each room's detail apart; all vanish ``ttl_s`` after the last put, and a
        room the node no longer lists loses its detail at once."""
        ...

    async def health(self) -> list[RoomHealth]:
        """Every live node's room summaries, by room id."""
        ...

    async def room_detail(self, room_id: str) -> RoomDetail | None:
        """The room's detail: every live node's that serves it (a cascaded room's origin and
        edges each keep their own, never overwriting one another), merged on read (None:
        no node reports the room)."""
        ...
