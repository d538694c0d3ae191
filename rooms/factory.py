"""The one place that picks memory or Redis state (DESIGN.md §5) and owns their lifetime.

``open_backend`` never touches the network while starting: the Redis client connects lazily and
retries with backoff, the bus reader reconnects on its own, and the keeper re-announces presence
and leases once Redis is back. So ``PAVILION_REDIS_URL=redis://127.0.0.1:1`` still starts a node;
``await backend.store.ping()`` raising :class:`~rooms.errors.StoreUnavailable` is what /readyz
reports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import config
from rooms.bus import Bus
from rooms.clock import Clock
from rooms.keeper import Keeper
from rooms.memory_bus import MemoryBroker, MemoryBus
from rooms.memory_store import MemoryStore
from rooms.redis_bus import RedisBus
from rooms.redis_store import RedisStore, connect
from rooms.service import RoomService
from rooms.store import LeaseHolder, Store


@dataclass(frozen=True)
class Backend:
    """Everything rooms/ offers to the composition root."""

    store: Store
    bus: Bus
    service: RoomService
    keeper: Keeper


@asynccontextmanager
async def open_backend(
    settings: config.Settings, *, clock: Clock | None = None, hub: MemoryBroker | None = None,
    presence_ttl_s: float = 30.0, lease_ttl_s: float = 15.0,
) -> AsyncIterator[Backend]:
    """Memory when ``settings.redis_url`` is None, Redis otherwise; everything closed on exit.

    ``hub`` lets several in-process memory nodes share a bus (tests of two nodes).
    """
    store: Store
    bus: Bus
    if settings.redis_url is None:
        store, bus = MemoryStore(clock=clock), MemoryBus(settings.node_id, hub)
    else:
        redis = connect(settings.redis_url)
        store, bus = RedisStore(redis, clock=clock), RedisBus(redis, settings.node_id)
    node = LeaseHolder(settings.node_id, settings.base_url)
    service = RoomService(store, bus, node=node, limits=settings.signaling, clock=clock,
                          presence_ttl_s=presence_ttl_s, lease_ttl_s=lease_ttl_s)
    keeper = Keeper(service)
    keeper.start()
    try:
        yield Backend(store=store, bus=bus, service=service, keeper=keeper)
    finally:
        await keeper.aclose()
        await bus.aclose()
        await store.aclose()
