"""``RedisBookingStore``: the many-node BookingStore on ``redis.asyncio``.

Keys (prefix ``pv:mt:``; docs/meetings-api.md lists them): ``profiles``, ``slots`` and ``req``
hashes of JSON; ``hold:<slot>`` = the id of the request holding the slot; ``host:<id>:cal`` and
``buyer:<id>:cal`` calendars (see :mod:`rooms.trade.scripts`); ``exh:<id>:slots`` (zset by
start), ``exh:<id>:reqs``, ``buyer:<id>:reqs``, ``buyer:<id>:open`` and ``active`` sets;
``rec:<request>`` hashes (each side's join time and feedback); ``feed:<identity>`` capped lists;
``once:<key>`` ``SET NX`` markers; ``count:<key>`` fixed-window counters (``take``). Multi-key
writes are Lua scripts, so a concurrent request from another node sees all of a write or none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis

from rooms.redis_store import connect, unavailable_on_error
from rooms.trade import scripts as lua
from rooms.trade.availability import MAX_LENGTH, ExhibitorProfile, Slot
from rooms.trade.record import FEED_MAX, MeetingRecord, Notice, SideRecord
from rooms.trade.request import MeetingRequest, Side, ms, plan
from rooms.trade.store import BookingConflict

PREFIX = "pv:mt:"
MAXLEN_MS = int(MAX_LENGTH.total_seconds() * 1000)


class _Keys:
    profiles = PREFIX + "profiles"
    slots = PREFIX + "slots"
    requests = PREFIX + "req"
    active = PREFIX + "active"

    @staticmethod
    def of(kind: str, ident: str, part: str = "") -> str:
        return f"{PREFIX}{kind}:{ident}" + (f":{part}" if part else "")


class RedisBookingStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._add_slots = redis.register_script(lua.ADD_SLOTS)
        self._remove_slot = redis.register_script(lua.REMOVE_SLOT)
        self._create = redis.register_script(lua.CREATE_REQUEST)
        self._update = redis.register_script(lua.UPDATE_REQUEST)
        self._push = redis.register_script(lua.PUSH_NOTICE)
        self._take = redis.register_script(lua.TAKE)

    @classmethod
    def from_url(cls, url: str) -> RedisBookingStore:
        return cls(connect(url, max_connections=32))

    async def ping(self) -> None:
        with unavailable_on_error():
            await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()

    # -- exhibitors ------------------------------------------------------------------------------
    async def put_profile(self, profile: ExhibitorProfile) -> None:
        with unavailable_on_error():
            await self._redis.hset(_Keys.profiles, profile.id, _json(profile.to_dict()))

    async def get_profile(self, exhibitor: str) -> ExhibitorProfile | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.profiles, exhibitor)
        return None if raw is None else ExhibitorProfile.from_dict(json.loads(raw))

    async def list_profiles(self) -> list[ExhibitorProfile]:
        with unavailable_on_error():
            rows = await self._redis.hgetall(_Keys.profiles)
        return [ExhibitorProfile.from_dict(json.loads(rows[k])) for k in sorted(rows)]

    # -- slots -----------------------------------------------------------------------------------
    async def add_slots(self, slots: Sequence[Slot]) -> None:
        if not slots:
            return
        first = slots[0]
        if any(s.host != first.host or s.exhibitor != first.exhibitor for s in slots):
            raise ValueError("add_slots takes slots of one exhibitor and host")
        args: list[str | int] = [MAXLEN_MS]
        for slot in slots:
            args += [slot.id, _json(slot.to_dict()), ms(slot.starts_at), ms(slot.ends_at)]
        keys = [_Keys.slots, _Keys.of("host", first.host, "cal"),
                _Keys.of("exh", first.exhibitor, "slots")]
        with unavailable_on_error():
            outcome, *rest = await self._add_slots(keys=keys, args=args)
        _raise_unless_ok(outcome, rest)

    async def remove_slot(self, slot: Slot) -> bool:
        keys = [_Keys.slots, _Keys.of("host", slot.host, "cal"),
                _Keys.of("exh", slot.exhibitor, "slots"), _Keys.of("hold", slot.id)]
        with unavailable_on_error():
            outcome, *rest = await self._remove_slot(
                keys=keys, args=[slot.id, f"{ms(slot.ends_at)}:{slot.id}"])
        if outcome == "missing":
            return False
        _raise_unless_ok(outcome, rest)
        return True

    async def get_slot(self, slot_id: str) -> Slot | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.slots, slot_id)
        return None if raw is None else Slot.from_dict(json.loads(raw))

    async def list_slots(self, exhibitor: str) -> list[Slot]:
        with unavailable_on_error():
            ids = cast(list[str], await self._redis.zrange(_Keys.of("exh", exhibitor, "slots"),
                                                           0, -1))
            rows = await self._redis.hmget(_Keys.slots, ids) if ids else []
        slots = [Slot.from_dict(json.loads(r)) for r in rows if r is not None]
        return sorted(slots, key=lambda s: (s.starts_at, s.id))

    async def holders(self, slot_ids: Sequence[str]) -> dict[str, str]:
        if not slot_ids:
            return {}
        with unavailable_on_error():
            held = await self._redis.mget([_Keys.of("hold", s) for s in slot_ids])
        return {s: str(h) for s, h in zip(slot_ids, held, strict=True) if h is not None}

    # -- requests --------------------------------------------------------------------------------
    async def create_request(self, request: MeetingRequest, *, quota: int,
                             per_exhibitor: int = 0) -> None:
        keys = [_Keys.of("hold", request.slot_id), _Keys.requests,
                _Keys.of("buyer", request.buyer, "open"), _Keys.of("buyer", request.buyer, "cal"),
                _Keys.of("exh", request.exhibitor, "reqs"),
                _Keys.of("buyer", request.buyer, "reqs"), _Keys.active, _Keys.slots]
        args: list[str | int] = [request.id, _json(request.to_dict()), quota, ms(request.starts_at),
                ms(request.ends_at), request.slot_id, MAXLEN_MS, request.busy_member,
                request.exhibitor, per_exhibitor]
        with unavailable_on_error():
            outcome, *rest = await self._create(keys=keys, args=args)
        _raise_unless_ok(outcome, rest)

    async def update_request(self, old: MeetingRequest, new: MeetingRequest) -> None:
        steps = plan(old, new)
        keys = [_Keys.requests, _Keys.of("hold", steps.release or old.slot_id),
                _Keys.of("hold", steps.claim or new.slot_id),
                _Keys.of("buyer", new.buyer, "open"), _Keys.of("buyer", new.buyer, "cal"),
                _Keys.active, _Keys.slots]
        args: list[str | int] = [new.id, old.version, _json(new.to_dict()), _flag(steps.release),
                _flag(steps.claim), _flag(steps.awaiting), steps.busy_old or "",
                steps.busy_new or "", ms(new.starts_at), ms(new.ends_at), MAXLEN_MS,
                _flag(steps.active), steps.claim or ""]
        with unavailable_on_error():
            outcome, *rest = await self._update(keys=keys, args=args)
        _raise_unless_ok(outcome, rest)

    async def get_request(self, request_id: str) -> MeetingRequest | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.requests, request_id)
        return None if raw is None else MeetingRequest.from_dict(json.loads(raw))

    async def list_requests(
        self, *, exhibitor: str | None = None, buyer: str | None = None
    ) -> list[MeetingRequest]:
        index = (_Keys.of("exh", exhibitor, "reqs") if exhibitor is not None
                 else _Keys.of("buyer", str(buyer), "reqs"))
        found = await self._by_index(index)
        if exhibitor is not None and buyer is not None:
            found = [r for r in found if r.buyer == buyer]
        return found

    async def list_active(self) -> list[MeetingRequest]:
        return await self._by_index(_Keys.active)

    async def _by_index(self, index: str) -> list[MeetingRequest]:
        with unavailable_on_error():
            ids = sorted(await self._redis.smembers(index))
            rows = await self._redis.hmget(_Keys.requests, ids) if ids else []
        found = [MeetingRequest.from_dict(json.loads(r)) for r in rows if r is not None]
        return sorted(found, key=lambda r: (r.starts_at, r.id))

    # -- after the meeting -----------------------------------------------------------------------
    async def get_record(self, request_id: str) -> MeetingRecord:
        with unavailable_on_error():
            rows = cast(dict[str, str], await self._redis.hgetall(_Keys.of("rec", request_id)))
        return MeetingRecord(buyer=_side(rows, Side.BUYER), exhibitor=_side(rows, Side.EXHIBITOR))

    async def put_side(self, request_id: str, side: Side, record: SideRecord) -> None:
        data = {"rating": record.rating, "note": record.note}
        with unavailable_on_error():
            await self._redis.hset(_Keys.of("rec", request_id), side.value, _json(data))

    async def mark_joined(self, request_id: str, side: Side, at: float) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.hsetnx(_Keys.of("rec", request_id),
                                                 f"joined:{side.value}", repr(at)))

    # -- coordination and notices ----------------------------------------------------------------
    async def once(self, key: str, *, ttl_s: float) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.set(_Keys.of("once", key), "1", nx=True,
                                              px=max(1, int(ttl_s * 1000))))

    async def take(self, key: str, *, limit: int, window_s: float) -> float:
        window_ms = max(1, int(window_s * 1000))
        with unavailable_on_error():
            left = await self._take(keys=[_Keys.of("count", key)], args=[limit, window_ms])
        return int(left) / 1000

    async def push_notice(self, notice: Notice) -> None:
        with unavailable_on_error():
            await self._push(keys=[_Keys.of("feed", notice.identity)],
                             args=[_json(notice.to_dict()), FEED_MAX])

    async def notices(self, identity: str, *, limit: int = 50) -> list[Notice]:
        with unavailable_on_error():
            rows = await self._redis.lrange(_Keys.of("feed", identity), 0, max(0, limit - 1))
        return [Notice.from_dict(identity, json.loads(r)) for r in rows]


def _side(rows: dict[str, str], side: Side) -> SideRecord:
    data = json.loads(rows.get(side.value) or "{}")
    joined = rows.get(f"joined:{side.value}")
    return SideRecord.from_dict({**data, "joined_at": None if joined is None else float(joined)})


def _raise_unless_ok(outcome: str, rest: list[str]) -> None:
    if outcome != "ok":
        raise BookingConflict(outcome, rest[0] if rest else "")


def _flag(value: object) -> str:
    return "1" if value else "0"


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
