"""``open_bookings``: the trade-meeting part of a node, opened next to the rooms backend.

Memory when ``settings.redis_url`` is None, Redis otherwise (its own client on the same URL:
the rooms factory is not touched). Like :func:`rooms.factory.open_backend` it never touches the
network while starting, but for the demo seed (demo mode: :mod:`rooms.trade.demo`), whose failure
is logged and never stops the node. The agenda is started here and stopped, then the store
closed, on exit. It yields :class:`Bookings`: the service, and the agenda that drives it (the
service does not know its agenda; tests tick the agenda by hand).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import config
from rooms.clock import Clock, SystemClock
from rooms.factory import Backend
from rooms.trade.agenda import Agenda
from rooms.trade.demo import seed_demo_exhibitor
from rooms.trade.memory_store import MemoryBookingStore
from rooms.trade.redis_store import RedisBookingStore
from rooms.trade.service import BookingPolicy, BookingService, Notifier
from rooms.trade.store import BookingStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bookings:
    """A node's trade meetings: the service, and the agenda that watches its requests."""

    service: BookingService
    agenda: Agenda


def policy_of(settings: config.Settings) -> BookingPolicy:
    """The booking policy with the quotas of ``[meetings]``; the timings keep their defaults."""
    limits = settings.meetings
    return BookingPolicy(quota=limits.open_requests_per_buyer,
                         quota_per_exhibitor=limits.open_requests_per_exhibitor,
                         requests_per_client_hour=limits.requests_per_client_per_hour)


async def _seed(service: BookingService, clock: Clock | None) -> None:
    now = datetime.fromtimestamp((clock or SystemClock()).now(), tz=UTC)
    try:
        await seed_demo_exhibitor(service, now=now)
    except Exception as exc:  # a Redis outage, another node seeding: never stops the node
        log.warning("demo exhibitor not seeded: %s", exc)


@asynccontextmanager
async def open_bookings(
    settings: config.Settings, backend: Backend, *, clock: Clock | None = None,
    policy: BookingPolicy | None = None, notifier: Notifier | None = None,
    run_agenda: bool = True,
) -> AsyncIterator[Bookings]:
    """The booking service over memory or Redis, with its agenda running; closed on exit."""
    store: BookingStore = (MemoryBookingStore(clock=clock) if settings.redis_url is None
                           else RedisBookingStore.from_url(settings.redis_url))
    service = BookingService(store, backend.service, secret=settings.secret_value(),
                             base_url=settings.base_url, policy=policy or policy_of(settings),
                             clock=clock,
                             notifier=notifier)
    agenda = Agenda(service)
    if settings.demo:
        await _seed(service, clock)
    if run_agenda:
        agenda.start()
    try:
        yield Bookings(service, agenda)
    finally:
        await agenda.aclose()
        await store.aclose()
