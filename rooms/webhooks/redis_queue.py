"""``RedisWebhookQueue``: webhook events in Redis Streams, one stream per target (issue 18 §1).

Keys (docs/state.md): ``pv:webhooks:<target>:stream`` (``XADD``; consumer group
``nodes``), ``…:owner`` (the holder's lease, ``SET NX PX``), ``…:delivered`` (a counter),
``…:dead`` (a sorted set of its dead-letter ids by time) and ``pv:webhooks:dead`` (a hash
of every dead letter). A holder reads new entries with ``XREADGROUP``; the first read after
taking a target over claims every pending entry (``XAUTOCLAIM``, from a dead or restarted
node, its own included) before the new ones. A settled entry is ``XACK``ed and ``XDEL``eted, so
a stream holds only what is still owed.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from rooms.redis_store import unavailable_on_error
from rooms.webhooks.event import WebhookEvent
from rooms.webhooks.queue import DeadLetter, QueueStats, Taken

PREFIX = "pv:webhooks:"
GROUP = "nodes"
DEAD = PREFIX + "dead"
DEAD_ORDER = PREFIX + "dead:order"  # every dead letter id by time: lists read no more than asked
_LEASE = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _stream(target: str) -> str:
    return f"{PREFIX}{target}:stream"


class RedisWebhookQueue:
    def __init__(self, redis: Redis, *, lease_s: float = 15.0, dead_max: int = 10_000) -> None:
        self._redis = redis
        self.lease_ms = max(1, int(lease_s * 1000))
        self.dead_max = dead_max
        self._lease = redis.register_script(_LEASE)
        self._release = redis.register_script(_RELEASE)
        self._groups: set[str] = set()  # targets whose group this client made sure of
        self._holding: set[str] = set()  # targets this client holds (claims done)

    async def _group(self, target: str) -> None:
        if target in self._groups:
            return
        try:
            await self._redis.xgroup_create(_stream(target), GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(target)

    async def push(self, target: str, event: WebhookEvent) -> None:
        with unavailable_on_error():
            await self._group(target)
            await self._redis.xadd(_stream(target), event.to_fields())  # type: ignore[arg-type]

    async def take(self, target: str, consumer: str, count: int) -> list[Taken]:
        with unavailable_on_error():
            if not await self._lease(keys=[f"{PREFIX}{target}:owner"],
                                     args=[consumer, self.lease_ms]):
                self._holding.discard(target)
                return []
            try:
                return await self._read(target, consumer, count)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._groups.discard(target)  # Redis lost its data: made again next time
                self._holding.discard(target)
                return []

    async def _read(self, target: str, consumer: str, count: int) -> list[Taken]:
        await self._group(target)
        out: list[Taken] = []
        if target not in self._holding:
            out = await self._claim(target, consumer)
            self._holding.add(target)
        if count > 0:
            reply = await self._redis.xreadgroup(GROUP, consumer, {_stream(target): ">"},
                                                 count=count)
            streams: Any = reply or ()
            for _, entries in streams:
                out.extend(_taken(target, entries))
        return out

    async def _claim(self, target: str, consumer: str) -> list[Taken]:
        """Every pending entry of the target's group, whoever took it, now ``consumer``'s."""
        out: list[Taken] = []
        cursor = "0-0"
        while True:
            reply: Any = await self._redis.xautoclaim(_stream(target), GROUP, consumer,
                                                      min_idle_time=0, start_id=cursor,
                                                      count=500)
            cursor, entries = reply[0], reply[1]
            out.extend(_taken(target, [e for e in entries if e and e[1]]))
            if cursor in ("0-0", b"0-0"):
                return out

    async def ack(self, taken: Taken) -> None:
        stream = _stream(taken.target)
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xack(stream, GROUP, taken.entry)
                pipe.xdel(stream, taken.entry)
                pipe.incr(f"{PREFIX}{taken.target}:delivered")
                await pipe.execute()

    async def bury(self, taken: Taken, *, reason: str, attempts: int, now: float) -> None:
        letter = DeadLetter(f"{taken.event.id}.{taken.target}", taken.target, taken.event,
                            reason, attempts, now)
        stream, index = _stream(taken.target), f"{PREFIX}{taken.target}:dead"
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(DEAD, letter.id, letter.to_json())
                pipe.zadd(index, {letter.id: now})
                pipe.zadd(DEAD_ORDER, {letter.id: now})
                pipe.xack(stream, GROUP, taken.entry)
                pipe.xdel(stream, taken.entry)
                await pipe.execute()
            await self._trim(index)

    async def _trim(self, index: str) -> None:
        excess = await self._redis.zcard(index) - self.dead_max
        if excess > 0:
            popped: Any = await self._redis.zpopmin(index, excess)
            oldest = [member for member, _ in popped]
            await self._redis.hdel(DEAD, *oldest)
            await self._redis.zrem(DEAD_ORDER, *oldest)

    async def release(self, target: str, consumer: str) -> None:
        self._holding.discard(target)
        with unavailable_on_error():
            await self._release(keys=[f"{PREFIX}{target}:owner"], args=[consumer])

    async def dead(self, limit: int = 1_000) -> list[DeadLetter]:
        with unavailable_on_error():
            ids: list[Any] = await self._redis.zrange(DEAD_ORDER, 0, max(0, limit - 1))
            values: list[Any] = await self._redis.hmget(DEAD, ids) if ids else []
        return [DeadLetter.from_json(v) for v in values if v is not None]

    async def dead_ids(self) -> list[str]:
        with unavailable_on_error():
            ids: list[Any] = await self._redis.zrange(DEAD_ORDER, 0, -1)
        return [str(i) for i in ids]

    async def revive(self, dead_id: str) -> bool:
        with unavailable_on_error():
            text: Any = await self._redis.hget(DEAD, dead_id)
            if text is None:
                return False
            letter = DeadLetter.from_json(text)
            await self._group(letter.target)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(_stream(letter.target), letter.event.to_fields())  # type: ignore[arg-type]
                pipe.hdel(DEAD, dead_id)
                pipe.zrem(f"{PREFIX}{letter.target}:dead", dead_id)
                pipe.zrem(DEAD_ORDER, dead_id)
                await pipe.execute()
        return True

    async def drop(self, dead_id: str) -> bool:
        with unavailable_on_error():
            text: Any = await self._redis.hget(DEAD, dead_id)
            if text is None:
                return False
            target = DeadLetter.from_json(text).target
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(DEAD, dead_id)
                pipe.zrem(f"{PREFIX}{target}:dead", dead_id)
                pipe.zrem(DEAD_ORDER, dead_id)
                await pipe.execute()
        return True

    async def stats(self, target: str) -> QueueStats:
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xlen(_stream(target))
                pipe.get(f"{PREFIX}{target}:delivered")
                pipe.zcard(f"{PREFIX}{target}:dead")
                pending, delivered, failed = await pipe.execute()
        return QueueStats(int(pending), int(delivered or 0), int(failed))

    async def aclose(self) -> None:
        return None  # the client is the Store's: it closes it


def _taken(target: str, entries: Any) -> list[Taken]:
    return [Taken(target, entry_id, WebhookEvent.from_fields(fields))
            for entry_id, fields in entries]
