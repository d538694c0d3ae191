"""The lobby as a visitor sees it, in real headless Chromium, in every language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from config import LANGUAGES
from tests.fixtures.pavilion import RunningApp

pytestmark = pytest.mark.browser


async def test_lobby_renders_in_chromium(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, tmp_path: Path
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page(locale="ja-JP", timezone_id="Asia/Tokyo")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(running.url + "/")  # no ?lang=: Chromium's Accept-Language picks Japanese
    assert await page.get_attribute("html", "lang") == "ja"
    assert await page.locator("h2#live-heading").inner_text() == "ライブ配信中"
    assert await page.locator("li.pavilion").count() == 7
    shown = await page.locator("time[data-local]").first.inner_text()
    assert "(UTC+9)" in shown  # rewritten for the visitor's zone, with its label (issue 12)
    for lang in LANGUAGES:
        await page.goto(running.url + f"/?lang={lang}")
        assert await page.get_attribute("html", "lang") == lang
        await page.screenshot(path=str(tmp_path / f"lobby-{lang}.png"), full_page=True)
        assert (tmp_path / f"lobby-{lang}.png").stat().st_size > 10_000
    await page.goto(running.url + "/")  # the cookie remembers the last choice
    assert await page.get_attribute("html", "lang") == "mn"
    assert errors == []


async def test_language_switcher_is_keyboard_reachable(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    await page.goto(running.url + "/?lang=en")
    await page.keyboard.press("Tab")  # the skip link comes first
    assert await page.evaluate("document.activeElement.className") == "skip"
    link = page.locator('nav.languages a[hreflang="ru"]')
    await link.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**lang=ru")
    assert await page.get_attribute("html", "lang") == "ru"
