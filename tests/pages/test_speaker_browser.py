"""The active speaker in real Chromium (issue 14 §5): a meeting's host and guest publish from
Chromium's fake microphone (a beep: "speaking"); when the guest turns the microphone off, both
pages highlight the host's tile, as the server decided from the RFC 6464 levels Chromium sends;
when the host turns theirs off and the guest's comes back, the highlight moves to the guest.

Chromium's fake device beeps briefly twice a second, far less than speech: this node counts
20 ms of loud time in a window as speech and needs no lead (``[media.speaker]``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import MEETING
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import GUEST, STAFF, tiles_flow, token, until
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
BEEPS = {"min_speech_ms": 20, "margin_ms": 0, "window_ms": 1_000, "release_ms": 1_500}


async def highlighted(page: Any) -> list[str]:
    return await page.locator("#tiles figure.speaking").evaluate_all(
        "(tiles) => tiles.map((t) => t.dataset.identity)")


async def test_every_page_highlights_the_speaker_the_server_names(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True, media={"speaker": BEEPS})
    plane = running.app[MEDIA_KEY]
    errors: list[str] = []
    host = await browser.new_page()
    guest = await browser.new_page()
    for page in (host, guest):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(f"{running.url}/meeting/{MEETING}?lang=en&token="
                    + token("gobi-cashmere", MEETING, STAFF, "Gobi Cashmere"))
    await until(lambda: host.locator("#door").is_visible(), "the host's waiting-room panel")
    await guest.goto(f"{running.url}/meeting/{MEETING}?lang=en&token="
                     + token("buyer-7", MEETING, GUEST, "Batbold"))
    knock = host.locator("#knocks li", has_text="Batbold")
    await until(knock.count, "Batbold's knock at the host")
    await knock.locator("button.primary").click()
    for page in (host, guest):
        await tiles_flow(page, plane, "meeting", 1)

    await guest.click("#mic")  # the guest's microphone off: only the host beeps

    async def host_speaks() -> bool:
        return all([await highlighted(p) == ["gobi-cashmere"] for p in (host, guest)])

    await until(host_speaks, "the host's tile highlighted on both pages")
    await host.click("#mic")
    await guest.click("#mic")

    async def guest_speaks() -> bool:
        return all([await highlighted(p) == ["buyer-7"] for p in (host, guest)])

    await until(guest_speaks, "the guest's tile highlighted on both pages")
    assert await host.locator("#tiles figure.speaking").get_attribute("aria-label") == "Speaking"
    assert errors == []
