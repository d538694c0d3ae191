"""The exhibitor goes live from the studio and viewers see video, chat both ways, a pinned product
appears, a quote is requested, and a viewer recovers from a reload and from a dropped connection
(real Chromium)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, shoot, token, until, untranslated, video_flows

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST


async def _text_in(page: Any, selector: str, text: str) -> bool:
    return text in " ".join(await page.locator(selector).all_inner_texts())


async def test_studio_goes_live_viewer_sees_chats_buys_and_recovers(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
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
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang=ru")
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
    await studio.click("#product-form button[type=submit]")
    card = studio.locator("#products li", has_text="人参茶")
    await until(card.count, "the new product in the studio")
    await card.locator("button.pin").click()
    await until(lambda: _text_in(viewer, "#products", "人参茶"), "pinned product at viewer")
    price = await viewer.locator("#products li", has_text="人参茶").locator(".price").inner_text()
    assert "58,50" in price  # Russian formats the price with a decimal comma

    await viewer.locator("#products li", has_text="人参茶").locator("button.quote").click()
    await until(lambda: _text_in(studio, "#quotes", "人参茶"), "the quote request at the studio")
    await until(lambda: studio.locator("#viewers").inner_text(), "viewer count")

    assert await untranslated(viewer) == []
    assert await untranslated(studio) == []
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
    assert errors == []
