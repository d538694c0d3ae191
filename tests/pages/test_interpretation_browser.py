"""Issue 17 §5 and §9 in real Chromium against the real server: a forum whose floor speaker
sends 440 Hz (and video) and two aiortc interpreters send 660 Hz into zh and 880 Hz into en
(tests/interpretation/peers.py). A listener's forum page offers the languages live now, plays
the chosen channel through its Web Audio mix with the floor ducked, and the page's own analysers
tell the voices apart by their FFT peak; "original" restores the floor; the choice and the duck
level survive a reload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.room import RoomKind
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.interpretation.peers import Talker
from tests.pages.helpers import shoot, unlabeled, until, untranslated
from tests.signaling.rtc_client import GUEST, HOST, RtcClient, make_room, token

pytestmark = pytest.mark.browser
ROOM = "interpreted-forum"
INTERPRETER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT, Grant.INTERPRET)
MIX = """() => { const m = window.pavilion?.listener?.mixer;
  return m ? { floorHz: m.peak("floor"), channelHz: m.peak("channel"),
               floorGain: m.floor.gain.value, channel: m.channelSource !== null,
               silent: m.silent } : null; }"""


async def publisher(app: RunningApp, tok: str, hz: int, **extra: Any) -> tuple[RtcClient, Talker]:
    client = await RtcClient.connect(app, tok)
    await client.ok("join", {"room": ROOM})
    talker = Talker(hz, video=not extra)
    reply = await client.ok("publish", {"room": ROOM, "sdp": await talker.offer(), **extra})
    await talker.accept(reply["sdp"])
    return client, talker


def interpreter(identity: str, languages: list[str]) -> str:
    return mint(TEST_SECRET, identity=identity, room=ROOM, grants=INTERPRETER, ttl_s=3600,
                languages=languages, name=identity)


def near(value: float, target: float, within: float) -> bool:
    return abs(value - target) <= within


async def test_a_listener_hears_each_language_over_the_ducked_floor(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, ROOM, RoomKind.FORUM)
    closing: list[Any] = []
    try:
        for tok, hz, extra in ((token("speaker", ROOM, GUEST, name="Ли Вэй"), 440, {}),
                               (interpreter("zh1", ["ko", "zh"]), 660, {"channel": "zh"}),
                               (interpreter("en1", ["en", "ru"]), 880, {"channel": "en"})):
            closing += await publisher(app, tok, hz, **extra)
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{app.url}/forum/{ROOM}?lang=ko")

        async def offered() -> bool:
            values = await page.locator("#interp-language option").evaluate_all(
                "(os) => os.filter((o) => !o.disabled).map((o) => o.value)")
            return values == ["original", "zh", "en"]  # the live ones, in a fixed order

        await until(offered, "the languages live now in the picker")
        assert await page.locator("#interpretation").is_visible()

        async def mix(check: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
            state = await page.evaluate(MIX)
            return state if state and check(state) else None

        await page.select_option("#interp-language", "zh")
        zh = await until(lambda: mix(lambda s: near(s["channelHz"], 660, 15)
                                     and near(s["floorHz"], 440, 15)
                                     and near(s["floorGain"], 0.2, 0.02)),
                         "the zh interpreter over the floor ducked to 20 %")
        assert zh["channel"]
        await page.fill("#interp-duck", "40")  # the listener raises the floor under the voice
        await until(lambda: mix(lambda s: near(s["floorGain"], 0.4, 0.02)), "the new level")
        await page.select_option("#interp-language", "en")
        await until(lambda: mix(lambda s: near(s["channelHz"], 880, 15)
                                and near(s["floorGain"], 0.4, 0.02)), "the en interpreter")
        assert await page.locator("#interp-status").inner_text() != ""
        await shoot(page, "forum-interpretation-ko")
        assert await untranslated(page) == []
        assert await unlabeled(page) == []

        await page.reload()  # the choice and the level are remembered
        await until(lambda: mix(lambda s: near(s["channelHz"], 880, 15)
                                and near(s["floorHz"], 440, 15)
                                and near(s["floorGain"], 0.4, 0.02)),
                    "the remembered en channel after a reload")
        assert await page.input_value("#interp-language") == "en"
        assert await page.input_value("#interp-duck") == "40"

        # the moderator mutes the en interpreter: the listener's floor rises back (silence),
        # and comes down again when the moderator lets them speak
        moderator = await browser.new_page()
        moderator.on("pageerror", lambda exc: errors.append(str(exc)))
        await moderator.goto(f"{app.url}/forum/{ROOM}?lang=mn&token="
                             + token("chair", ROOM, HOST))
        mute = moderator.locator("#channel-moderation li[data-language=en] button")
        await until(mute.count, "the en channel in the moderator's panel")
        await mute.click()
        await until(lambda: mix(lambda s: s["silent"] and s["floorGain"] > 0.95),
                    "the floor back up while the en channel is muted")
        await until(lambda: moderator.locator(
            "#channel-moderation li[data-language=en] .badge").count(), "the muted mark")
        await mute.click()
        await until(lambda: mix(lambda s: not s["silent"] and near(s["floorGain"], 0.4, 0.02)),
                    "the floor ducked again")
        assert await untranslated(moderator) == []

        await page.select_option("#interp-language", "original")
        await until(lambda: mix(lambda s: not s["channel"] and s["floorGain"] > 0.95
                                and near(s["floorHz"], 440, 15)), "the floor alone again")
        assert not await page.evaluate("() => window.pavilion.peers.has('channel:en')")
        assert errors == []
    finally:
        for thing in reversed(closing):
            await thing.close()
