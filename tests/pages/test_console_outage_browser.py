"""Issue 18 §2 follow-up (gap 5) in real Chromium: the organiser's console (in Russian) stays
open through a Redis outage. A private real redis-server is stopped: the console says so in
its language, keeps the last figures (dimmed) and its one websocket; Redis is started again:
the notice goes and the live room is listed again, on the same websocket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.room import RoomKind
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.redis_server import RedisServer
from tests.pages.helpers import token, until, untranslated
from tests.signaling.rtc_client import make_room

pytestmark = [pytest.mark.browser, pytest.mark.redis]
NOTICE_RU = "Хранилище комнат недоступно; данные вернутся вместе с ним."


async def test_the_console_shows_a_redis_outage_and_recovers(
    redis_factory: Callable[[], RedisServer],
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any,
) -> None:
    redis = redis_factory()
    app = await pavilion_app(redis_url=redis.url, demo=False,
                             cluster={"report_interval_s": 0.3})
    await make_room(app, "spring-launch", RoomKind.BROADCAST, exhibitor="host")
    organiser = token("organiser", "*", (Grant.JOIN, Grant.MODERATE))
    page = await browser.new_page()
    errors: list[str] = []
    sockets: list[Any] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("websocket", lambda ws: sockets.append(ws))
    await page.goto(f"{app.url}/console?token={organiser}&lang=ru")
    row = page.locator("#room-rows tr[data-room=spring-launch]")
    await until(lambda: row.count(), "the live room")

    assert redis.command(b"SAVE").startswith(b"+OK")
    await asyncio.to_thread(redis.stop)
    await until(lambda: _status_is(page, NOTICE_RU), "the outage notice, in Russian")
    assert await page.evaluate("document.body.dataset.outage") == "true"
    assert await row.count() == 1  # the last figures stay
    assert await untranslated(page) == []

    await asyncio.to_thread(redis.start)
    await until(lambda: _status_is(page, ""), "the notice to go with Redis back", tries=300)
    assert await page.evaluate("document.body.dataset.outage") is None
    await until(lambda: row.count(), "the room listed again")
    assert len(sockets) == 1 and not sockets[0].is_closed()  # one websocket throughout
    assert errors == []


async def _status_is(page: Any, text: str) -> bool:
    return (await page.inner_text("#status")).strip() == text
