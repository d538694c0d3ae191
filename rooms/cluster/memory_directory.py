"""``MemoryDirectory``: the one-node NodeDirectory (expiry judged by the injected clock)."""

from __future__ import annotations

from rooms.clock import Clock, SystemClock
from rooms.cluster.directory import NodeClaim
from rooms.cluster.health import RoomDetail, RoomHealth, merge_details
from rooms.cluster.report import NodeReport


class MemoryDirectory:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._claims: dict[str, tuple[str, str, float]] = {}  # id -> instance, url, expires
        self._reports: dict[str, tuple[NodeReport, float]] = {}  # id -> report, expires
        self._health: dict[str, tuple[list[RoomDetail], float]] = {}  # node -> rooms, expires

    async def claim(self, node_id: str, instance: str, url: str, *, ttl_s: float) -> NodeClaim:
        now = self._clock.now()
        held = self._claims.get(node_id)
        if held is None or held[2] <= now or held[0] == instance:
            held = (instance, url, now + ttl_s)
            self._claims[node_id] = held
        return NodeClaim(node_id, held[0], held[1], held[2] - now)

    async def renew(self, node_id: str, instance: str, *, ttl_s: float) -> bool:
        now = self._clock.now()
        held = self._claims.get(node_id)
        if held is None or held[2] <= now or held[0] != instance:
            return False
        self._claims[node_id] = (instance, held[1], now + ttl_s)
        return True

    async def release(self, node_id: str, instance: str) -> bool:
        held = self._claims.get(node_id)
        if held is None or held[0] != instance or held[2] <= self._clock.now():
            return False
        del self._claims[node_id]
        return True

    async def put_report(self, report: NodeReport, *, ttl_s: float) -> None:
        self._reports[report.node_id] = (report, self._clock.now() + ttl_s)

    async def drop_report(self, node_id: str) -> None:
        self._reports.pop(node_id, None)

    async def reports(self) -> list[NodeReport]:
        now = self._clock.now()
        for node_id in [n for n, (_, expires) in self._reports.items() if expires <= now]:
            del self._reports[node_id]
        return [self._reports[n][0] for n in sorted(self._reports)]

    async def put_health(self, node_id: str, details: list[RoomDetail], *,
                         ttl_s: float) -> None:
        self._health[node_id] = (list(details), self._clock.now() + ttl_s)

    def _live_health(self) -> list[RoomDetail]:
        now = self._clock.now()
        for node_id in [n for n, (_, expires) in self._health.items() if expires <= now]:
            del self._health[node_id]
        return [d for n in sorted(self._health) for d in self._health[n][0]]

    async def health(self) -> list[RoomHealth]:
        return sorted((d.health for d in self._live_health()), key=lambda h: (h.room, h.node))

    async def room_detail(self, room_id: str) -> RoomDetail | None:
        return merge_details([d for d in self._live_health() if d.health.room == room_id])
