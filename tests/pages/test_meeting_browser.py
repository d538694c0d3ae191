"""Trade meeting in real Chromium: two buyers knock, wait, the host admits them, and each of the
three sees the two others, each tile with THAT person's video."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import MEETING
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import (
    GUEST,
    STAFF,
    shoot,
    tiles_flow,
    token,
    unlabeled,
    until,
    untranslated,
)
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser


async def test_knock_admit_and_all_three_see_each_other(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    plane = running.app[MEDIA_KEY]
    errors: list[str] = []
    host = await browser.new_page()
    guest = await browser.new_page()
    other = await browser.new_page()
    for page in (host, guest, other):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(f"{running.url}/meeting/{MEETING}?lang=ko&token="
                    + token("gobi-cashmere", MEETING, STAFF, "Gobi Cashmere"))
    await until(lambda: host.locator("#door").is_visible(), "the host's waiting-room panel")
    await guest.goto(f"{running.url}/meeting/{MEETING}?lang=mn&token="
                     + token("buyer-7", MEETING, GUEST, "Batbold"))
    await until(lambda: guest.locator("#waiting").is_visible(), "the guest in the waiting room")
    assert await guest.locator("#meeting-controls").is_hidden()
    await shoot(guest, "meeting-waiting-mn")
    await other.goto(f"{running.url}/meeting/{MEETING}?lang=ja&token="
                     + token("buyer-8", MEETING, GUEST, "Sato"))

    for name in ("Batbold", "Sato"):
        knock = host.locator("#knocks li", has_text=name)
        await until(knock.count, f"{name}'s knock at the host")
        await knock.locator("button.primary").click()  # admit

    await asyncio.gather(*(tiles_flow(page, plane, "meeting", 2) for page in (host, guest, other)))
    for page in (host, guest, other):
        assert await page.locator("#tiles figure").count() == 3  # two others and me

    await guest.click("#mic")
    assert await guest.locator("#mic").get_attribute("aria-pressed") == "false"
    assert await untranslated(guest) == []
    assert await unlabeled(guest) == []
    assert await unlabeled(host) == []
    assert await untranslated(host) == []
    assert await untranslated(other) == []
    await shoot(host, "meeting-ko")

    await other.click("#leave")  # a guest leaving takes their tile away, the meeting goes on

    async def two_tiles_each() -> bool:
        counts = [await page.locator("#tiles figure").count() for page in (host, guest)]
        return counts == [2, 2]

    await until(two_tiles_each, "Sato's tile to leave the host's and Batbold's rooms")
    assert await host.locator('#tiles figure[data-identity="buyer-8"]').count() == 0
    await tiles_flow(guest, plane, "meeting", 1)

    await host.click("#end-meeting")  # the host ends the meeting for everyone (leaving does not)
    await guest.locator("#notice").filter(has_text="өрөө").wait_for(timeout=10_000)
    assert await guest.locator("#meeting-controls").is_hidden()
    assert await untranslated(guest) == []
    assert errors == []
