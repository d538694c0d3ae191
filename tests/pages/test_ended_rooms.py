"""Issue 12, point 10, without a browser: the lobby's counts are true (the exhibitor on camera
is not watching), an ended broadcast is named as ended by the live counts (and no longer
counted as watched, even with presence left over), and the lobby lists ended rooms with an
"Ended" badge, never a trade meeting."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from rooms.demo import LIVE_BROADCAST, MEETING
from rooms.participant import Participant, Role
from rooms.room import RoomState
from tests.fixtures.pavilion import RunningApp
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]
ENDED_SEED = "jilin-ice-snow"  # the demo expo's ended broadcast (Jilin Pavilion)


async def _get(url: str, **params: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, params=params) as response:
        ctype = response.headers.get("Content-Type", "")
        body = await (response.json() if "json" in ctype else response.text())
        return response.status, body


async def _end(running: RunningApp, room_id: str) -> None:
    store = running.app[BACKEND_KEY].store
    room = await store.get_room(room_id)
    assert room is not None
    await store.put_room(room.with_state(RoomState.ENDED))


async def test_an_ended_broadcast_is_named_ended_and_not_counted(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    store = running.app[BACKEND_KEY].store
    for n in range(3):  # three viewers whose presence outlives the broadcast (their TTL)
        await store.put_participant(Participant(f"v{n}", LIVE_BROADCAST, f"V{n}", Role.VIEWER),
                                    ttl_s=60)
    # the exhibitor is on camera, not watching: the lobby counts the three viewers only
    await store.put_participant(Participant("changbai-foods", LIVE_BROADCAST, "Changbai Foods",
                                            Role.HOST), ttl_s=60)
    _, before = await _get(f"{running.url}/api/pages/live", lang="ru")
    assert before["rooms"][LIVE_BROADCAST] == {"count": 3, "text": "3 зрителя"}
    _, lobby = await _get(f"{running.url}/", lang="ru")
    assert re.search(rf'data-room="{LIVE_BROADCAST}">.*?3 зрителя</p>', lobby, re.S)
    await _end(running, LIVE_BROADCAST)
    await _end(running, MEETING)
    status, after = await _get(f"{running.url}/api/pages/live", lang="ru")
    assert status == 200 and LIVE_BROADCAST not in after["rooms"]
    assert after["ended"][LIVE_BROADCAST] == {"text": "Завершено"}
    assert MEETING not in after["ended"], "meetings are private, ended or not"


async def test_the_lobby_lists_ended_rooms_with_a_badge(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    await _end(running, MEETING)
    _, body = await _get(f"{running.url}/", lang="ja")
    card = re.search(rf'<li class="card[^"]*" data-room="{ENDED_SEED}">(.*?)</li>', body, re.S)
    assert card is not None, "the ended broadcast is listed"
    assert '<span class="ended-badge">終了</span>' in card.group(1)
    assert "watching" not in card.group(1) and "視聴中" not in card.group(1)
    assert "replay" not in card.group(1), "no replay link until recordings exist"
    tile = re.search(r'data-pavilion="jilin">(.*?)</li>', body, re.S)
    assert tile is not None and "1 件終了" in tile.group(1)
    assert f'data-room="{MEETING}"' not in body and "kind-meeting" not in body
