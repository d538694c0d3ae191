"""Issue 17 §3, §4, §8 in real Chromium: the interpreter console against the real server. The
floor speaker (440 Hz and video) and the live zh interpreter (660 Hz) are aiortc peers
(tests/interpretation/peers.py), an en interpreter sends 880 Hz; the console's interpreter is a
Chromium whose fake microphone plays a 1200 Hz WAV. A listener's forum page (another Chromium)
measures what it hears on the zh channel by the FFT peak of its own analyser."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rooms.room import RoomKind
from tests.fixtures.browser import CHROMIUM_FLAGS, chromium_path
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import shoot, unlabeled, until, untranslated
from tests.pages.test_interpretation_browser import ROOM, interpreter, near, publisher
from tests.signaling.rtc_client import GUEST, make_room, token

pytestmark = pytest.mark.browser
VOICE_HZ = 1200
HEARD = """() => { const m = window.pavilion?.listener?.mixer;
  return m ? { hz: m.peak("channel"), floorGain: m.floor.gain.value, silent: m.silent } : null; }"""
CONSOLE = """() => { const m = window.pavilion?.console?.mixer;
  return m ? { hz: m.peak("channel"), floorHz: m.peak("floor"), floorGain: m.floor.gain.value }
           : null; }"""


def sine_wav(path: Path, hz: int, seconds: float = 4.0, rate: int = 48_000) -> Path:
    """A mono 16-bit WAV of one tone (Chromium loops it as the fake microphone)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", round(12_000 * math.sin(
            2 * math.pi * hz * n / rate))) for n in range(int(seconds * rate))))
    return path


async def test_the_console_goes_on_air_by_handover_coughs_holds_and_relays(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    app = await pavilion_app(demo=False)
    await make_room(app, ROOM, RoomKind.FORUM)
    closing: list[Any] = []
    voice = sine_wav(tmp_path / "voice.wav", VOICE_HZ)
    async with async_playwright() as pw:
        booth_browser = await pw.chromium.launch(
            executable_path=chromium_path(),
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={voice}"])
        try:
            closing += await publisher(app, token("speaker", ROOM, GUEST, name="Ли Вэй"), 440)
            zh1, zh1_voice = await publisher(app, interpreter("zh1", ["ko", "zh"]), 660,
                                             channel="zh")
            closing += [zh1, zh1_voice]
            closing += await publisher(app, interpreter("en1", ["en", "zh"]), 880, channel="en")
            errors: list[str] = []
            listener = await browser.new_page()
            listener.on("pageerror", lambda exc: errors.append(str(exc)))
            await listener.goto(f"{app.url}/forum/{ROOM}?lang=ru")
            await until(lambda: listener.locator("#interp-language option[value=zh]").count(),
                        "zh in the listener's picker")
            await listener.select_option("#interp-language", "zh")

            async def hears(hz: float, what: str, **extra: Any) -> dict[str, Any]:
                async def check() -> dict[str, Any] | None:
                    s = await listener.evaluate(HEARD)
                    ok = s and near(s["hz"], hz, 20) and all(s[k] == v for k, v in extra.items())
                    return s if ok else None
                return await until(check, what)  # type: ignore[no-any-return]

            await hears(660, "the live zh interpreter at the listener")

            console = await booth_browser.new_page()
            console.on("pageerror", lambda exc: errors.append(str(exc)))
            await console.goto(f"{app.url}/interpret/{ROOM}?lang=ja&token="
                               + interpreter("zh2", ["zh", "mn"]))
            on_air = console.locator("#on-air")
            await until(lambda: console.locator("#stage figure").count(), "the stage tile")
            assert await console.locator("#booth-language option").evaluate_all(
                "(os) => os.map((o) => o.value)") == ["zh", "mn"]
            assert await on_air.get_attribute("data-state") == "off"

            async def air(state: str) -> bool:
                return await on_air.get_attribute("data-state") == state

            await console.click("#mic-start")
            await until(lambda: air("standby"), "standby behind the live partner")
            assert await console.locator("#handover").is_disabled()
            zh_row = console.locator("#channel-rows tr[data-language=zh]")
            await until(lambda: zh_row.locator(".listeners").inner_text(), "the listener count")
            assert await zh_row.locator(".listeners").inner_text() == "1"
            assert await console.locator("#partners li[data-identity=zh1]").count() == 1
            relay_options = console.locator("#relay option")
            options = "(os) => os.map((o) => o.value)"
            # on standby the own booth's channel can be heard (the partner on air) ...
            assert await relay_options.evaluate_all(options) == ["floor", "zh", "en"]

            await zh1.ok("channel.handover", {"room": ROOM, "language": "zh"})  # zh1 offers
            await until(lambda: console.locator("#take").is_enabled(), "take enabled")
            await console.click("#take")
            await until(lambda: air("on_air"), "ON AIR after taking the channel")
            # ... on air, not (one's own voice back)
            assert await relay_options.evaluate_all(options) == ["floor", "en"]
            await hears(VOICE_HZ, "the console's voice on the same zh channel")
            await shoot(console, "interpret-console-ja")

            await console.click("#cough")  # the cough button: listeners hear silence ...
            await until(lambda: air("muted"), "muted by the cough button")
            await hears(VOICE_HZ, "the floor back up", silent=True, floorGain=1)
            await console.click("#cough")  # ... then the voice, over the ducked floor again
            await until(lambda: air("on_air"), "back on air")
            await hears(VOICE_HZ, "the voice again", silent=False)

            await console.locator("body").click()  # hold Space: muted while held
            await console.keyboard.down("Space")
            await until(lambda: air("muted"), "muted while Space is held")
            await console.keyboard.up("Space")
            await until(lambda: air("on_air"), "on air when Space is released")

            # relay: the console hears the en channel instead of the floor
            await console.select_option("#relay", "en")
            await until(lambda: console.evaluate(CONSOLE), "the console's mix")

            async def relays() -> bool:
                s = await console.evaluate(CONSOLE)
                return bool(near(s["hz"], 880, 20) and s["floorGain"] < 0.05)

            await until(relays, "the en channel relayed instead of the floor")
            await console.select_option("#relay", "floor")
            await console.fill("#floor-volume", "50")

            async def floor_half() -> bool:
                s = await console.evaluate(CONSOLE)
                return bool(near(s["floorHz"], 440, 20) and near(s["floorGain"], 0.5, 0.03))

            await until(floor_half, "the floor at its own volume")
            assert await untranslated(console) == []
            assert await unlabeled(console) == []
            await console.set_viewport_size({"width": 390, "height": 844})  # a phone: no overflow
            assert await console.evaluate("() => document.documentElement.scrollWidth") <= 390
            assert errors == []
        finally:
            for thing in reversed(closing):
                await thing.close()
            await booth_browser.close()
