"""``RedisBus``: the Bus across nodes over Redis pub/sub (channel ``pv:bus:<topic>``).

One reader task per node owns one pub/sub connection. When Redis goes away the reader backs
off exponentially (capped), then reconnects and subscribes to every topic again; messages sent
meanwhile are lost, which the at-most-once contract allows (durable things go to the Store).
Each message carries its origin node and the reader drops the node's own echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from rooms.bus import BusMessage, check_topic
from rooms.inbox import QueueInbox
from rooms.lifecycle import cancel_and_wait
from rooms.redis_store import PREFIX, unavailable_on_error

log = logging.getLogger(__name__)
CHANNEL_PREFIX = f"{PREFIX}bus:"
BACKOFF_START_S = 0.05
BACKOFF_CAP_S = 2.0


class RedisBus:
    def __init__(self, redis: Redis, node_id: str, *, owns_client: bool = False) -> None:
        self._redis = redis
        self._node_id = node_id
        self._owns_client = owns_client
        self._subscriptions: set[QueueInbox] = set()
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()
        self.malformed = 0  # messages on our channels that did not decode
        self.connected = asyncio.Event()
        self.exited = asyncio.Event()
        self._closing = False
        self._control = CHANNEL_PREFIX + "node:" + node_id
        self._stale: set[str] = set()  # channels to unsubscribe from
        self._reader = asyncio.create_task(self._read_forever(), name=f"redis-bus-{node_id}")

    @property
    def node_id(self) -> str:
        return self._node_id

    def _channels(self) -> set[str]:
        return {CHANNEL_PREFIX + t for s in self._subscriptions for t in s.topics}

    async def publish(self, topic: str, kind: str, payload: Mapping[str, Any]) -> None:
        message = BusMessage(check_topic(topic), kind, dict(payload), self._node_id)
        with unavailable_on_error():
            await self._redis.publish(CHANNEL_PREFIX + topic, message.encode())

    async def subscribe(self, *topics: str, maxsize: int = 256) -> QueueInbox:
        """Subscribe now if connected (so a publish right after is heard); else on reconnect."""
        subscription = QueueInbox(
            frozenset(check_topic(t) for t in topics), maxsize, self._forget)
        self._subscriptions.add(subscription)
        self._stale -= {CHANNEL_PREFIX + t for t in topics}
        async with self._lock:
            if self._pubsub is not None and self.connected.is_set():
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.subscribe(*(CHANNEL_PREFIX + t for t in topics))
        return subscription

    def _forget(self, subscription: QueueInbox) -> None:
        """Drop a subscription; channels nobody wants any more are unsubscribed by the reader."""
        self._subscriptions.discard(subscription)
        mine = {CHANNEL_PREFIX + t for t in subscription.topics}
        self._stale |= mine - self._channels() - {self._control}

    async def _unsubscribe_stale(self) -> None:
        if not self._stale or self._pubsub is None:
            return
        async with self._lock:
            stale, self._stale = self._stale, set()
            await self._pubsub.unsubscribe(*stale)

    async def _read_forever(self) -> None:
        backoff = BACKOFF_START_S
        try:
            while not self._closing:
                try:
                    await self._session()
                except (RedisError, OSError) as exc:
                    log.warning("redis bus: %s; reconnecting in %.2f s", exc, backoff)
                if self.connected.is_set():
                    backoff = BACKOFF_START_S  # it had worked: start the backoff over
                self.connected.clear()
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP_S)
        finally:
            self.exited.set()

    async def _session(self) -> None:
        """One connection's life: subscribe to everything wanted, then read until it fails."""
        async with self._lock:
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            # A control channel keeps the connection subscribed even with no topics yet.
            await self._pubsub.subscribe(self._control, *self._channels())
            self._stale.clear()
            self.connected.set()
        while not self._closing:  # get_message's timeout bounds how late a close is seen
            await self._unsubscribe_stale()
            raw = await self._pubsub.get_message(timeout=1.0)
            if raw is not None and raw.get("type") == "message":
                self._dispatch(raw["data"])

    def _dispatch(self, data: str | bytes) -> None:
        try:
            message = BusMessage.decode(data)
        except (ValueError, KeyError, TypeError):
            self.malformed += 1
            return
        if message.origin == self._node_id:
            return  # our own echo
        for subscription in list(self._subscriptions):
            if message.topic in subscription.topics:
                subscription.deliver(message)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]

    async def aclose(self) -> None:
        self._closing = True
        await cancel_and_wait(self._reader)
        self.exited.set()
        await self._drop_pubsub()
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        if self._owns_client:
            await self._redis.aclose()
