"""Issue 18 §2 in real Chromium: the organiser opens the console in Japanese with an organiser
link, sees a live room appear without reloading (pushed over Socket.IO), opens its detail,
removes a participant (whose Socket.IO session is then told and gone), and every string shown
is translated; on a tablet too. The API-key form opens it the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.room import RoomKind
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import shoot, token, unlabeled, until, untranslated
from tests.signaling.rtc_client import VIEWER, RtcClient, make_room
from tests.signaling.rtc_client import token as room_token

pytestmark = pytest.mark.browser
API_KEY = "console-admin-key-0123456789-0123456789"


async def test_the_organiser_watches_a_room_go_live_and_removes_a_participant(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    organiser = token("organiser", "*", (Grant.JOIN, Grant.MODERATE))
    errors: list[str] = []
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{app.url}/console?token={organiser}&lang=ja")
    await until(lambda: page.locator("#room-rows td").first.is_visible(), "the first snapshot")
    assert "現在ライブ中のルームはありません" in await page.inner_text("#room-rows")
    node = app.settings.node_id
    assert node in await page.inner_text("#node-rows")

    await make_room(app, "spring-launch", RoomKind.BROADCAST, exhibitor="host")
    fan = await RtcClient.connect(app, room_token("fan-1", "spring-launch", VIEWER))
    await fan.ok("join", {"room": "spring-launch"})
    row = page.locator("#room-rows tr[data-room=spring-launch]")
    await until(lambda: row.count(), "the live room to appear without a reload")
    await row.get_by_role("button", name="詳細").click()
    person = page.locator("#people-rows tr[data-identity=fan-1]")
    await until(lambda: person.count(), "the participant in the room's detail")
    assert await page.inner_text("#detail-heading") == "spring-launch"
    assert await untranslated(page) == [] and await unlabeled(page) == []
    assert await person.locator("td").nth(1).inner_text() == "視聴者"  # the role, translated
    await shoot(page, "console-ja")

    await person.locator("button.kick").click()
    await fan.wait_for("participant.removed")
    await until(lambda: _gone(person), "the removed participant to leave the detail")
    assert "完了しました" in await page.inner_text("#status")
    await page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    assert await page.evaluate("document.documentElement.scrollWidth") <= 820
    await shoot(page, "console-tablet-ja")
    assert errors == []
    await fan.close()


async def _gone(locator: Any) -> bool:
    return await locator.count() == 0


async def test_the_key_form_opens_the_console_and_a_wrong_link_is_refused(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    page = await browser.new_page()
    await page.goto(f"{app.url}/console?lang=ko")
    await page.fill("#api-key", API_KEY)
    await page.click("#key-form button")
    await until(lambda: page.locator("#node-rows tr").count(), "the console after the key")
    assert await untranslated(page) == []
    moderator = token("mod", "spring-launch", (Grant.JOIN, Grant.MODERATE))
    response = await page.goto(f"{app.url}/console?token={moderator}&lang=ru")
    assert response.status == 403
    assert "только для организатора" in (await page.inner_text("main")).lower() or \
        "организатора" in await page.inner_text("main")
