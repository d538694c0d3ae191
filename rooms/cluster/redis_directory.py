"""``RedisDirectory``: the many-node NodeDirectory (keys under ``pv:node:``, docs/state.md).

``pv:node:<id>:claim`` holds ``"<instance> <url>"`` with a TTL, taken ``SET NX PX`` by the
lease scripts (one round trip, atomic); ``pv:node:<id>:report`` holds the JSON report with a
TTL, and the set ``pv:nodes`` indexes the ids that reported, so listing never scans the
keyspace: a member whose report expired is dropped from the set by the next reader.
"""

from __future__ import annotations

from redis.asyncio import Redis

from rooms import redis_scripts as lua
from rooms.cluster.directory import NodeClaim
from rooms.cluster.health import (
    RoomDetail,
    RoomHealth,
    merge_details,
    summaries_from_json,
    summaries_json,
)
from rooms.cluster.report import NodeReport
from rooms.redis_store import PREFIX, unavailable_on_error

NODES = f"{PREFIX}nodes"
HEALTHY = f"{PREFIX}health:nodes"  # nodes that wrote room health (issue 18 §2)


def _detail_key(room_id: str, node_id: str) -> str:
    """One key per room *and node*: a cascaded room's edges never overwrite its origin's."""
    return f"{PREFIX}health:room:{room_id}:{node_id}"


def _key(node_id: str, part: str) -> str:
    return f"{PREFIX}node:{node_id}:{part}"


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisDirectory:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(lua.CLAIM_LEASE)
        self._renew = redis.register_script(lua.RENEW_LEASE)
        self._release = redis.register_script(lua.RELEASE_LEASE)

    async def claim(self, node_id: str, instance: str, url: str, *, ttl_s: float) -> NodeClaim:
        with unavailable_on_error():
            value, pttl = await self._claim(keys=[_key(node_id, "claim")],
                                            args=[f"{instance} {url}", _ms(ttl_s)])
        holder, _, held_url = str(value).partition(" ")
        return NodeClaim(node_id, holder, held_url, max(int(pttl), 0) / 1000)

    async def renew(self, node_id: str, instance: str, *, ttl_s: float) -> bool:
        value = await self._value(node_id)
        if value is None or value.partition(" ")[0] != instance:
            return False
        with unavailable_on_error():
            return bool(await self._renew(keys=[_key(node_id, "claim")],
                                          args=[value, _ms(ttl_s)]))

    async def release(self, node_id: str, instance: str) -> bool:
        value = await self._value(node_id)
        if value is None or value.partition(" ")[0] != instance:
            return False
        with unavailable_on_error():
            return bool(await self._release(keys=[_key(node_id, "claim")], args=[value]))

    async def _value(self, node_id: str) -> str | None:
        with unavailable_on_error():
            value = await self._redis.get(_key(node_id, "claim"))
        return None if value is None else str(value)

    async def put_report(self, report: NodeReport, *, ttl_s: float) -> None:
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(_key(report.node_id, "report"), report.to_json(), px=_ms(ttl_s))
                pipe.sadd(NODES, report.node_id)
                await pipe.execute()

    async def drop_report(self, node_id: str) -> None:
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(_key(node_id, "report"))
                pipe.srem(NODES, node_id)
                await pipe.execute()

    async def reports(self) -> list[NodeReport]:
        with unavailable_on_error():
            ids = sorted(str(i) for i in await self._redis.smembers(NODES))
            if not ids:
                return []
            values = await self._redis.mget([_key(i, "report") for i in ids])
            gone = [i for i, v in zip(ids, values, strict=True) if v is None]
            if gone:
                await self._redis.srem(NODES, *gone)
        return [NodeReport.from_json(str(v)) for v in values if v is not None]

    async def put_health(self, node_id: str, details: list[RoomDetail], *,
                         ttl_s: float) -> None:
        rooms = [d.health for d in details]
        with unavailable_on_error():
            old = await self._redis.get(_key(node_id, "health"))
            gone = {r.room for r in summaries_from_json(str(old))} if old else set()
            gone -= {r.room for r in rooms}
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(_key(node_id, "health"), summaries_json(rooms), px=_ms(ttl_s))
                pipe.sadd(HEALTHY, node_id)
                for detail in details:
                    pipe.set(_detail_key(detail.health.room, node_id), detail.to_json(),
                             px=_ms(ttl_s))
                for room_id in gone:
                    pipe.delete(_detail_key(room_id, node_id))
                await pipe.execute()

    async def _healthy(self) -> list[str]:
        with unavailable_on_error():
            return sorted(str(i) for i in await self._redis.smembers(HEALTHY))

    async def health(self) -> list[RoomHealth]:
        ids = await self._healthy()
        if not ids:
            return []
        with unavailable_on_error():
            values = await self._redis.mget([_key(i, "health") for i in ids])
            gone = [i for i, v in zip(ids, values, strict=True) if v is None]
            if gone:
                await self._redis.srem(HEALTHY, *gone)
        rooms = [r for v in values if v is not None for r in summaries_from_json(str(v))]
        return sorted(rooms, key=lambda r: (r.room, r.node))

    async def room_detail(self, room_id: str) -> RoomDetail | None:
        """Every node's detail of the room (origin and edges), merged on read."""
        ids = await self._healthy()
        if not ids:
            return None
        with unavailable_on_error():
            values = await self._redis.mget([_detail_key(room_id, i) for i in ids])
        return merge_details([RoomDetail.from_json(str(v)) for v in values if v is not None])
