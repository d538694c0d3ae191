"""Forum in real Chromium: two audience members raise hands, the moderator invites both to the
stage, and the audience sees one tile per speaker, each with THAT speaker's video."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_FORUM
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import (
    STAFF,
    shoot,
    tiles_flow,
    token,
    unlabeled,
    until,
    untranslated,
    video_flows,
)
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
ROOM = LIVE_FORUM


async def accept(page: Any) -> None:
    """The invited person accepts the invitation to the stage (issue 12: asked first)."""
    await until(lambda: page.locator("#invite-accept").is_visible(), "the invitation")
    await page.click("#invite-accept")


async def test_two_speakers_promoted_and_the_audience_sees_each_one(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    plane = running.app[MEDIA_KEY]
    errors: list[str] = []
    pages = []
    for _ in range(4):
        page = await browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    moderator, speaker, second, audience = pages
    await moderator.goto(f"{running.url}/forum/{ROOM}?lang=zh&token="
                         + token("moderator-1", ROOM, STAFF, "主持人"))
    await until(lambda: moderator.locator("#moderation").is_visible(), "moderator panel")
    await speaker.goto(f"{running.url}/forum/{ROOM}?lang=ru")
    await second.goto(f"{running.url}/forum/{ROOM}?lang=ko")
    await audience.goto(f"{running.url}/forum/{ROOM}?lang=ja")

    async def no_hands() -> bool:
        return await moderator.locator("#hands li").count() == 0

    speakers = []
    for page in (speaker, second):  # each raises a hand, the moderator invites them up
        await until(lambda page=page: page.locator("#hand").is_visible(), "the raise-hand button")
        await page.click("#hand")
        hand = moderator.locator("#hands li")
        await until(hand.count, "the raised hand at the moderator")
        speakers.append(await hand.first.get_attribute("data-identity"))
        await hand.first.locator("button").click()  # invite to stage
        await accept(page)
        await until(no_hands, "the promoted hand to leave the moderator's list")

    await asyncio.gather(tiles_flow(audience, plane, "speaker", 2),
                         tiles_flow(moderator, plane, "speaker", 2),
                         tiles_flow(speaker, plane, "speaker", 1))  # a speaker sees the other
    shown = audience.locator("#stage figure")
    assert await shown.count() == 2
    assert {await shown.nth(i).get_attribute("data-identity") for i in range(2)} == set(speakers)
    assert await speaker.locator("#hand").is_hidden()

    await audience.fill("#ask-text", "物流の期間はどのくらいですか？")
    await audience.press("#ask-text", "Enter")
    question = moderator.locator("#questions li", has_text="物流の期間")
    await until(question.count, "the question at the moderator")
    await question.locator("button").last.click()  # mark answered

    async def closed() -> bool:
        return await audience.locator("#questions li").count() == 0

    await until(closed, "the answered question to leave the audience's list")

    assert await untranslated(speaker) == []
    assert await untranslated(second) == []
    assert await unlabeled(speaker) == []
    assert await unlabeled(audience) == []
    assert await unlabeled(moderator) == []
    assert await untranslated(audience) == []
    assert await untranslated(moderator) == []
    await shoot(audience, "forum-ja")
    await shoot(moderator, "forum-moderator-zh")

    demoted = moderator.locator(f'#speakers li[data-identity="{speakers[0]}"] button')
    await demoted.first.click()  # back to the audience

    async def one_left() -> bool:
        figures = audience.locator("#stage figure")
        return (await figures.count() == 1
                and await figures.first.get_attribute("data-identity") == speakers[1])

    await until(one_left, "the demoted speaker's tile to leave the stage, the other to stay")
    await until(lambda: speaker.locator("#hand").is_visible(), "the hand button again")
    await video_flows(audience)  # the remaining speaker still plays
    assert errors == []


# A machine without a camera, at the browser's API: any request for video finds no device.
NO_CAMERA = """
(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => constraints && constraints.video
    ? Promise.reject(new DOMException("Requested device not found", "NotFoundError"))
    : real(constraints);
})();
"""


async def test_a_speaker_without_a_camera_goes_on_stage_and_is_heard(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    moderator, speaker, audience = [await browser.new_page() for _ in range(3)]
    for page in (moderator, speaker, audience):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await speaker.add_init_script(NO_CAMERA)
    await moderator.goto(f"{running.url}/forum/{ROOM}?lang=en&token="
                         + token("moderator-1", ROOM, STAFF, "Host"))
    await speaker.goto(f"{running.url}/forum/{ROOM}?lang=mn")
    await audience.goto(f"{running.url}/forum/{ROOM}?lang=ko")
    await until(lambda: speaker.locator("#hand").is_visible(), "the raise-hand button")
    await speaker.click("#hand")
    hand = moderator.locator("#hands li")
    await until(hand.count, "the raised hand at the moderator")
    who = await hand.first.get_attribute("data-identity")
    await hand.first.locator("button").click()  # invite to stage
    await accept(speaker)  # the preview falls back to the microphone alone

    tile = audience.locator(f'#stage figure.audio-only[data-identity="{who}"]')
    await until(tile.count, "a microphone-only tile for the speaker at the audience")

    async def heard() -> dict[str, Any] | None:
        stats = await audience.evaluate("() => window.pavilion.inboundAudio()")
        mine = [s for s in stats if s["label"] == f"speaker:{who}" and s["received"] >= 50]
        return mine[0] if mine else None

    first = await until(heard, "the speaker's audio at the audience")
    await asyncio.sleep(1.0)
    later = await heard()
    assert later is not None and later["received"] > first["received"], (first, later)
    notice = await speaker.locator("#notice").text_content()
    assert notice and "микрофон" in notice  # told, in Mongolian, that only the mic is on
    assert errors == []
