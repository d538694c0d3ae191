"""hls.js in Chromium plays a real broadcast through the node's packager and door (issue 16 §1,
§6): an aiortc H264 publisher, Low-Latency HLS with blocking reloads, ``currentTime``
advancing with no stall after the start and no hls.js error; the measured latency is hls.js's
own estimate (live edge − play position)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.hls.door import Start, put_rooms, room
from tests.pages.helpers import until
from tests.streaming.clients import publish
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

PLAY = """async () => {
  const { default: Hls } = await import('/static/vendor/hls.min.mjs');
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; document.body.append(video);
  window.report = { errors: [], stalls: 0 };
  video.addEventListener('waiting', () => window.report.stalls++);
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_, d) => window.report.errors.push(`${d.details}:${d.fatal}`));
  hls.loadSource('/hls/show/index.m3u8'); hls.attachMedia(video);
  window.hls = hls; window.video = video;
}"""
STATE = """() => ({ t: window.video.currentTime, latency: window.hls.latency,
                 stalls: window.report.stalls, errors: window.report.errors,
                 audio: window.hls.audioTracks.length, width: window.video.videoWidth })"""


async def test_hls_js_plays_a_live_broadcast_from_the_packager(
        pavilion_app: Start, browser: Any) -> None:
    app = await pavilion_app(demo=False, hls={"segment_s": 1.0, "part_s": 0.25})
    await put_rooms(app, room("show"))
    plane = app.app[MEDIA_KEY]
    publisher = await publish(plane, "show", "exhibitor-co", codec="h264", size=(320, 240),
                              frames=90)

    async def ready() -> bool:
        feed = plane.hls("show")
        return feed is not None and feed.playlist("index.m3u8", low_latency=True) is not None

    await until(ready, "the room's HLS", tries=300)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{app.url}/healthz")  # a page of the same origin as the module
    await page.evaluate(PLAY)

    async def playing() -> bool:
        return bool((await page.evaluate(STATE))["t"] > 0.5)

    await until(playing, "hls.js to play", tries=300)
    start = await page.evaluate(STATE)
    await asyncio.sleep(6)
    end = await page.evaluate(STATE)
    assert end["t"] - start["t"] > 3.0, (start, end)  # it plays on (loosely: a busy machine)
    assert end["stalls"] == start["stalls"], (start, end)  # no stall once playing
    assert end["errors"] == [] and errors == []
    assert (end["audio"], end["width"]) == (1, 320)
    assert 0 < end["latency"] < 10, end  # live, not a replay (the figure: docs/hls.md §1)
    await publisher.close()
