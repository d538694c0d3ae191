"""Issue 12's gaps in real Chromium, on a desktop and on a 390×844 phone, two languages each.

Names everywhere: the "Your name" form on the meeting page (guest and host) and the studio; a
guest's name as the host sees it; default names ("Visitor 1234", a demo "Buyer 1234") shown in
each reader's language with the same number. A visitor keeps one identity across tabs (the
visitor cookie): their quote requests are still theirs in a new tab, and a kicked visitor is
still refused after a reload.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST, MEETING
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import GUEST, STAFF, shoot, token, until, untranslated
from tests.pages.test_quote_inbox_browser import CARD, _ask, _setup
from tests.pages.test_stage_browser import word
from tests.signaling.rtc_client import RtcClient

pytestmark = pytest.mark.browser
Start = Callable[..., Awaitable[RunningApp]]
PHONE = {"width": 390, "height": 844}
# (viewport, the first page's language, the second's)
LAYOUTS = [pytest.param(None, ("en", "ru"), id="desktop"),
           pytest.param(PHONE, ("ja", "zh"), id="phone")]
HOST = token("gobi-cashmere", MEETING, STAFF, "Gobi Cashmere")


async def _page(browser: Any, viewport: dict[str, int] | None, errors: list[str]) -> Any:
    """A page in its own browser context: its own cookies and remembered name."""
    context = await (browser.new_context(viewport=viewport) if viewport
                     else browser.new_context())
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


async def _texts(page: Any, selector: str) -> str:
    return " ".join(await page.locator(selector).all_text_contents())


async def _set_name(page: Any, name: str) -> None:
    await until(lambda: page.locator("#name-form").is_visible(), "the name form")
    await page.fill("#name-text", name)
    await page.press("#name-text", "Enter")


def _layout(viewport: dict[str, int] | None) -> str:
    return "phone" if viewport else "desktop"


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_meeting_guest_and_host_set_their_names(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str]) -> None:
    running = await pavilion_app(demo=True)
    host_lang, guest_lang = langs
    errors: list[str] = []
    host, guest = await _page(browser, viewport, errors), await _page(browser, viewport, errors)
    await host.goto(f"{running.url}/meeting/{MEETING}?lang={host_lang}&token={HOST}")
    await until(lambda: host.locator("#door").is_visible(), "the host's waiting-room panel")
    # the demo's buyer: a default name, shown to the host in the host's language
    await guest.goto(f"{running.url}/meeting/{MEETING}?lang={guest_lang}&token="
                     + token("buyer-0042", MEETING, GUEST, "Buyer 0042"))
    buyer = word(host_lang, "Buyer %(num)s", num="0042")
    knock = host.locator("#knocks li", has_text=buyer)
    await until(knock.count, "the buyer's knock under their name in the host's language")
    await knock.locator("button.primary").click()  # admit
    await until(lambda: guest.locator("#name-form").is_visible(), "the guest's name form")
    assert await guest.input_value("#name-text") == ""  # a default is no name of theirs
    assert await guest.get_attribute("#name-text", "placeholder") == word(
        guest_lang, "Buyer %(num)s", num="0042")
    await guest.fill("#chat-text", "Hello from Ulaanbaatar")
    await guest.press("#chat-text", "Enter")
    line = host.locator("#chat-log li", has_text="Hello from Ulaanbaatar").locator(".who")
    await until(line.count, "the guest's chat line at the host")
    assert await line.text_content() == buyer

    await _set_name(guest, "Batbold Dorj")
    await until(lambda: _has(line, "Batbold Dorj"), "the guest's new name at the host")
    tile = host.locator('#tiles figure[data-identity="buyer-0042"] figcaption')
    await until(lambda: _has(tile, "Batbold Dorj"), "the guest's name on the host's tile")

    await _set_name(host, "Gobi Cashmere — Saraa")
    theirs = guest.locator('#tiles figure[data-identity="gobi-cashmere"] figcaption')
    await until(lambda: _has(theirs, "Gobi Cashmere — Saraa"), "the host's name at the guest")
    await guest.reload()  # remembered: the reloaded page joins under the name it set
    await until(lambda: guest.locator("#name-form").is_visible(), "the name form after reload")
    assert await guest.input_value("#name-text") == "Batbold Dorj"
    await shoot(guest, f"meeting-name-{_layout(viewport)}-{guest_lang}")
    for page, lang in ((host, host_lang), (guest, guest_lang)):
        if lang != "en":
            assert await untranslated(page) == [], lang
    assert errors == []


async def _has(locator: Any, text: str) -> bool:
    return text in " ".join(await locator.all_text_contents())


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_the_studio_host_sets_a_name_viewers_see(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str]) -> None:
    running = await pavilion_app(demo=True)
    studio_lang, viewer_lang = langs
    errors: list[str] = []
    studio, viewer = await _page(browser, viewport, errors), await _page(browser, viewport, errors)
    host = token("changbai-foods", LIVE_BROADCAST, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{LIVE_BROADCAST}?lang={studio_lang}&token={host}")
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang={viewer_lang}")
    await until(lambda: viewer.locator("#name-form").is_visible(), "the viewer's page")
    await _set_name(studio, "Li Wei")
    await studio.fill("#chat-text", "Welcome, everyone")
    await studio.press("#chat-text", "Enter")
    line = viewer.locator("#chat-log li", has_text="Welcome, everyone").locator(".who")
    await until(line.count, "the host's chat line at the viewer")
    assert await line.text_content() == "Li Wei"  # the name they chose, not the company's
    people = viewer.locator('#people li[data-identity="changbai-foods"]')
    await until(lambda: _has(people, "Li Wei"), "the host's name in the viewer's people list")
    await shoot(studio, f"studio-name-{_layout(viewport)}-{studio_lang}")
    for page, lang in ((studio, studio_lang), (viewer, viewer_lang)):
        if lang != "en":
            assert await untranslated(page) == [], lang
    assert errors == []


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_a_visitors_default_name_in_each_readers_language(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str]) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    visitor = await _page(browser, viewport, errors)
    await visitor.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=ko")
    await until(lambda: visitor.locator("#name-form").is_visible(), "the visitor's page")
    await visitor.fill("#chat-text", "안녕하세요")
    await visitor.press("#chat-text", "Enter")
    placeholder = await visitor.get_attribute("#name-text", "placeholder") or ""
    number = re.fullmatch(word("ko", "Visitor %(num)s", num=r"(\d{4})"), placeholder)
    assert number is not None, placeholder  # the visitor's own default, in their language
    identity = await visitor.evaluate("() => window.pavilion.connection.identity")
    for lang in langs:
        reader = await _page(browser, viewport, errors)
        await reader.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang={lang}")
        line = reader.locator(f'#chat-log li .who[data-name-of="{identity}"]')
        await until(line.count, f"the visitor's chat line at a {lang} reader")
        shown = word(lang, "Visitor %(num)s", num=number.group(1))
        assert await line.first.text_content() == shown  # the same person and number
        person = reader.locator(f'#people li[data-identity="{identity}"]')
        await until(lambda: _has(person, shown), "the visitor in the people list")  # noqa: B023
        if lang != "en":
            assert await untranslated(reader) == [], lang
        await shoot(reader, f"visitor-default-name-{_layout(viewport)}-{lang}")
    assert errors == []


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_a_visitor_keeps_their_identity_and_quotes_and_a_ban(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str]) -> None:
    running = await pavilion_app(demo=True)
    await _setup(running)
    lang = langs[1]
    errors: list[str] = []
    viewer = await _page(browser, viewport, errors)
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang={lang}")
    await _ask(viewer, {"name": "Anna", "email": "anna@example.com"}, "20 t, FOB Dalian?")
    await viewer.click("#quote-form button[type=submit]")
    await until(lambda: _has(viewer.locator("#my-quotes"), "20 t, FOB Dalian?"), "my request")
    identity = await viewer.evaluate("() => window.pavilion.connection.identity")

    tab = await viewer.context.new_page()  # a new tab of the same browser: the same visitor
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    await tab.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang={lang}")
    await until(lambda: _has(tab.locator("#my-quotes"), "20 t, FOB Dalian?"),
                "my quote request in a new tab")
    assert await tab.evaluate("() => window.pavilion.connection.identity") == identity
    assert await tab.locator(f"#products li[data-product={CARD}]").count() == 1
    await shoot(tab, f"visitor-new-tab-{_layout(viewport)}-{lang}")
    await tab.close()

    host = await RtcClient.connect(running, token("changbai-foods", LIVE_BROADCAST, STAFF))
    await host.ok("join", {"room": LIVE_BROADCAST})
    await host.ok("participant.remove", {"room": LIVE_BROADCAST, "identity": identity})
    removed = word(lang, "You were removed from this room.")
    await until(lambda: _has(viewer.locator("#notice"), removed), "the removal notice")
    await viewer.reload()  # a reload is the same visitor: still refused
    await until(lambda: _has(viewer.locator("#notice"), removed), "the ban after a reload")
    assert await viewer.evaluate("() => window.pavilion.connection.identity") == identity
    await host.close()
    if lang != "en":
        assert await untranslated(viewer) == [], lang
    assert [e for e in errors if "banned" not in e] == []
