"""Trade meeting in real Chromium: the buyer knocks, waits, the host admits, both see each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import MEETING
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import (
    GUEST,
    STAFF,
    shoot,
    token,
    unlabeled,
    until,
    untranslated,
    video_flows,
)

pytestmark = pytest.mark.browser


async def test_knock_admit_and_both_see_each_other(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    host = await browser.new_page()
    guest = await browser.new_page()
    for page in (host, guest):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(f"{running.url}/meeting/{MEETING}?lang=ko&token="
                    + token("gobi-cashmere", MEETING, STAFF, "Gobi Cashmere"))
    await until(lambda: host.locator("#door").is_visible(), "the host's waiting-room panel")
    await guest.goto(f"{running.url}/meeting/{MEETING}?lang=mn&token="
                     + token("buyer-7", MEETING, GUEST, "Batbold"))
    await until(lambda: guest.locator("#waiting").is_visible(), "the guest in the waiting room")
    assert await guest.locator("#meeting-controls").is_hidden()
    await shoot(guest, "meeting-waiting-mn")

    knock = host.locator("#knocks li", has_text="Batbold")
    await until(knock.count, "the knock at the host")
    await knock.locator("button.primary").click()  # admit

    await video_flows(guest)
    await video_flows(host)
    assert await guest.locator("#tiles figure").count() == 2
    assert await host.locator("#tiles figure").count() == 2

    await guest.click("#mic")
    assert await guest.locator("#mic").get_attribute("aria-pressed") == "false"
    assert await untranslated(guest) == []
    assert await unlabeled(guest) == []
    assert await unlabeled(host) == []
    assert await untranslated(host) == []
    await shoot(host, "meeting-ko")

    await host.click("#leave")  # the host leaving ends the meeting for everyone
    await guest.locator("#notice").filter(has_text="өрөө").wait_for(timeout=10_000)
    assert await guest.locator("#meeting-controls").is_hidden()
    assert await untranslated(guest) == []
    assert errors == []
