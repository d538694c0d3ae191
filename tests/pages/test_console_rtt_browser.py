"""Issue 18 §2 follow-up (gap 1) in real Chromium: the organiser's console (in Chinese) shows
each media link's round trip in the room's detail. A real aiortc WHIP publisher sends to the
node (consent checks every 0.3 s); the detail's connection cell says "往返 N 毫秒"."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.room import RoomKind
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.pages.helpers import token, until, untranslated
from tests.signaling.rtc_client import make_room
from tests.streaming.clients import Publisher

pytestmark = pytest.mark.browser


async def test_the_detail_shows_each_links_round_trip(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any,
) -> None:
    app = await pavilion_app(demo=False, media={"consent_interval_s": 0.3},
                             cluster={"report_interval_s": 0.3})
    await make_room(app, "spring-launch", RoomKind.BROADCAST, exhibitor="obs")
    publisher = Publisher("vp8")
    key = mint(TEST_SECRET, identity="obs", room="spring-launch", grants=(Grant.PUBLISH,),
               ttl_s=600)
    async with aiohttp.ClientSession(app.url) as http:
        response = await http.post("/whip/spring-launch", data=await publisher.offer(), headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {key}"})
        assert response.status == 201, await response.text()
        await publisher.accept(await response.text())
    page = await browser.new_page()
    organiser = token("organiser", "*", (Grant.JOIN, Grant.MODERATE))
    await page.goto(f"{app.url}/console?token={organiser}&lang=zh")
    row = page.locator("#room-rows tr[data-room=spring-launch]")
    await until(lambda: row.count(), "the live room")
    person = page.locator("#people-rows tr[data-identity=obs]")

    async def measured() -> str | None:
        await row.get_by_role("button").first.click()  # the detail, asked again
        if not await person.count():
            return None
        text: str = await person.inner_text()
        return text if "往返" in text else None

    text = await until(measured, "the publisher's round trip in the detail", tries=100,
                       pause=0.3)
    found = re.search(r"往返 (\d+) 毫秒", text)
    assert found is not None and 0 <= int(found.group(1)) < 1000, text
    assert await untranslated(page) == []
    await publisher.close()
