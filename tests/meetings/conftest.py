"""Fixtures of the trade-meeting tests: one BookingStore harness over memory and real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rooms.clock import FakeClock
from rooms.trade.memory_store import MemoryBookingStore
from rooms.trade.redis_store import RedisBookingStore
from rooms.trade.store import BookingStore
from tests.meetings.flow import meetings_node

__all__ = ["meetings_node"]

BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


class Stores:
    """Makes stores of one kind: memory stores share state (one node); Redis ones are separate
    clients of one server (separate nodes)."""

    def __init__(self, url: str | None, clock: FakeClock) -> None:
        self.url = url
        self.clock = clock
        self._memory = MemoryBookingStore(clock=clock)
        self._made: list[BookingStore] = []

    def node(self) -> BookingStore:
        if self.url is None:
            return self._memory
        store = RedisBookingStore.from_url(self.url)
        self._made.append(store)
        return store

    async def aclose(self) -> None:
        for store in self._made:
            await store.aclose()


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    made = Stores(url, FakeClock())
    yield made
    await made.aclose()
