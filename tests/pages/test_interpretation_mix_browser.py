"""Issue 17 §5 in real Chromium, the listener's mix without a booth: the page modules that
duck the floor (web/static/rooms/mixer.js, ducking.js) run in a real Web Audio graph fed by two
real tones (the floor at 440 Hz, an "interpreter" at 1 kHz), and the page's own analysers tell
the sources apart by their FFT peak. The choice and the duck level survive a reload
(localStorage). The browser tests with the server's channels are in
test_interpretation_browser.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import until

pytestmark = pytest.mark.browser

# Two oscillators as MediaStreams (what a WebRTC track is to Web Audio), a Mixer taking the
# floor and the channel, and a switch to silence the interpreter (their oscillator's gain).
SETUP = """async () => {
  const { Mixer } = await import("/static/rooms/mixer.js");
  const tone = (hz) => {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    const out = ctx.createMediaStreamDestination();
    osc.frequency.value = hz;
    osc.connect(gain).connect(out);
    osc.start();
    return { stream: out.stream, gain };
  };
  const floor = tone(440);
  const booth = tone(1000);
  const mixer = new Mixer();
  mixer.setFloor([floor.stream]);
  window.mix = { mixer, floor, booth };
  return mixer.ctx.state;
}"""
STATE = """() => ({ floorGain: mix.mixer.floor.gain.value,
                   channelGain: mix.mixer.channel.gain.value,
                   floorHz: mix.mixer.peak("floor"), channelHz: mix.mixer.peak("channel"),
                   silent: mix.mixer.silent })"""


async def test_a_channel_ducks_the_floor_and_silence_lets_it_rise(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{running.url}/?lang=en")
    assert await page.evaluate(SETUP) == "running"

    async def state_is(check: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        state: dict[str, Any] = await page.evaluate(STATE)
        return state if check(state) else None

    # "original": the floor alone, at full level, its tone measured on the floor's analyser
    original = await until(lambda: state_is(lambda s: abs(s["floorHz"] - 440) < 15), "the floor")
    assert original["floorGain"] > 0.95 and original["channelGain"] < 0.05

    # a language: the channel plays (its own tone), the floor ducked to the listener's level
    await page.evaluate("""() => { mix.mixer.setChannel(mix.booth.stream);
                                   mix.mixer.set({ choice: "ko", level: 0.25 }); }""")
    ducked = await until(lambda: state_is(
        lambda s: abs(s["floorGain"] - 0.25) < 0.02 and abs(s["channelHz"] - 1000) < 15),
        "the floor ducked under the channel")
    assert ducked["channelGain"] > 0.95 and not ducked["silent"]

    # the level is adjustable live
    await page.evaluate("() => mix.mixer.set({ level: 0.1 })")
    await until(lambda: state_is(lambda s: abs(s["floorGain"] - 0.1) < 0.02), "the new level")

    # the interpreter goes silent: after a few seconds the floor rises back ...
    await page.evaluate("() => { mix.booth.gain.gain.value = 0; }")
    risen = await until(lambda: state_is(lambda s: s["silent"] and s["floorGain"] > 0.95),
                        "the floor to rise back while the interpreter is silent", tries=100)
    assert risen["silent"]
    # ... and ducks again the moment they speak
    await page.evaluate("() => { mix.booth.gain.gain.value = 1; }")
    await until(lambda: state_is(lambda s: not s["silent"] and abs(s["floorGain"] - 0.1) < 0.02),
                "the floor ducked again when the interpreter speaks")

    # back to "original": the floor alone again
    await page.evaluate("""() => { mix.mixer.setChannel(null);
                                   mix.mixer.set({ choice: "original" }); }""")
    await until(lambda: state_is(lambda s: s["floorGain"] > 0.95), "the floor restored")
    # the channel is let go (an idle Web Audio node stops updating its gain's value: Chromium
    # does not process a node without input, so what is checked is that it has none)
    assert await page.evaluate("""() => mix.mixer.channelSource === null
                                        && mix.mixer.channelElement.srcObject === null""")
    assert errors == []


REMEMBER = """async ([language, level]) => {
  const { Remembered } = await import("/static/rooms/ducking.js");
  return new Remembered().save({ language, level });
}"""
RECALL = """async () => {
  const { Remembered } = await import("/static/rooms/ducking.js");
  return new Remembered().load();
}"""


async def test_the_choice_and_the_level_survive_a_reload(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    await page.goto(f"{running.url}/?lang=ja")
    assert await page.evaluate(RECALL) == {"language": "original", "level": 0.2}  # defaults
    assert await page.evaluate(REMEMBER, ["mn", 0.35]) == {"language": "mn", "level": 0.35}
    await page.reload()
    assert await page.evaluate(RECALL) == {"language": "mn", "level": 0.35}
    # what is stored is checked again when read: a hand-edited entry cannot break the page
    await page.evaluate("""() => localStorage.setItem("pavilion:interpretation",
                                                      '{"language": "xx", "level": 9}')""")
    assert await page.evaluate(RECALL) == {"language": "original", "level": 1}
    await page.evaluate("() => localStorage.setItem('pavilion:interpretation', '{oops')")
    assert await page.evaluate(RECALL) == {"language": "original", "level": 0.2}


# A looping <audio> of a 300 Hz WAV made in the page: the HLS program's <video> stands for the
# floor the same way (a media element, not a MediaStream).
ELEMENT = """async () => {
  const { Mixer } = await import("/static/rooms/mixer.js");
  const rate = 48000, n = rate;
  const view = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + n * 2, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true); text(36, "data");
  view.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    view.setInt16(44 + i * 2, 12000 * Math.sin(2 * Math.PI * 300 * i / rate), true);
  }
  const audio = new Audio(URL.createObjectURL(new Blob([view.buffer], { type: "audio/wav" })));
  audio.loop = true;
  await audio.play();
  const mixer = new Mixer();
  mixer.addFloorElement(audio);
  mixer.addFloorElement(audio);  // twice is once (an element can be routed only once)
  mixer.set({ choice: "zh", level: 0.3 });
  window.mix = { mixer };
}"""


async def test_a_media_element_is_mixed_into_the_floor(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{running.url}/?lang=en")
    await page.evaluate(ELEMENT)

    async def floor_is_the_element() -> bool:
        s = await page.evaluate("() => [mix.mixer.peak('floor'), mix.mixer.floor.gain.value]")
        return abs(s[0] - 300) < 15 and s[1] > 0.95  # no channel yet: the floor at full

    await until(floor_is_the_element, "the element's tone on the floor")
    assert errors == []


PURE = """async () => {
  const d = await import("/static/rooms/ducking.js");
  const b = await import("/static/rooms/booth.js");
  const detector = new d.SilenceDetector({ threshold: 0.01, holdMs: 3000 });
  const feeds = [[0.2, 0], [0.001, 100], [0.001, 3000], [0.001, 3100], [0.5, 3200], [0.001, 3300]]
    .map(([level, at]) => detector.feed(level, at));
  const zh = { language: "zh", live: "a", muted: false, booth: ["a", "b"], listeners: 3 };
  const key = (code, tagName = "BODY") => b.isMuteKey({ code, target: { tagName } });
  return {
    gains: [d.floorGain("original", 0.2, false), d.floorGain("zh", 0.2, false),
            d.floorGain("zh", 0.2, true), d.floorGain("zh", 7, false),
            d.floorGain(null, 0.2, false)],
    levels: [d.clampLevel("0.35"), d.clampLevel(-1), d.clampLevel("x"), d.clampLevel(null)],
    feeds,
    live: d.liveLanguages([{ language: "mn", live: "x" }, { language: "zh", live: null },
                           { language: "en", live: "y" }, null]),
    rms: d.rms([0.5, -0.5, 0.5, -0.5]),
    peak: d.peakHz([-100, -50, -10, -60], 48000, 8),
    air: [b.airState(zh, "a", true), b.airState({ ...zh, muted: true }, "a", true),
          b.airState(zh, "b", true), b.airState(zh, "b", false), b.airState(zh, "c", true)],
    controls: [b.controls(zh, "a", true), b.controls(zh, "b", true),
               b.controls({ ...zh, booth: ["a"] }, "a", true)],
    keys: [key("Space"), key("KeyM"), key("KeyM", "INPUT"), key("KeyX")],
    empty: b.channelOf([], "ko"),
  };
}"""


async def test_the_pure_rules_of_ducking_and_the_booth(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    page = await browser.new_page()
    await page.goto(f"{running.url}/?lang=en")
    got = await page.evaluate(PURE)
    assert got["gains"] == [1, 0.2, 1, 1, 1]  # original, ducked, silent, clamped, nothing
    assert got["levels"] == [0.35, 0, 0.2, 0.2]
    # silence is believed after 3 s under the threshold; speech returns at once
    assert got["feeds"] == [False, False, False, True, False, False]
    assert got["live"] == ["en", "mn"]  # live only, in the fixed order zh en ja ko ru mn
    assert got["rms"] == 0.5 and got["peak"] == 12000  # bin 2 of an 8-point FFT at 48 kHz
    assert got["air"] == ["on_air", "muted", "standby", "off", "off"]
    assert got["controls"] == [{"handover": True, "take": False, "cough": True},
                               {"handover": False, "take": True, "cough": False},
                               {"handover": False, "take": False, "cough": True}]
    assert got["keys"] == [True, True, False, False]
    assert got["empty"] == {"language": "ko", "live": None, "muted": False, "booth": [],
                            "listeners": 0}
