"""A studio in Chromium going live in a room with HLS publishes H264, which the node packages
as it arrives (issue 16 §2: no second encoder for H264 sources): the HLS rendition is the
browser's own H264, and the packager opens no video encoder."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import av
import m3u8
import pytest

from rooms.demo import LIVE_BROADCAST
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, token, until
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST


async def test_a_studio_with_hls_sends_h264_that_is_packaged_as_it_arrives(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[tuple[str, str, str]] = []
    create: Callable[..., Any] = av.CodecContext.create

    def spy(codec: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened.append((str(codec), mode, threading.current_thread().name))
        return create(codec, mode, *args, **kwargs)

    monkeypatch.setattr(av.CodecContext, "create", spy)
    running = await pavilion_app(demo=True, hls={"segment_s": 1.0, "part_s": 0.25,
                                                  "studio_h264": True})
    plane = running.app[MEDIA_KEY]
    studio = await browser.new_page()
    errors: list[str] = []
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", ROOM, STAFF, "Changbai Foods")
    await studio.goto(f"{running.url}/studio/{ROOM}?token={host}&lang=en")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")

    async def master() -> str | None:
        feed = plane.hls(ROOM)
        return feed.playlist("index.m3u8", low_latency=True) if feed is not None else None

    text = await until(master, "the room's HLS", tries=300)
    [variant] = m3u8.loads(text).playlists
    assert variant.stream_info.codecs.startswith("avc1.42")  # the browser's (Constrained) Baseline
    videos = [s for s in plane.live_sources(ROOM).values() if s.kind == "video"]
    assert [s.codec.name.lower() for s in videos] == ["h264"]
    packaging = [c for c in opened if c[2].startswith("hls-")]
    assert ("aac", "w", f"hls-{ROOM}") in packaging
    assert not [c for c in packaging if c[1] == "w" and c[0] != "aac"]  # no video encoder
    assert errors == []
