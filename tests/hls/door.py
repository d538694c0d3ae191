"""Helpers of the HLS door tests: rooms in each state, a node with scripted feeds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from tests.fixtures.pavilion import RunningApp
from tests.hls.scripted_feed import Feeds, ScriptedFeed
from web.hls import FEEDS_KEY
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]


def room(room_id: str, *, kind: RoomKind = RoomKind.BROADCAST,
         state: RoomState = RoomState.LIVE, locked: bool = False) -> Room:
    starts = datetime.now(UTC) + (timedelta(hours=3) if state is RoomState.SCHEDULED
                                  else timedelta(minutes=-5))
    return Room(id=room_id, kind=kind, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), exhibitor="exhibitor-co",
                starts_at=starts, state=state, locked=locked)


async def node_with(start: Start, *feeds: ScriptedFeed, **overrides: object) -> RunningApp:
    """A node whose plane packages ``feeds`` (the rooms are put in its Store)."""

    def prepare(app: web.Application) -> None:
        app[FEEDS_KEY] = Feeds(*feeds)

    overrides.setdefault("hls", {})  # the default kinds: broadcasts and forums
    return await start(prepare=prepare, demo=False, **overrides)


async def put_rooms(app: RunningApp, *rooms: Room) -> None:
    for one in rooms:
        await app.app[BACKEND_KEY].store.put_room(one)
