"""The exhibitor goes live from the studio and viewers see video, chat both ways, a pinned product
appears, a quote is requested, a viewer recovers from a reload and from a dropped connection, and
the studio reloaded mid-broadcast goes on (real Chromium)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.ports import media_mode
from tests.pages.helpers import (
    STAFF,
    shoot,
    token,
    unlabeled,
    until,
    untranslated,
    video_flows,
)

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST
VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)


async def _text_in(page: Any, selector: str, text: str) -> bool:
    return text in " ".join(await page.locator(selector).all_inner_texts())


PROFILE = {"name": {"zh": "长白山食品", "en": "Changbai Foods", "ja": "長白山食品",
                    "ko": "창바이 식품", "ru": "Чанбай Фудс", "mn": "Чанбай Фүүдс"},
           "pavilion": "new-media", "products": ["ginseng"], "languages": ["zh", "en", "ru"],
           "team": [], "time_zone": "Asia/Shanghai"}


async def _meetings(method: str, url: str, tok: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {tok}"}) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def _open_a_slot(running: RunningApp, host: str) -> None:
    """The exhibitor offers one trade-meeting slot in ten days (issue 7's API; the organiser-issued
    ``exhibit`` grant of issue 11)."""
    base = f"{running.url}/api/meetings/exhibitors/changbai-foods"
    later = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()  # past the demo's slots
    await _meetings("PUT", base, host, PROFILE)
    slot = {"date": later, "start": "10:00", "length_min": 30, "time_zone": "Asia/Shanghai",
            "languages": ["zh", "en", "ru"]}
    await _meetings("POST", base + "/slots", host, {"slots": [slot]})


@pytest.mark.parametrize("mode", ["per_peer", "port"])  # issue 19: every peer on one UDP port
async def test_studio_goes_live_viewer_sees_chats_buys_and_recovers(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, mode: str
) -> None:
    running = await pavilion_app(demo=True, media=media_mode(mode))
    errors: list[str] = []
    studio = await browser.new_page(locale="zh-CN")
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", ROOM, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{ROOM}?token={host}&lang=zh")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")

    viewer = await browser.new_page(locale="ru-RU", timezone_id="Europe/Moscow")
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    # A registered delegate (organiser-issued ``delegate`` grant), who could book a meeting.
    delegate = token("petrov", ROOM, (*VIEWER, Grant.DELEGATE), "Пётр Петров")
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang=ru&token={delegate}")
    await video_flows(viewer)
    assert await viewer.locator("#video").evaluate("v => v.muted") is True
    await viewer.click("#unmute")
    assert await viewer.locator("#video").evaluate("v => v.muted") is False

    await viewer.fill("#chat-text", "Здравствуйте! Сколько стоит?")
    await viewer.press("#chat-text", "Enter")
    await until(lambda: _text_in(studio, "#chat-log", "Сколько стоит?"), "viewer chat at studio")
    await studio.fill("#chat-text", "您好，礼盒398元")
    await studio.click("#chat-form button")
    await until(lambda: _text_in(viewer, "#chat-log", "礼盒398元"), "studio chat at viewer")

    await studio.fill("#product-name", "人参茶")
    await studio.fill("#product-price", "58.5")
    await studio.check("#product-quote")  # only a card that takes quotes offers the button
    await studio.click("#product-form button[type=submit]")
    card = studio.locator("#products li", has_text="人参茶")
    await until(card.count, "the new product in the studio")
    await card.locator("button.pin").click()
    await until(lambda: _text_in(viewer, "#products", "人参茶"), "pinned product at viewer")
    price = await viewer.locator("#products li", has_text="人参茶").locator(".price").inner_text()
    assert "58,50" in price  # Russian formats the price with a decimal comma

    seller = token("changbai-foods", "*", (Grant.EXHIBIT,), "长白山食品")
    await _open_a_slot(running, seller)
    await viewer.locator("#products li", has_text="人参茶").locator("button.quote").click()
    await viewer.fill("#quote-name", "Пётр Петров")  # issue 12: contact details, no booking
    await viewer.fill("#quote-email", "petrov@amur.example")
    await viewer.click("#quote-form button[type=submit]")
    await until(lambda: _text_in(studio, "#quotes", "人参茶"), "the quote request at the studio")
    await until(lambda: _text_in(viewer, "#notice", "Ваш запрос"), "the quote-sent notice")
    requests = await _meetings(
        "GET", f"{running.url}/api/meetings/exhibitors/changbai-foods/requests", seller)
    assert requests["requests"] == [], "a quote request books no meeting slot"
    await until(lambda: studio.locator("#viewers").inner_text(), "viewer count")

    assert await untranslated(viewer) == []
    assert await untranslated(studio) == []
    assert await unlabeled(viewer) == [] and await unlabeled(studio) == []
    await shoot(studio, "studio-zh")
    await shoot(viewer, "watch-ru")

    await viewer.reload()
    await video_flows(viewer)
    assert await until(lambda: _text_in(viewer, "#chat-log", "礼盒398元"), "chat after reload")

    # a network drop: the transport dies, the socket reconnects and resumes its session
    await viewer.evaluate("window.pavilion.connection.socket.io.engine.close()")
    await until(lambda: viewer.evaluate("window.pavilion.connection.socket.connected"),
                "the socket to reconnect")
    await viewer.fill("#chat-text", "Снова на связи")
    await viewer.press("#chat-text", "Enter")
    await until(lambda: _text_in(studio, "#chat-log", "Снова на связи"), "chat after the drop")
    await video_flows(viewer)
    assert await untranslated(viewer) == []

    # the studio reloaded mid-broadcast resumes its session and publishes again: viewers go on
    await studio.reload()
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio back on air")
    await video_flows(viewer)

    # moderation from the studio: delete the viewer's message, then remove the viewer
    first = studio.locator("#chat-log li", has_text="Сколько стоит?")
    await first.locator("button").first.click()

    async def deleted() -> bool:
        return not await _text_in(viewer, "#chat-log", "Сколько стоит?")

    await until(deleted, "the deleted message to vanish at the viewer")
    await studio.locator("#chat-log li", has_text="Снова на связи").locator("button.danger").click()
    await viewer.locator("#notice").filter(has_text="удалили").wait_for(timeout=10_000)
    assert errors == []
