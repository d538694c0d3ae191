"""``RedisStore``: the many-node Store on ``redis.asyncio`` (keys described in docs/state.md).

Rooms and presence are hashes (presence expiry in a sorted set judged by the server's clock),
leases are ``SET NX PX`` strings, chat is a Redis Stream capped with ``XADD MAXLEN ~``, Q&A votes
are sorted sets. The client connects lazily and retries with exponential backoff, so a node
starts while Redis is down and recovers when it returns; until then every call raises
:class:`~rooms.errors.StoreUnavailable` and writes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rooms import redis_scripts as lua
from rooms.chat_journal import is_journal_id
from rooms.clock import Clock, SystemClock
from rooms.consent import ASK_FIELD, Consent, ask_value, asked_by
from rooms.content import ChatMessage, ProductCard, Question, stream_id_key
from rooms.errors import NoSuchRoom, StoreUnavailable
from rooms.memory_store import (
    DEFAULT_CHAT_CAP,
    question_order,
    questions_full,
    recording_order,
    room_order,
)
from rooms.participant import Participant
from rooms.pavilion import Pavilion
from rooms.quote import QuoteRequest
from rooms.recording import TIMELINE_CAP, Recording, TimelineEntry
from rooms.room import Room, RoomState
from rooms.store import Lease, LeaseHolder, Track

PREFIX = "pv:"
PARSE_INLINE = 200  # records parsed on the loop; more go to a thread (a lobby lists them all)
SENTINEL_SCHEME = "redis+sentinel://"
QUOTE_RETRIES = 3  # a request changed by someone else between read and swap is read again
HEARTBEAT_BATCH = 1_000  # identities per script call: short scripts keep Redis responsive
# How long a journaled message's marker (journal id -> stream position) lives: far longer than
# any outage a journal outlasts, so a retried flush never writes twice; a moderator can delete
# the message by its journal id while it lives (one small key per journaled message only).
JOURNAL_MARK_TTL_S = 86_400.0


def connect(url: str, *, max_connections: int = 64) -> Redis:
    """A lazily connecting client: bounded pool, backoff retries, short connect timeout.

    ``redis+sentinel://[user:password@]host:port,host:port/db/service`` (python-socketio's
    format, so one ``redis_url`` serves both) asks those Sentinels for the service's master, and
    again after each connection failure, so a promoted replica is followed."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3)
    options: dict[str, Any] = {
        "decode_responses": True, "retry": retry,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_connect_timeout": 2, "socket_timeout": 5, "health_check_interval": 15,
    }
    if url.startswith(SENTINEL_SCHEME):
        sentinels, service, auth = sentinel_url(url)
        sentinel = Sentinel(  # type: ignore[no-untyped-call, unused-ignore]
            sentinels, sentinel_kwargs={"socket_connect_timeout": 1, "socket_timeout": 1})
        master: Redis = sentinel.master_for(service, max_connections=max_connections,
                                            **options, **auth)
        return master
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=5,
                                           **options)
    return Redis.from_pool(pool)


def sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """``(sentinels, service, {db, username, password})`` of a ``redis+sentinel://`` URL."""
    parsed = urlsplit(url)
    sentinels: list[tuple[str, int]] = []
    for host_port in parsed.netloc.rpartition("@")[2].split(","):
        host, _, port = host_port.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bad sentinel address {host_port!r} in redis_url")
        sentinels.append((host, int(port)))
    parts = [p for p in parsed.path.split("/") if p]
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError("a sentinel redis_url ends with /<db>/<service>, e.g. /0/mymaster")
    auth: dict[str, Any] = {"db": int(parts[0])}
    if parsed.username:
        auth["username"] = parsed.username
    if parsed.password:
        auth["password"] = parsed.password
    return sentinels, parts[1], auth


async def close(redis: Redis) -> None:
    """Close a client from :func:`connect`, and the Sentinel connections it asked."""
    pool = redis.connection_pool
    await redis.aclose()
    if isinstance(pool, SentinelConnectionPool):
        for sentinel in pool.sentinel_manager.sentinels:
            await sentinel.aclose()


