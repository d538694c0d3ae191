"""Issue 12, point 7, in real Chromium: the host adds a card with a description and a picture,
edits it, and deletes it; viewers see each change live (the picture decodes in their browser).
A fake picture (an SVG named .png) is refused with a translated sentence. Desktop (studio zh,
viewer ru) and a 390×844 phone (studio en, viewer ko)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from tests.fixtures.pavilion import RunningApp
from tests.pages import pictures
from tests.pages.helpers import STAFF, shoot, token, unlabeled, until, untranslated

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST
PHONE = {"width": 390, "height": 844}
Start = Callable[..., Awaitable[RunningApp]]
DECODED = "(img) => img.complete && img.naturalWidth > 0"


async def _text_in(page: Any, selector: str, text: str) -> bool:
    return text in " ".join(await page.locator(selector).all_inner_texts())


async def _pages(running: RunningApp, browser: Any, studio_lang: str, viewer_lang: str,
                 errors: list[str], **viewport: Any) -> tuple[Any, Any]:
    studio = await (await browser.new_context(**viewport)).new_page()
    viewer = await (await browser.new_context(**viewport)).new_page()
    for page in (studio, viewer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    studio.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    host = token("changbai-foods", ROOM, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{ROOM}?token={host}&lang={studio_lang}")
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang={viewer_lang}")
    await until(lambda: studio.locator("#products li").count(), "the studio's cards")
    await until(lambda: viewer.evaluate("Boolean(window.pavilion?.connection?.socket?.connected)"),
                "the viewer's socket")
    return studio, viewer


async def _add_card(studio: Any, name: str, description: str, picture: bytes,
                    file_name: str = "tea.png") -> Any:
    await studio.fill("#product-name", name)
    await studio.fill("#product-price", "120")
    await studio.fill("#product-description", description)
    await studio.set_input_files("#product-picture", files=[
        {"name": file_name, "mimeType": "image/png", "buffer": picture}])
    await studio.click("#product-form button[type=submit]")
    card = studio.locator("#products li", has_text=name)
    await until(card.count, f"the card {name!r} in the studio")
    return card


async def test_cards_get_a_picture_a_description_edits_and_deletion(
        pavilion_app: Start, browser: Any) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    studio, viewer = await _pages(running, browser, "zh", "ru", errors)

    await studio.fill("#product-name", "假图片")
    await studio.fill("#product-price", "1")
    await studio.set_input_files("#product-picture", files=[
        {"name": "evil.png", "mimeType": "image/png", "buffer": pictures.SVG}])
    await studio.click("#product-form button[type=submit]")
    await until(lambda: _text_in(studio, "#notice", "PNG"), "the refusal of a fake picture")
    assert await untranslated(studio) == []

    card = await _add_card(studio, "普洱茶饼", "云南古树茶\n357克", pictures.png(40, 30))
    await until(lambda: card.locator("img.picture").evaluate(DECODED), "the studio's picture")
    await card.locator("button.pin").click()
    shown = viewer.locator("#products li", has_text="普洱茶饼")
    await until(shown.count, "the pinned card at the viewer")
    await until(lambda: shown.locator("img.picture").evaluate(DECODED), "the viewer's picture")
    assert "云南古树茶" in await shown.locator(".description").inner_text()
    await shoot(studio, "studio-products-zh")
    await shoot(viewer, "watch-product-picture-ru")

    await card.locator("button.edit").click()
    assert await studio.input_value("#product-name") == "普洱茶饼"
    await studio.fill("#product-name", "普洱茶饼（2019）")
    await studio.click("#product-form button[type=submit]")
    await until(lambda: _text_in(viewer, "#products", "普洱茶饼（2019）"), "the edit, live")
    assert await unlabeled(studio) == [] and await untranslated(viewer) == []

    await studio.locator("#products li", has_text="普洱茶饼（2019）").locator(
        "button.delete").click()

    async def gone() -> bool:
        return not await _text_in(viewer, "#products", "普洱茶饼")

    await until(gone, "the deleted card to vanish at the viewer")
    assert not await _text_in(studio, "#products", "普洱茶饼")
    assert errors == []


async def test_on_a_phone_the_viewer_sees_the_picture(pavilion_app: Start, browser: Any) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    studio, viewer = await _pages(running, browser, "en", "ko", errors, viewport=PHONE,
                                  is_mobile=True, has_touch=True)
    card = await _add_card(studio, "Ginseng tea", "Six-year roots.",
                           pictures.png(8, 8, (20, 120, 40)))
    await card.locator("button.pin").click()
    shown = viewer.locator("#products li", has_text="Ginseng tea")
    await until(shown.count, "the pinned card on the phone")
    await until(lambda: shown.locator("img.picture").evaluate(DECODED), "the picture on the phone")
    box = await shown.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert await untranslated(viewer) == []
    await shoot(viewer, "watch-product-picture-ko-phone")
    assert errors == []
