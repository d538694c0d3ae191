"""Issue 16 §5 in real Chromium: a broadcast that stopped a moment ago plays on its replay page
from its HLS segments (hls.js over the VOD playlist, every URI signed for the exhibitor):
the whole duration from the first segment, ``currentTime`` advancing, seekable back to the
start; the same page without a token is the not-found page (the replay is not published)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hls.door import Start
from tests.hls.replayed import EXHIBITOR, broadcast_and_stop
from tests.pages.helpers import STAFF, token, until

pytestmark = pytest.mark.browser
VIDEO = "document.getElementById('video')"
PLAY = f"(v => {{ v.muted = true; return v.play(); }})({VIDEO})"


async def test_the_replay_page_plays_a_stopped_broadcasts_hls(pavilion_app: Start,
                                                               browser: Any) -> None:
    app, replay, _ = await broadcast_and_stop(pavilion_app)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token(EXHIBITOR, "show", STAFF)
    response = await page.goto(f"{app.url}/replay/{replay.id}?lang=ko&token={host}")
    assert response.status == 200
    await until(lambda: page.evaluate(f"{VIDEO}.readyState >= 1"), "the replay's metadata")
    length = await page.evaluate(f"{VIDEO}.duration")
    assert abs(length - replay.duration_s) < 1.0, (length, replay.duration_s)
    assert await page.evaluate("window.pavilion.replay.player() !== null")  # hls.js, not src
    await page.evaluate(PLAY)
    await until(lambda: page.evaluate(f"{VIDEO}.currentTime > 1.5"), "playback advancing")
    await page.evaluate(f"{VIDEO}.currentTime = 0.2")
    await until(lambda: page.evaluate(f"{VIDEO}.currentTime < 1.2"), "seek to the start")
    await until(lambda: page.evaluate(f"{VIDEO}.currentTime > 1.3"), "playing from the start")
    assert errors == []
    anonymous = await browser.new_page()
    response = await anonymous.goto(f"{app.url}/replay/{replay.id}?lang=ko")
    assert response.status == 404