@contextmanager
def unavailable_on_error() -> Iterator[None]:
    """Turn redis-py's connection failures into the domain's ``StoreUnavailable``."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
    except RedisError as exc:
        raise StoreUnavailable(f"redis error: {exc}") from exc


class _Keys:
    """Key names, in one place (docs/state.md lists them)."""

    rooms = f"{PREFIX}rooms"

    @staticmethod
    def room(room_id: str, part: str) -> str:
        return f"{PREFIX}room:{room_id}:{part}"

    @staticmethod
    def ban(room_id: str, identity: str) -> str:
        return f"{PREFIX}ban:{room_id}:{identity}"

    @staticmethod
    def mark(room_id: str, message_id: str) -> str:
        return f"{PREFIX}room:{room_id}:chatmark:{message_id}"

    @staticmethod
    def lease(room_id: str) -> str:
        return f"{PREFIX}lease:{room_id}"

    @staticmethod
    def tracks(room_id: str) -> str:
        return f"{PREFIX}tracks:{room_id}"

    @staticmethod
    def channels(room_id: str) -> str:
        return f"{PREFIX}channels:{room_id}"

    recordings = f"{PREFIX}recordings"

    @staticmethod
    def timeline(rec_id: str) -> str:
        return f"{PREFIX}recording:{rec_id}:timeline"


class RedisStore:
    """The Store for many nodes sharing one Redis."""

    def __init__(
        self, redis: Redis, *, clock: Clock | None = None, chat_cap: int = DEFAULT_CHAT_CAP
    ) -> None:
        self._redis = redis
        self._clock = clock or SystemClock()
        self._chat_cap = chat_cap
        self._put_participant = redis.register_script(lua.PUT_PARTICIPANT)
        self._swap_quote = redis.register_script(lua.SWAP_LIST_VALUE)
        self._put_picture = redis.register_script(lua.PUT_PICTURE)
        self._heartbeat = redis.register_script(lua.HEARTBEAT)
        self._heartbeat_many = redis.register_script(lua.HEARTBEAT_MANY)
        self._live = redis.register_script(lua.LIVE_PARTICIPANTS)
        self._get_participant = redis.register_script(lua.GET_PARTICIPANT)
        self._count = redis.register_script(lua.COUNT_PRESENT)
        self._remove = redis.register_script(lua.REMOVE_PARTICIPANT)
        self._claim = redis.register_script(lua.CLAIM_LEASE)
        self._renew = redis.register_script(lua.RENEW_LEASE)
        self._release = redis.register_script(lua.RELEASE_LEASE)
        self._drop_tracks = redis.register_script(lua.DROP_TRACKS)
        self._pin = redis.register_script(lua.PIN_PRODUCT)
        self._vote = redis.register_script(lua.VOTE_QUESTION)
        self._ask = redis.register_script(lua.ADD_QUESTION)
        self._append_journaled = redis.register_script(lua.APPEND_JOURNALED)
        self._answer_consent = redis.register_script(lua.ANSWER_CONSENT)

    @classmethod
    def from_url(cls, url: str, *, clock: Clock | None = None,
                 chat_cap: int = DEFAULT_CHAT_CAP) -> RedisStore:
        return cls(connect(url), clock=clock, chat_cap=chat_cap)

    async def ping(self) -> None:
        with unavailable_on_error():
            await self._redis.ping()

    async def aclose(self) -> None:
        await close(self._redis)

    # -- rooms -----------------------------------------------------------------------------------
    async def create_room(self, room: Room) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.hsetnx(_Keys.rooms, room.id, _json(room.to_dict())))

    async def put_room(self, room: Room) -> None:
        with unavailable_on_error():
            await self._redis.hset(_Keys.rooms, room.id, _json(room.to_dict()))

    async def get_room(self, room_id: str) -> Room | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.rooms, room_id)
        return None if raw is None else Room.from_dict(json.loads(raw))

    async def list_rooms(
        self, *, pavilion: Pavilion | None = None, state: RoomState | None = None
    ) -> list[Room]:
        with unavailable_on_error():
            raw = _str_map(await self._redis.hgetall(_Keys.rooms))
        rooms = [Room.from_dict(json.loads(v)) for v in raw.values()]
        rooms = [r for r in rooms if (pavilion is None or r.pavilion == pavilion)
                 and (state is None or r.state == state)]
        return sorted(rooms, key=room_order)

    # -- presence --------------------------------------------------------------------------------
    def _presence_keys(self, room_id: str) -> list[str]:
        return [_Keys.room(room_id, part) for part in ("people", "seen", "counted")]

    async def put_participant(self, participant: Participant, *, ttl_s: float) -> None:
        counted = int(not participant.hidden and not participant.waiting)
        args: list[str | int] = [participant.identity, _json(participant.to_dict()), _ms(ttl_s),
                                 counted]
        with unavailable_on_error():
            await self._put_participant(keys=self._presence_keys(participant.room_id), args=args)

    async def heartbeat(self, room_id: str, identity: str, *, ttl_s: float) -> bool:
        with unavailable_on_error():
            ok = await self._heartbeat(keys=self._presence_keys(room_id),
                                       args=[identity, _ms(ttl_s)])
        return bool(ok)

    async def heartbeat_many(self, room_id: str, identities: Sequence[str], *,
                             ttl_s: float) -> list[str]:
        gone: list[str] = []
        for start in range(0, len(identities), HEARTBEAT_BATCH):
            batch = list(identities[start:start + HEARTBEAT_BATCH])
            with unavailable_on_error():
                gone += await self._heartbeat_many(keys=self._presence_keys(room_id),
                                                   args=[_ms(ttl_s), *batch])
        return [str(g) for g in gone]

    async def remove_participant(self, room_id: str, identity: str, *,
                                 only_on: str | None = None) -> bool:
        args = [identity] if only_on is None else [identity, only_on]
        with unavailable_on_error():
            return bool(await self._remove(keys=self._presence_keys(room_id), args=args))

    async def get_participant(self, room_id: str, identity: str) -> Participant | None:
        with unavailable_on_error():
            raw = await self._get_participant(keys=self._presence_keys(room_id), args=[identity])
        return None if raw is None else Participant.from_dict(json.loads(raw))

    async def list_participants(self, room_id: str) -> list[Participant]:
        with unavailable_on_error():
            raw: Sequence[str | None] = await self._live(keys=self._presence_keys(room_id))
        people = [Participant.from_dict(json.loads(r)) for r in raw if r is not None]
        return sorted(people, key=lambda p: (p.joined_at, p.identity))

    async def count_present(self, room_id: str) -> int:
        with unavailable_on_error():
            return int(await self._count(keys=self._presence_keys(room_id)))

    # -- bans --------------------------------------------------------------------------------------
    async def ban(self, room_id: str, identity: str, *, until: float) -> None:
        with unavailable_on_error():
            await self._redis.set(_Keys.ban(room_id, identity), "1", pxat=int(until * 1000))

    async def is_banned(self, room_id: str, identity: str) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.exists(_Keys.ban(room_id, identity)))

    # -- leases ------------------------------------------------------------------------------------
    async def claim_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> Lease:
        with unavailable_on_error():
            value, pttl = await self._claim(keys=[_Keys.lease(room_id)],
                                            args=[_holder(holder), _ms(ttl_s)])
        return Lease(room_id, _unholder(value), self._clock.now() + max(int(pttl), 0) / 1000)

    async def renew_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> bool:
        with unavailable_on_error():
            return bool(await self._renew(keys=[_Keys.lease(room_id)],
                                          args=[_holder(holder), _ms(ttl_s)]))

    async def release_lease(self, room_id: str, holder: LeaseHolder) -> bool:
        with unavailable_on_error():
            return bool(await self._release(keys=[_Keys.lease(room_id)], args=[_holder(holder)]))

    async def get_lease(self, room_id: str) -> Lease | None:
        key = _Keys.lease(room_id)
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.pttl(key)
                value, pttl = await pipe.execute()
        if value is None or pttl < 0:
            return None
        return Lease(room_id, _unholder(value), self._clock.now() + pttl / 1000)

    async def put_tracks(self, room_id: str, node_id: str, tracks: Sequence[Track]) -> None:
        key = _Keys.tracks(room_id)
        with unavailable_on_error():
            if tracks:
                await self._redis.set(key, _json({"node": node_id, "tracks": list(tracks)}))
            else:
                await self._redis.delete(key)

    async def drop_tracks(self, room_id: str, node_id: str) -> list[Track]:
        with unavailable_on_error():
            value = await self._drop_tracks(keys=[_Keys.tracks(room_id)], args=[node_id])
        return [] if value is None else list(json.loads(value)["tracks"])

    async def get_tracks(self, room_id: str) -> tuple[str, list[Track]] | None:
        with unavailable_on_error():
            value = await self._redis.get(_Keys.tracks(room_id))
        if value is None:
            return None
        stored = json.loads(value)
        return str(stored["node"]), list(stored["tracks"])

    async def put_channels(self, room_id: str, node_id: str,
                           channels: Sequence[dict[str, Any]]) -> None:
        key = _Keys.channels(room_id)
        with unavailable_on_error():
            if channels:
                await self._redis.set(key, _json({"node": node_id, "channels": list(channels)}))
            else:
                await self._redis.delete(key)

    async def get_channels(self, room_id: str) -> tuple[str, list[dict[str, Any]]] | None:
        with unavailable_on_error():
            value = await self._redis.get(_Keys.channels(room_id))
        if value is None:
            return None
        stored = json.loads(value)
        return str(stored["node"]), list(stored["channels"])

    async def drop_channels(self, room_id: str, node_id: str) -> bool:
        with unavailable_on_error():  # the tracks' script: any record ``{"node": ...}``
            value = await self._drop_tracks(keys=[_Keys.channels(room_id)], args=[node_id])
        return value is not None

    # -- chat --------------------------------------------------------------------------------------
    async def append_chat(
        self, room_id: str, *, sender: str, name: str, text: str, sent_at: float
    ) -> ChatMessage:
        fields = {"sender": sender, "name": name, "text": text, "sent_at": repr(sent_at)}
        with unavailable_on_error():
            message_id = await self._redis.xadd(_Keys.room(room_id, "chat"), fields,  # type: ignore[arg-type]
                                                maxlen=self._chat_cap, approximate=True)
        return ChatMessage(str(message_id), room_id, sender, name, text, sent_at)

    async def chat_page(
        self, room_id: str, *, before: str | None = None, after: str | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        key = _Keys.room(room_id, "chat")
        if limit <= 0:
            return []
        with unavailable_on_error():
            if after is not None:
                stream_id_key(after)
                rows = await self._redis.xrange(key, min=f"({after}", max="+", count=limit)
            else:
                if before is not None:
                    stream_id_key(before)
                top = f"({before}" if before is not None else "+"
                rows = await self._redis.xrevrange(key, max=top, min="-", count=limit)
                rows = list(reversed(rows or []))
        return [_chat(room_id, str(mid), _str_map(fields or {})) for mid, fields in rows or []]

    async def read_chat(
        self, after: Mapping[str, str], *, block_s: float, limit: int = 500
    ) -> list[ChatMessage]:
        if not after:
            return []
        streams: dict[Any, Any] = {}
        for room_id, last in after.items():
            stream_id_key(last)
            streams[_Keys.room(room_id, "chat")] = last
        block = max(1, int(block_s * 1000)) if block_s > 0 else None
        with unavailable_on_error():
            raw: Any = await self._redis.xread(streams, count=limit, block=block)
        rows: list[Any] = list(raw.items() if isinstance(raw, dict) else raw or [])
        out: list[ChatMessage] = []
        for key, entries in rows:  # [stream key, [(id, fields), ...]] per stream
            room_id = str(key).removeprefix(f"{PREFIX}room:").removesuffix(":chat")
            out += [_chat(room_id, str(mid), _str_map(fields or {})) for mid, fields in entries]
        return out

    async def append_journaled(self, message: ChatMessage) -> str:
        fields = {"sender": message.sender, "name": message.name, "text": message.text,
                  "sent_at": repr(message.sent_at), "mid": message.id,
                  "node": message.journaled_by}
        pairs = [item for pair in fields.items() for item in pair]
        keys = [_Keys.room(message.room_id, "chat"), _Keys.mark(message.room_id, message.id)]
        with unavailable_on_error():
            position = await self._append_journaled(
                keys=keys, args=[self._chat_cap, _ms(JOURNAL_MARK_TTL_S), *pairs])
        return str(position)

    async def delete_chat(self, room_id: str, message_id: str) -> bool:
        stream_id_key(message_id)
        with unavailable_on_error():
            # written by a journal (kept during an outage, or written again after Redis lost
            # it, rooms/written_chat.py): the marker holds its position; else the id is it
            position: Any = await self._redis.get(_Keys.mark(room_id, message_id))
            if position is None and is_journal_id(message_id):
                return False
            key = _Keys.room(room_id, "chat")
            return bool(await self._redis.xdel(key, str(position or message_id)))

    async def incarnation(self) -> str:
        with unavailable_on_error():
            try:
                info: Any = await self._redis.info("server")
            except ResponseError:  # INFO refused (an ACL): the watch is off, not an outage
                return ""
        return str(info.get("run_id", ""))

    async def missing_chat(self, room_id: str, positions: Sequence[str]) -> list[str]:
        key = _Keys.room(room_id, "chat")
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=False) as pipe:
                for position in positions:
                    stream_id_key(position)
                    pipe.xrange(key, min=position, max=position, count=1)
                found = await pipe.execute()
        return [p for p, rows in zip(positions, found, strict=True) if not rows]

    # -- reactions ---------------------------------------------------------------------------------
    async def add_reaction(self, room_id: str, kind: str, count: int = 1) -> int:
        with unavailable_on_error():
            return int(await self._redis.hincrby(_Keys.room(room_id, "reactions"), kind, count))

    async def reactions(self, room_id: str) -> dict[str, int]:
        with unavailable_on_error():
            raw = _str_map(await self._redis.hgetall(_Keys.room(room_id, "reactions")))
        return {k: int(v) for k, v in raw.items()}

    # -- products ----------------------------------------------------------------------------------
    def _product_keys(self, room_id: str) -> list[str]:
        return [_Keys.room(room_id, "products"), _Keys.room(room_id, "pinned")]

    async def put_product(self, card: ProductCard) -> None:
        data = _json(card.with_pin(False).to_dict())
        with unavailable_on_error():
            await self._redis.hset(_Keys.room(card.room_id, "products"), card.id, data)

    async def delete_product(self, room_id: str, product_id: str) -> bool:
        products, pinned = self._product_keys(room_id)
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(products, product_id)
                pipe.zrem(pinned, product_id)
                removed, _ = await pipe.execute()
        return bool(removed)

    async def list_products(self, room_id: str) -> list[ProductCard]:
        products, pinned = self._product_keys(room_id)
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(products)
                pipe.zrange(pinned, 0, -1)
                raw, pins = await pipe.execute()
        cards = [ProductCard.from_dict(json.loads(v)) for _, v in sorted(_str_map(raw).items())]
        return [c.with_pin(c.id in pins) for c in cards]

    async def pin_product(self, room_id: str, product_id: str, *, max_pinned: int) -> bool:
        with unavailable_on_error():
            result = int(await self._pin(keys=self._product_keys(room_id),
                                         args=[product_id, max_pinned]))
        if result < 0:
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        return result == 1

    async def unpin_product(self, room_id: str, product_id: str) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.zrem(_Keys.room(room_id, "pinned"), product_id))

    # -- Q&A ---------------------------------------------------------------------------------------
    async def add_question(
        self, room_id: str, *, asker: str, name: str, text: str, asked_at: float,
        max_open: int | None = None,
    ) -> Question:
        keys = [_Keys.room(room_id, "qseq"), _Keys.room(room_id, "questions"),
                _Keys.room(room_id, "open")]
        fields = Question("", room_id, asker, name, text, asked_at).to_dict()
        del fields["id"], fields["votes"]
        cap = -1 if max_open is None else max_open
        with unavailable_on_error():
            seq = int(await self._ask(keys=keys, args=[cap, _json(fields)]))
        if seq < 0:
            raise questions_full(cap)
        return Question(str(seq), room_id, asker, name, text, asked_at)

    async def vote_question(self, room_id: str, question_id: str, voter: str) -> int:
        keys = [_Keys.room(room_id, "questions"), _Keys.room(room_id, "votes"),
                _Keys.room(room_id, f"voters:{question_id}")]
        with unavailable_on_error():
            votes = int(await self._vote(keys=keys, args=[question_id, voter]))
        if votes < 0:
            raise NoSuchRoom(question_id, code="no_such_question", what="question")
        return votes

    async def answer_question(self, room_id: str, question_id: str) -> bool:
        key = _Keys.room(room_id, "questions")
        with unavailable_on_error():
            raw = await self._redis.hget(key, question_id)
            if raw is None:
                return False
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, question_id, _json({**json.loads(raw), "answered": True}))
                pipe.srem(_Keys.room(room_id, "open"), question_id)
                await pipe.execute()
        return True

    async def list_questions(self, room_id: str) -> list[Question]:
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(_Keys.room(room_id, "questions"))
                pipe.zrange(_Keys.room(room_id, "votes"), 0, -1, withscores=True)
                raw, votes = await pipe.execute()
        counts = {str(qid): int(score) for qid, score in votes}
        out = [Question.from_dict({**json.loads(v), "id": k}, votes=counts.get(k, 0))
               for k, v in _str_map(raw).items()]
        return sorted(out, key=question_order)

    # -- quote requests ----------------------------------------------------------------------------
    async def add_quote(self, quote: QuoteRequest, *, cap: int) -> None:
        """One list per room: RPUSH then LTRIM in one transaction keeps the latest ``cap``."""
        key = _Keys.room(quote.room_id, "quotes")
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, _json(quote.to_dict()))
                pipe.ltrim(key, -cap, -1)
                await pipe.execute()

    async def list_quotes(self, room_id: str) -> list[QuoteRequest]:
        with unavailable_on_error():
            raw = await self._redis.lrange(_Keys.room(room_id, "quotes"), 0, -1)
        return [QuoteRequest.from_dict(json.loads(str(v))) for v in raw]

    async def replace_quote(self, quote: QuoteRequest) -> bool:
        """Find the stored JSON of ``quote.id``, then swap exactly that value in one script
        (LPOS + LSET); a concurrent change of the same entry is retried a few times."""
        key, new = _Keys.room(quote.room_id, "quotes"), _json(quote.to_dict())
        for _ in range(QUOTE_RETRIES):
            old = await self._raw_quote(key, quote.id)
            if old is None:
                return False
            with unavailable_on_error():
                if await self._swap_quote(keys=[key], args=[old, new]):
                    return True
        return False

    async def delete_quote(self, room_id: str, quote_id: str) -> bool:
        key = _Keys.room(room_id, "quotes")
        for _ in range(QUOTE_RETRIES):
            old = await self._raw_quote(key, quote_id)
            if old is None:
                return False
            with unavailable_on_error():
                if await self._redis.lrem(key, 1, old):
                    return True
        return False

    # -- product pictures: one hash per room, base64 text (the client decodes responses) --------
    async def put_picture(self, room_id: str, name: str, data: bytes, *, cap: int) -> bool:
        encoded = base64.b64encode(data).decode("ascii")
        with unavailable_on_error():
            return bool(await self._put_picture(keys=[_Keys.room(room_id, "pictures")],
                                                args=[name, encoded, cap]))

    async def get_picture(self, room_id: str, name: str) -> bytes | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.room(room_id, "pictures"), name)
        return None if raw is None else base64.b64decode(str(raw))

    async def delete_picture(self, room_id: str, name: str) -> bool:
        with unavailable_on_error():
            return bool(await self._redis.hdel(_Keys.room(room_id, "pictures"), name))

    # -- recordings: one hash of records, a list per timeline ---------------------------------
    async def put_recording(self, recording: Recording) -> None:
        """The record in one hash and its id in its room's index set, in one ``MULTI``."""
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(_Keys.recordings, recording.id, _json(recording.to_dict()))
                pipe.sadd(_Keys.room(recording.room, "recordings"), recording.id)
                await pipe.execute()

    async def get_recording(self, rec_id: str) -> Recording | None:
        with unavailable_on_error():
            raw = await self._redis.hget(_Keys.recordings, rec_id)
        return None if raw is None else Recording.from_dict(json.loads(raw))

    async def list_recordings(
        self, *, room: str | None = None, owner: str | None = None
    ) -> list[Recording]:
        with unavailable_on_error():
            if room is None:
                values = list(_str_map(await self._redis.hgetall(_Keys.recordings)).values())
            else:
                ids = sorted(await self._redis.smembers(_Keys.room(room, "recordings")))
                values = [str(v) for v in (await self._redis.hmget(_Keys.recordings, ids)
                                           if ids else []) if v is not None]
        found = (_recordings(values) if len(values) <= PARSE_INLINE
                 else await asyncio.to_thread(_recordings, values))  # ~14 µs each: off the loop
        found = [r for r in found
                 if (room is None or r.room == room) and (owner is None or r.owner == owner)]
        return sorted(found, key=recording_order)

    async def delete_recording(self, rec_id: str) -> bool:
        found = await self.get_recording(rec_id)
        if found is None:
            return False
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(_Keys.recordings, rec_id)
                pipe.srem(_Keys.room(found.room, "recordings"), rec_id)
                pipe.delete(_Keys.timeline(rec_id))
                removed, *_ = await pipe.execute()
        return bool(removed)

    async def append_timeline(self, rec_id: str, entries: Sequence[TimelineEntry], *,
                              cap: int = TIMELINE_CAP) -> int:
        """``RPUSH`` + ``LTRIM 0 cap-1`` in one ``MULTI``: the first ``cap`` stay."""
        key = _Keys.timeline(rec_id)
        if not entries:
            with unavailable_on_error():
                return int(await self._redis.llen(key))
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, *(_json(e.to_dict()) for e in entries))
                pipe.ltrim(key, 0, cap - 1)
                pipe.llen(key)
                *_, length = await pipe.execute()
        return int(length)

    async def read_timeline(self, rec_id: str, *, limit: int = TIMELINE_CAP) -> list[TimelineEntry]:
        if limit <= 0:
            return []
        with unavailable_on_error():
            raw = await self._redis.lrange(_Keys.timeline(rec_id), 0, limit - 1)
        return [TimelineEntry.from_dict(json.loads(str(v))) for v in raw]

    # -- consent: one hash per room, ``_ask`` and identity -> 1/0 --------------------------------
    async def ask_consent(self, room_id: str, *, by: str, name: str, asked_at: float) -> Consent:
        key = _Keys.room(room_id, "consent")
        with unavailable_on_error():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping={ASK_FIELD: ask_value(by, name, asked_at), by: "1"})
                await pipe.execute()
        return Consent(room_id, by, name, asked_at, {by: True})

    async def answer_consent(self, room_id: str, identity: str, agree: bool) -> Consent | None:
        with unavailable_on_error():
            raw = await self._answer_consent(keys=[_Keys.room(room_id, "consent")],
                                             args=[identity, "1" if agree else "0"])
        if not raw:
            return None
        flat = [str(v) for v in raw]
        return asked_by(room_id, dict(zip(flat[::2], flat[1::2], strict=True)))

    async def get_consent(self, room_id: str) -> Consent | None:
        with unavailable_on_error():
            raw = _str_map(await self._redis.hgetall(_Keys.room(room_id, "consent")))
        return asked_by(room_id, raw)

    async def clear_consent(self, room_id: str) -> None:
        with unavailable_on_error():
            await self._redis.delete(_Keys.room(room_id, "consent"))

    async def _raw_quote(self, key: str, quote_id: str) -> str | None:
        with unavailable_on_error():
            raw = await self._redis.lrange(key, 0, -1)
        return next((str(v) for v in raw if json.loads(str(v)).get("id") == quote_id), None)


def _recordings(values: Sequence[str]) -> list[Recording]:
    return [Recording.from_dict(json.loads(v)) for v in values]


def _str_map(raw: Mapping[Any, Any]) -> dict[str, str]:
    """redis-py types replies as ``bytes | str``; with ``decode_responses`` they are str."""
    return {str(k): str(v) for k, v in raw.items()}


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _holder(holder: LeaseHolder) -> str:
    return f"{holder.node_id}\n{holder.node_url}"


def _unholder(value: str) -> LeaseHolder:
    node_id, _, node_url = value.partition("\n")
    return LeaseHolder(node_id, node_url)


def _chat(room_id: str, position: str, fields: dict[str, str]) -> ChatMessage:
    """A stream entry; one a journal wrote carries its id (``mid``) and node (``node``)."""
    mid = fields.get("mid")
    return ChatMessage(mid or position, room_id, fields.get("sender", ""), fields.get("name", ""),
                       fields.get("text", ""), float(fields.get("sent_at") or 0.0),
                       position=position if mid else "", journaled_by=fields.get("node", ""))
