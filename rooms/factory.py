"""The one place that picks memory or Redis state (DESIGN.md §5) and owns their lifetime.

``open_backend`` never touches the network while starting: the Redis client connects lazily and
retries with backoff, the bus reader reconnects on its own, and the keeper re-announces presence
and leases once Redis is back. So ``PAVILION_REDIS_URL=redis://127.0.0.1:1`` still starts a node;
``await backend.store.ping()`` raising :class:`~rooms.errors.StoreUnavailable` is what /readyz
reports.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import config
from rooms.bus import Bus
from rooms.clock import Clock
from rooms.cluster import ClusterNode, MemoryDirectory, NodeDirectory
from rooms.cluster.redis_directory import RedisDirectory
from rooms.errors import StoreUnavailable
from rooms.journal_flusher import JournalFlusher
from rooms.keeper import Keeper
from rooms.memory_bus import MemoryBroker, MemoryBus
from rooms.memory_store import MemoryStore
from rooms.redis_bus import RedisBus
from rooms.redis_store import RedisStore, connect
from rooms.service import RoomService
from rooms.store import LeaseHolder, Store
from rooms.webhooks.hooks import Hooks, Route
from rooms.webhooks.memory_queue import MemoryWebhookQueue
from rooms.webhooks.queue import WebhookQueue, target_key
from rooms.webhooks.redis_queue import RedisWebhookQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    """Everything rooms/ offers to the composition root."""

    store: Store
    bus: Bus
    service: RoomService
    keeper: Keeper
    cluster: ClusterNode
    webhooks: WebhookQueue  # issue 18 §1: the web layer's worker delivers from it


@asynccontextmanager
async def open_backend(
    settings: config.Settings, *, clock: Clock | None = None, hub: MemoryBroker | None = None,
) -> AsyncIterator[Backend]:
    """Memory when ``settings.redis_url`` is None, Redis otherwise; everything closed on exit.

    ``hub`` lets several in-process memory nodes share a bus (tests of two nodes).

    The node claims its id first: if another live node holds it, :class:`NodeIdTaken` is
    raised (the CLI exits 2) and nothing else starts. With Redis down at start the claim is
    logged and left to the keeper, like presence and leases (the node still starts).
    """
    store: Store
    bus: Bus
    directory: NodeDirectory
    queue: WebhookQueue
    rules = settings.webhooks_delivery
    lease_ttl_s = settings.cluster.lease_ttl_s
    if settings.redis_url is None:
        store, bus = MemoryStore(clock=clock), MemoryBus(settings.node_id, hub)
        directory = MemoryDirectory(clock)
        queue = MemoryWebhookQueue(max_events=rules.memory_max, lease_s=rules.lease_s,
                                   dead_max=rules.dead_max)
    else:
        redis = connect(settings.redis_url)
        store, bus = RedisStore(redis, clock=clock), RedisBus(redis, settings.node_id)
        directory = RedisDirectory(redis)
        queue = RedisWebhookQueue(redis, lease_s=rules.lease_s, dead_max=rules.dead_max)
    cluster = ClusterNode(directory, node_id=settings.node_id, url=settings.base_url,
                          rules=settings.cluster, claim_ttl_s=lease_ttl_s)
    try:
        await _claim_id(cluster)
    except BaseException:
        await bus.aclose()
        await store.aclose()
        raise
    node = LeaseHolder(settings.node_id, settings.base_url)
    service = RoomService(store, bus, node=node, limits=settings.signaling, clock=clock,
                          presence_ttl_s=settings.cluster.presence_ttl_s,
                          lease_ttl_s=lease_ttl_s, placer=cluster)
    service.hooks = hooks = Hooks(queue, routes_of(settings), spool_max=rules.spool_max)
    hooks.start()
    keeper = Keeper(service, cluster=cluster, interval_s=settings.cluster.renew_interval_s)
    keeper.start()
    flusher = JournalFlusher(store, service.journal, service.written)
    flusher.start()
    try:
        yield Backend(store=store, bus=bus, service=service, keeper=keeper, cluster=cluster,
                      webhooks=queue)
    finally:
        await hooks.aclose()
        await keeper.aclose()
        await flusher.aclose()
        await cluster.release_id()
        await bus.aclose()
        await store.aclose()


def routes_of(settings: config.Settings) -> list[Route]:
    """The configured webhook targets as the producer routes to them."""
    return [Route(target_key(t.url), frozenset(t.events) if t.events is not None else None)
            for t in settings.webhooks]


async def _claim_id(cluster: ClusterNode) -> None:
    try:
        await cluster.claim_id()
    except StoreUnavailable as exc:
        log.warning("node id %s not claimed yet (the keeper retries): %s", cluster.node_id,
                    exc.reason)
