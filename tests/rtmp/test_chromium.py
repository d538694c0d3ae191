"""Issue 16's done-when for the venue: an RTMP encoder (Debian's ffmpeg) is watched in real
Chromium over WebRTC. Demo mode: the token's ``create`` opens its broadcast on first publish,
as for OBS over WHIP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.ports import free_port
from tests.rtmp.encoder import ffmpeg_publish, stop
from tests.streaming.clients import until
from tests.whip.test_chromium import PLAY, token
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

STATS = """
async () => {
  const out = {decoded: 0, width: 0, lost: 0, received: 0, audio: 0};
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.decoded = s.framesDecoded || 0; out.width = s.frameWidth || 0;
      out.lost = s.packetsLost || 0; out.received = s.packetsReceived || 0;
    }
    // audio plays out only into an element; what arrives of it is what the node sends
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio = s.packetsReceived || 0;
  }
  return out;
}
"""


async def test_chromium_watches_an_rtmp_encoder(
        pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any) -> None:
    running = await pavilion_app(demo=True, rtmp_port=free_port(), hls={})
    key = token("hall-camera", Grant.PUBLISH, Grant.CREATE)
    encoder = await ffmpeg_publish(f"rtmp://127.0.0.1:{running.settings.rtmp_port}/live/{key}")
    try:
        plane = running.app[MEDIA_KEY]
        await until(lambda: {"audio", "video"} <= set(plane.live_sources("stage")), 20)
        viewer = await browser.new_page()
        await viewer.goto(running.url + "/healthz")
        await viewer.evaluate(PLAY, token("audience", Grant.SUBSCRIBE))
        stats = {"decoded": 0}
        for _ in range(300):
            stats = await viewer.evaluate(STATS)
            if stats["decoded"] >= 45:
                break
            await asyncio.sleep(0.1)
        assert stats["decoded"] >= 45, stats
        await asyncio.sleep(1)
        later = await viewer.evaluate(STATS)
        assert later["decoded"] > stats["decoded"], "frames keep being decoded"
        assert later["width"] == 640 and later["audio"] >= 50, later  # 20 ms Opus packets
        assert later["lost"] <= max(2, later["received"] // 50), later
    finally:
        await stop(encoder)
