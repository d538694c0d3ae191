"""open_backend picks memory or Redis and survives Redis being down; seed_demo builds the expo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

import config
from config import LANGUAGES
from rooms.demo import LIVE_BROADCAST, LIVE_FORUM, MEETING, seed_demo
from rooms.errors import StoreUnavailable
from rooms.factory import Backend, open_backend
from rooms.memory_store import MemoryStore
from rooms.pavilion import Pavilion
from rooms.redis_store import RedisStore
from rooms.room import RoomKind, RoomState
from tests.fixtures.redis_server import RedisServer
from tests.rooms.harness import BACKENDS

NOW = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)


def settings(redis_url: str | None = None) -> config.Settings:
    return config.load(overrides={"node_id": "node-t", "redis_url": redis_url})


async def test_memory_by_default() -> None:
    async with open_backend(settings()) as backend:
        assert isinstance(backend.store, MemoryStore)
        await backend.store.ping()
        assert backend.bus.node_id == "node-t"
        assert backend.service.node.node_url == "http://127.0.0.1:8080"
    assert backend.keeper.exited.is_set()


async def test_starts_with_redis_unreachable_and_says_so() -> None:
    async with open_backend(settings("redis://127.0.0.1:1/0")) as backend:
        assert isinstance(backend.store, RedisStore)
        with pytest.raises(StoreUnavailable) as down:
            await backend.store.ping()
        assert "127.0.0.1:1" in down.value.reason
        with pytest.raises(StoreUnavailable):
            await backend.store.list_rooms()


@pytest.mark.redis
async def test_recovers_when_redis_comes_back(
    redis_factory: Callable[[], RedisServer],
) -> None:
    server = redis_factory()
    server.stop()
    async with open_backend(settings(server.url)) as backend:
        with pytest.raises(StoreUnavailable):
            await backend.store.ping()
        server.start()
        for _ in range(100):
            try:
                await backend.store.ping()
                break
            except StoreUnavailable:
                await asyncio.sleep(0.1)
        await seed_demo(backend, now=NOW)
        assert len(await backend.store.list_rooms()) == 7


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest) -> config.Settings:
    if request.param == "memory":
        return settings()
    return settings(request.getfixturevalue("redis_url"))


async def test_demo_expo_is_complete_and_idempotent(backend_settings: config.Settings) -> None:
    async with open_backend(backend_settings) as backend:
        await seed_demo(backend, now=NOW)
        await seed_demo(backend, now=NOW)
        await check_demo(backend)


async def check_demo(backend: Backend) -> None:
    store = backend.store
    rooms = await store.list_rooms()
    assert {r.pavilion for r in rooms} == set(Pavilion), "every pavilion has a room"
    for room in rooms:
        for text in (room.title, room.description):
            assert text.missing() == [], f"{room.id} lacks {text.missing()}"
            assert len({text[lang] for lang in LANGUAGES}) >= 5, "translated, not copied"
    live = await store.get_room(LIVE_BROADCAST)
    assert live is not None and live.kind is RoomKind.BROADCAST
    assert (live.pavilion, live.state) == (Pavilion.NEW_MEDIA, RoomState.LIVE)
    products = await store.list_products(LIVE_BROADCAST)
    assert len(products) == 3 and [p.id for p in products if p.pinned] == ["ginseng-gift-box"]
    assert all(p.name.missing() == [] and p.currency == "CNY" for p in products)
    assert any(p.request_quote for p in products)
    forum = await store.get_room(LIVE_FORUM)
    assert forum is not None and forum.kind is RoomKind.FORUM
    meeting = await store.get_room(MEETING)
    assert meeting is not None and meeting.kind is RoomKind.MEETING and meeting.limit == 4
    assert len(await store.chat_page(LIVE_BROADCAST)) == 2, "greeted once"
    assert {r.state for r in rooms} == set(RoomState)
    assert all(r.starts_at is not None and r.starts_at.tzinfo is not None for r in rooms)


async def test_seeding_keeps_an_organisers_edits() -> None:
    async with open_backend(settings()) as backend:
        await seed_demo(backend, now=NOW)
        room = await backend.store.get_room(LIVE_FORUM)
        assert room is not None
        await backend.store.put_room(room.with_lock(True))
        await seed_demo(backend, now=NOW)
        assert (await backend.store.get_room(LIVE_FORUM)).locked  # type: ignore[union-attr]
        with pytest.raises(ValueError):
            await seed_demo(backend, now=datetime(2026, 9, 1))
