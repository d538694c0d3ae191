"""Issue 15, "done when", on one node in real Chromium: an exhibitor goes live from the studio
(Chromium's fake camera and microphone), presses Record, chats, stops; the file on disk is what
ffprobe and ffmpeg accept (the publisher's video and Opus, no decode error, as long as the
recording ran), the chat is on the timeline, and the replay page plays it with that chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.recording import RecordingState
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, token, until
from tests.streaming.media_probe import codecs, decode_errors, duration
from web.keys import BACKEND_KEY

pytestmark = pytest.mark.browser
RECORD_S = 5.0  # media recorded: long enough for several keyframes and clusters


async def test_a_studio_broadcast_is_recorded_and_replayed_with_its_chat(
        pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, tmp_path: Path
) -> None:
    running = await pavilion_app(demo=True, recordings={"dir": str(tmp_path)})
    store = running.app[BACKEND_KEY].store
    errors: list[str] = []
    studio = await browser.new_page()
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", LIVE_BROADCAST, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token={host}&lang=en")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")

    await studio.click("#rec-toggle")
    await until(lambda: store.list_recordings(room=LIVE_BROADCAST), "the recording's record")
    await studio.fill("#chat-text", "recorded hello")
    await studio.click("#chat-form button")
    await asyncio.sleep(RECORD_S)  # media flows into the recording meanwhile
    await studio.click("#rec-toggle")

    async def finished() -> bool:
        [rec] = await store.list_recordings(room=LIVE_BROADCAST)
        return rec.state is RecordingState.DONE and bool(rec.files)

    await until(finished, "the recording to finish")
    [rec] = await store.list_recordings(room=LIVE_BROADCAST)
    [main] = [f for f in rec.files if f.participant == "changbai-foods"][:1]
    path = tmp_path / rec.id / main.name
    kinds = codecs(path)
    assert "opus" in kinds and ({"vp8", "h264"} & set(kinds)), kinds
    assert decode_errors(path) == ""
    # the file lasts as long as the recording ran, less what came before the first keyframe
    assert 0.7 * rec.duration_s <= duration(path) <= rec.duration_s + 0.5, (
        duration(path), rec.duration_s)
    timeline = await store.read_timeline(rec.id, limit=100)
    assert any("recorded hello" in str(entry) for entry in timeline)

    replay = await browser.new_page()
    replay.on("pageerror", lambda exc: errors.append(str(exc)))
    await replay.goto(f"{running.url}/replay/{rec.id}?token={host}&lang=en")
    await replay.evaluate("document.getElementById('video').muted = true")
    await replay.evaluate("document.getElementById('video').play()")
    await until(lambda: replay.evaluate("document.getElementById('video').currentTime > 1.5"),
                "the replay to play")
    await replay.evaluate("document.getElementById('video').currentTime = 1e9")
    await until(lambda: replay.locator("#chat-log", has_text="recorded hello").count(),
                "the recorded chat in the replay")
    assert errors == []
