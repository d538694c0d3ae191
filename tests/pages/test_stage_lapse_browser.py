"""Issue 12, point 9's gap in real Chromium (desktop and a 390×844 phone, two languages each):
an invitation to the stage that lapses is cleared, the moderator reads that it expired and the
"Invited" mark goes at once; the invited visitor's preview closes. The invitation's lifetime
runs on the service's clock (no sleeping through the 120 s)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.clock import FakeClock
from rooms.demo import LIVE_FORUM
from rooms.stage import INVITE_TTL_S
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, token, until, untranslated
from tests.pages.test_stage_browser import _has_text, _pages, word
from web.keys import BACKEND_KEY, HUB_KEY

pytestmark = pytest.mark.browser
Start = Callable[..., Awaitable[RunningApp]]
PHONE = {"width": 390, "height": 844}
LAYOUTS = [pytest.param(None, ("en", "ru"), id="desktop"),
           pytest.param(PHONE, ("ja", "zh"), id="phone")]
NAME = "Olga Petrova"


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_a_lapsed_invitation_leaves_the_moderators_list(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str]) -> None:
    running = await pavilion_app(demo=True)
    clock = FakeClock(time.time())
    running.app[BACKEND_KEY].service.clock = clock
    mod_lang, vis_lang = langs
    errors: list[str] = []
    moderator, visitor = await _pages(browser, viewport, 2, errors)
    await moderator.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={mod_lang}&token="
                         + token("moderator-1", LIVE_FORUM, STAFF, "Chair"))
    await visitor.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={vis_lang}")
    await until(lambda: visitor.locator("#name-form").is_visible(), "the visitor's page")
    await visitor.fill("#name-text", NAME)
    await visitor.press("#name-text", "Enter")
    await until(lambda: visitor.locator("#hand").is_visible(), "the raise-hand button")
    await visitor.click("#hand")
    hand = moderator.locator("#hands li", has_text=NAME)
    await until(hand.count, "the raised hand at the moderator")
    await hand.locator("button").first.click()  # invite
    await until(lambda: visitor.locator("#invite").is_visible(), "the invitation")
    invited = word(mod_lang, "Invited")
    await until(lambda: _has_text(hand, invited), "the invited mark")

    clock.advance(INVITE_TTL_S + 1)
    await running.app[HUB_KEY].lapse_invitations()
    told = word(mod_lang, "The invitation to the stage for %(name)s has expired.", name=NAME)
    await until(lambda: _has_text(moderator.locator("#notice"), told), "the lapse, told")
    assert not await _has_text(moderator.locator("#hands"), invited)  # the mark went at once
    await until(lambda: visitor.locator("#invite").is_hidden(), "the visitor's preview closed")
    stored = await running.app[BACKEND_KEY].store.get_participant(
        LIVE_FORUM, await visitor.evaluate("() => window.pavilion.connection.identity"))
    assert stored is not None and stored.invited_until == 0
    for page, lang in ((moderator, mod_lang), (visitor, vis_lang)):
        if lang != "en":
            assert await untranslated(page) == [], lang
    assert errors == []
