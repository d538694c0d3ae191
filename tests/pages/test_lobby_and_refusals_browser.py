"""The lobby links to live rooms and words its counts; refusals are translated sentences, never
raw codes, in real Chromium (checked in Chinese and Russian)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST, MEETING
from rooms.token import Grant, mint
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, shoot, token, unlabeled, untranslated

pytestmark = pytest.mark.browser


async def test_lobby_cards_open_rooms_and_pages_show_no_english(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page(timezone_id="Asia/Shanghai")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(running.url + "/?lang=zh")
    assert await untranslated(page) == []
    assert await unlabeled(page) == []
    await shoot(page, "lobby-zh")
    await page.locator(f'.card[data-room="{LIVE_BROADCAST}"] h3 a').click()
    await page.wait_for_url(f"**/watch/{LIVE_BROADCAST}?lang=zh")
    assert await page.locator("#stream-status").is_visible()  # nobody is live yet
    assert await untranslated(page) == []
    await page.goto(running.url + "/?lang=ru&q=ginseng")
    assert await page.locator(f'.card[data-room="{LIVE_BROADCAST}"]').count() == 1
    await page.goto(running.url + "/?lang=ru&q=cashmere")  # the trade meeting is private
    assert await page.locator(".card").count() == 0
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "ru"])
async def test_refusals_are_translated_sentences(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, lang: str
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    expired = mint("test-secret-0123456789abcdef-0123456789", identity="x", room=MEETING,
                   grants=[Grant.JOIN], ttl_s=1, now=1_000_000)
    cases = {
        f"/meeting/{MEETING}": "invitation",  # no link: invitation only
        f"/meeting/{MEETING}?token={expired}": "expired",
        f"/meeting/{MEETING}?token=not-a-token": "invalid",
        f"/studio/{LIVE_BROADCAST}": "link",
        f"/studio/{LIVE_BROADCAST}?token=" + token("someone", LIVE_BROADCAST, STAFF[:3]): "host",
    }
    for path in cases:
        response = await page.goto(f"{running.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert response.status == 403, path
        notice = await page.locator("#notice").inner_text()
        assert notice and "_" not in notice, (path, notice)
        assert await untranslated(page) == [], path
    if lang == "ru":
        await shoot(page, "refused-ru")



async def test_camera_denied_is_a_translated_sentence(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    """A Chromium that refuses camera prompts (no fake consent UI): the studio says so."""
    from playwright.async_api import async_playwright

    from tests.fixtures.browser import CHROMIUM_FLAGS, chromium_path

    running = await pavilion_app(demo=True)
    flags = [f for f in CHROMIUM_FLAGS if f != "--use-fake-ui-for-media-stream"]
    async with async_playwright() as pw:
        refusing = await pw.chromium.launch(executable_path=chromium_path(),
                                            args=[*flags, "--deny-permission-prompts"])
        try:
            page = await refusing.new_page()
            host = token("changbai-foods", LIVE_BROADCAST, STAFF)
            await page.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token={host}&lang=ru")
            await page.locator("#notice").filter(has_text="Доступ").wait_for(timeout=15_000)
            assert await page.locator("#go-live").is_disabled()
            assert await untranslated(page) == []
        finally:
            await refusing.close()
