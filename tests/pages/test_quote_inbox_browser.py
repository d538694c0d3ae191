"""Issue 12 in real Chromium: a viewer asks for a quote with contact details (no meeting slot is
reserved), the exhibitor sees it live in the studio inbox with an unread badge and replies, the
viewer sees the reply and withdraws the request, and reactions float in the studio too. Desktop
(studio zh, viewer ru) and a 390×844 phone (viewer ko, studio en on the phone too; then ja)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, shoot, token, unlabeled, until, untranslated
from tests.signaling.rtc_client import RtcClient
from web.keys import BACKEND_KEY

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST
CARD = "jilin-rice-5kg"
VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
PHONE = {"width": 390, "height": 844}
Start = Callable[..., Awaitable[RunningApp]]
PROFILE = {"name": {"zh": "长白山食品", "en": "Changbai Foods", "ja": "長白山食品",
                    "ko": "창바이 식품", "ru": "Чанбай Фудс", "mn": "Чанбай Фүүдс"},
           "pavilion": "new-media", "products": ["rice"], "languages": ["zh", "en", "ru"],
           "team": [], "time_zone": "Asia/Shanghai"}
# Counts every bubble that ever floats in the studio (they vanish when their animation ends).
COUNT_FLOATERS = """() => { window.floated = 0; new MutationObserver((changes) => {
  for (const c of changes) window.floated += c.addedNodes.length; })
  .observe(document.getElementById('floaters'), {childList: true}); }"""


async def _api(method: str, url: str, tok: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {tok}"}) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def _text_in(page: Any, selector: str, text: str) -> bool:
    return text in " ".join(await page.locator(selector).all_inner_texts())


async def _setup(running: RunningApp) -> str:
    """Pin the card that takes quotes and open one free trade-meeting slot; the seller's token."""
    await running.app[BACKEND_KEY].store.pin_product(ROOM, CARD, max_pinned=3)
    seller = token("changbai-foods", "*", (Grant.EXHIBIT,), "长白山食品")
    base = f"{running.url}/api/meetings/exhibitors/changbai-foods"
    await _api("PUT", base, seller, PROFILE)
    # past the demo's seeded slots (rooms/trade/demo.py: the next few days)
    later = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    await _api("POST", base + "/slots", seller, {"slots": [{
        "date": later, "start": "10:00", "length_min": 30, "time_zone": "Asia/Shanghai",
        "languages": ["zh", "en", "ru"]}]})
    return seller


async def _no_slot_taken(running: RunningApp, seller: str) -> None:
    base = f"{running.url}/api/meetings/exhibitors/changbai-foods"
    assert (await _api("GET", base + "/requests", seller))["requests"] == []
    free = (await _api("GET", base + "/slots", seller))["slots"]  # held slots are not listed
    later = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    assert [s for s in free if s["starts_at"].startswith(later)], free


async def _open_studio(running: RunningApp, browser: Any, lang: str, errors: list[str],
                       **page: Any) -> Any:
    studio = await browser.new_page(**page)
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", ROOM, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{ROOM}?token={host}&lang={lang}")
    await until(lambda: studio.evaluate("Boolean(window.pavilion?.connection?.socket?.connected)"),
                "the studio's socket")
    await studio.evaluate(COUNT_FLOATERS)
    return studio


async def _ask(viewer: Any, contact: dict[str, str], message: str) -> None:
    await viewer.locator(f"#products li[data-product={CARD}]").locator("button.quote").click()
    await viewer.locator("#quote-dialog").wait_for(state="visible")
    for field, value in contact.items():
        await viewer.fill(f"#quote-{field}", value)
    await viewer.fill("#quote-message", message)


