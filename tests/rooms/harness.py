"""One harness for both backends: the same tests run on MemoryStore and a real redis-server.

Memory time is a :class:`FakeClock` moved by ``pass_time``; Redis time is real, so ``pass_time``
sleeps (TTLs in these tests are about a second). ``node()`` gives another node's view of the
same state: the same MemoryStore (one process is one node's memory) or a second Redis client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from rooms.bus import Bus
from rooms.clock import Clock, FakeClock, SystemClock
from rooms.memory_bus import MemoryBroker, MemoryBus
from rooms.memory_store import MemoryStore
from rooms.redis_bus import RedisBus
from rooms.redis_store import RedisStore, connect
from rooms.store import Store

BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@dataclass
class Harness:
    kind: str
    clock: Clock
    url: str | None = None
    chat_cap: int = 50
    hub: MemoryBroker = field(default_factory=MemoryBroker)
    _memory: MemoryStore | None = None
    _closers: list[Store | Bus] = field(default_factory=list)

    @property
    def fake(self) -> bool:
        return isinstance(self.clock, FakeClock)

    async def pass_time(self, seconds: float) -> None:
        if isinstance(self.clock, FakeClock):
            self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)

    def store(self, *, chat_cap: int | None = None) -> Store:
        """A node's Store; memory nodes share one (it is the only state there is)."""
        cap = chat_cap or self.chat_cap
        if self.url is None:
            if self._memory is None or chat_cap is not None:
                self._memory = MemoryStore(clock=self.clock, chat_cap=cap)
            return self._memory
        store = RedisStore(connect(self.url), clock=self.clock, chat_cap=cap)
        self._closers.append(store)
        return store

    async def bus(self, node_id: str) -> Bus:
        if self.url is None:
            return MemoryBus(node_id, self.hub)
        bus = RedisBus(connect(self.url), node_id, owns_client=True)
        self._closers.append(bus)
        await asyncio.wait_for(bus.connected.wait(), 10)
        return bus

    async def aclose(self) -> None:
        for closer in reversed(self._closers):
            await closer.aclose()


@pytest.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        made = Harness("memory", FakeClock())
    else:
        made = Harness("redis", SystemClock(), url=request.getfixturevalue("redis_url"))
    yield made
    await made.aclose()
