"""Forum in real Chromium: an audience member raises a hand, the moderator invites them to the
stage, and their camera's video reaches the rest of the audience."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_FORUM
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import (
    STAFF,
    shoot,
    token,
    unlabeled,
    until,
    untranslated,
    video_flows,
)

pytestmark = pytest.mark.browser
ROOM = LIVE_FORUM


async def test_raise_hand_promote_and_the_audience_sees_the_speaker(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    errors: list[str] = []
    pages = []
    for _ in range(3):
        page = await browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    moderator, speaker, audience = pages
    await moderator.goto(f"{running.url}/forum/{ROOM}?lang=zh&token="
                         + token("moderator-1", ROOM, STAFF, "主持人"))
    await until(lambda: moderator.locator("#moderation").is_visible(), "moderator panel")
    await speaker.goto(f"{running.url}/forum/{ROOM}?lang=ru")
    await audience.goto(f"{running.url}/forum/{ROOM}?lang=ja")
    await until(lambda: speaker.locator("#hand").is_visible(), "the raise-hand button")

    await speaker.click("#hand")
    hand = moderator.locator("#hands li button")
    await until(hand.count, "the raised hand at the moderator")
    await hand.first.click()  # invite to stage

    await video_flows(audience)
    await video_flows(moderator)
    assert await audience.locator("#stage figure").count() == 1
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
    assert await unlabeled(speaker) == []
    assert await unlabeled(audience) == []
    assert await unlabeled(moderator) == []
    assert await untranslated(audience) == []
    assert await untranslated(moderator) == []
    await shoot(audience, "forum-ja")
    await shoot(moderator, "forum-moderator-zh")

    await moderator.locator("#speakers li button").first.click()  # back to the audience

    async def left_stage() -> bool:
        return await audience.locator("#stage figure").count() == 0

    await until(left_stage, "the demoted speaker's tile to leave the stage")
    await until(lambda: speaker.locator("#hand").is_visible(), "the hand button again")
    assert errors == []