async def test_quote_with_contact_reaches_the_inbox_reply_returns_and_is_withdrawn(
        pavilion_app: Start, browser: Any) -> None:
    running = await pavilion_app(demo=True)
    seller = await _setup(running)
    errors: list[str] = []
    studio = await _open_studio(running, browser, "zh", errors, locale="zh-CN")
    viewer = await browser.new_page(locale="ru-RU")
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    # a registered delegate, who *could* book a meeting: asking for a quote still books none
    delegate = token("petrov", ROOM, (*VIEWER, Grant.DELEGATE), "Пётр Петров")
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang=ru&token={delegate}")
    await _ask(viewer, {"name": "Пётр Петров", "company": "Амур Трейд",
                        "email": "petrov@amur.example"}, "Нужно 20 тонн, цена FOB Далянь?")
    assert await untranslated(viewer) == [] and await unlabeled(viewer) == []
    await shoot(viewer, "quote-form-ru")
    await viewer.click("#quote-form button[type=submit]")
    await until(lambda: _text_in(viewer, "#my-quotes", "Нужно 20 тонн"), "the viewer's request")

    item = studio.locator("#quotes li.quote-item", has_text="Пётр Петров")
    await item.wait_for(timeout=15_000)
    assert await item.locator("a.email").inner_text() == "petrov@amur.example"
    assert "Амур Трейд" in await item.inner_text()
    badge = studio.locator("#inbox-unread")
    assert await badge.is_visible() and "1" in await badge.inner_text()
    assert (await studio.title()).startswith("(1)")
    await shoot(studio, "inbox-zh")
    await _no_slot_taken(running, seller)  # asking for a quote reserves nothing

    asker = await RtcClient.connect(running, token("visitor-q", ROOM, VIEWER, "Ли Вэй"))
    await asker.ok("join", {"room": ROOM})
    await asker.ok("question.ask", {"room": ROOM, "text": "Есть ли сертификат органики?"})
    await asker.close()
    question = studio.locator("#quotes li.question-item", has_text="сертификат органики")
    await question.wait_for(timeout=15_000)  # viewers' questions land in the inbox too
    assert "Ли Вэй" in await question.inner_text()

    await viewer.click("[data-reaction=heart]")
    await until(lambda: studio.evaluate("window.floated > 0"), "the reaction in the studio")

    await item.locator("textarea").fill("每吨3200元，FOB大连")
    await item.locator("button[type=submit]").click()
    await until(lambda: _text_in(viewer, "#my-quotes", "每吨3200元"), "the reply at the viewer")
    await until(lambda: _text_in(studio, "#quotes", "每吨3200元"), "the reply kept in the inbox")
    async with studio.expect_download() as download_info:
        await studio.click("#inbox-csv")
    download = await download_info.value
    saved = await download.path()
    exported = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert "petrov@amur.example" in exported and "每吨3200元" in exported
    await studio.click("#inbox-read")
    await until(badge.is_hidden, "the unread badge to go")
    assert await untranslated(studio) == [] and await unlabeled(studio) == []

    await viewer.locator("#my-quotes li", has_text="Нужно 20 тонн").locator(
        "button.withdraw").click()
    await until(lambda: viewer.locator("#no-my-quotes").is_visible(), "the request withdrawn")
    async def withdrawn() -> bool:
        return await studio.locator("#quotes li.quote-item").count() == 0

    await until(withdrawn, "the withdrawn request gone from the inbox, live")
    await _no_slot_taken(running, seller)
    assert errors == []


async def test_on_a_phone_the_form_remembers_the_buyer_and_the_reply_arrives(
        pavilion_app: Start, browser: Any) -> None:
    running = await pavilion_app(demo=True)
    seller = await _setup(running)
    errors: list[str] = []
    studio = await _open_studio(running, browser, "en", errors, viewport=PHONE, locale="en-GB")
    context = await browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True,
                                        has_touch=True)
    viewer = await context.new_page()
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang=ko")
    await _ask(viewer, {"name": "김민준", "phone": "+82 10 1234 5678"}, "샘플 가능할까요?")
    assert await untranslated(viewer) == [] and await unlabeled(viewer) == []
    await shoot(viewer, "quote-form-ko-phone")
    await viewer.click("#quote-form button[type=submit]")
    item = studio.locator("#quotes li.quote-item", has_text="김민준")
    await item.wait_for(timeout=15_000)
    assert await item.locator("a.phone").get_attribute("href") == "tel:+821012345678"
    await item.locator("textarea").fill("Yes, a 1 kg sample ships on Monday.")
    await item.locator("button[type=submit]").click()
    await until(lambda: _text_in(viewer, "#my-quotes", "1 kg sample"), "the reply on the phone")
    await item.locator("button.propose").click()  # "propose a meeting": the buyer gets a link
    meet = viewer.locator("#my-quotes a.meet")
    await until(meet.count, "the proposed meeting at the buyer")
    href = await meet.get_attribute("href")
    assert href is not None and href.startswith("/meetings?exhibitor=changbai-foods")
    assert "token=" in href  # demo mode: a demo delegate may book from the link
    await shoot(studio, "inbox-en-phone")

    # the same browser in Japanese: the form comes back filled with what the buyer gave
    await viewer.goto(f"{running.url}/watch/{ROOM}?lang=ja")
    await viewer.locator(f"#products li[data-product={CARD}]").locator("button.quote").click()
    assert await viewer.input_value("#quote-name") == "김민준"
    assert await viewer.input_value("#quote-phone") == "+82 10 1234 5678"
    assert await untranslated(viewer) == []
    await viewer.click("#quote-cancel")
    await _no_slot_taken(running, seller)
    assert errors == []
