"""``[hls] studio_h264`` on by default (issue 16 §2): a Chromium studio in a room with HLS sends
H264 simulcast (q/h/f from its 1280×720 camera); every layer learns its size from its SPS
(streaming/h264_size.py); a Chromium WHEP viewer moved through every layer decodes each at
its size, and on a free loopback link the adaptation alone raises it from the lowest layer to
the top one (with VP8's rates in mind, it once stayed on ``h``: docs/hls.md §3); and HLS
packages the top layer as it arrives (no video encoder opened)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import av
import m3u8
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from streaming.viewer import ViewerLeg
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, token, until
from tests.whip.test_chromium import GATHERED
from tests.whip.test_simulcast import INBOUND
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST
PLAY = f"""
async ([room, token]) => {{
  const gathered = {GATHERED};
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {{direction: 'recvonly'}});
  pc.addTransceiver('video', {{direction: 'recvonly'}});
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch('/whep/' + room, {{method: 'POST', body: pc.localDescription.sdp,
    headers: {{'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}}}});
  const answer = await response.text();
  if (response.status !== 201) throw new Error(response.status + ' ' + answer);
  await pc.setRemoteDescription({{type: 'answer', sdp: answer}});
  window.pc = pc;
}}
"""


async def test_a_studio_sends_h264_simulcast_that_viewers_and_hls_take_by_default(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[tuple[str, str, str]] = []
    create: Callable[..., Any] = av.CodecContext.create

    def spy(codec: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened.append((str(codec), mode, threading.current_thread().name))
        return create(codec, mode, *args, **kwargs)

    monkeypatch.setattr(av.CodecContext, "create", spy)
    running = await pavilion_app(demo=True, hls={"segment_s": 1.0, "part_s": 0.25})
    assert running.settings.hls.studio_h264  # the default now
    plane = running.app[MEDIA_KEY]
    studio = await browser.new_page()
    errors: list[str] = []
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", ROOM, STAFF, "Changbai Foods")
    await studio.goto(f"{running.url}/studio/{ROOM}?token={host}&lang=en")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")

    async def video_source() -> Any:
        return next((s for s in plane.live_sources(ROOM).values() if s.kind == "video"), None)

    video = await until(video_source, "the studio's video")
    # the test moves the viewer itself first: no adaptation, and no layer paused (dynacast
    # pauses a layer nobody takes after 3 s, and only the allocator resumes it)
    await plane.allocator.aclose()
    assert video.codec.name.lower() == "h264"
    assert [layer.rid for layer in video.layers] == ["q", "h", "f"]

    async def sized() -> bool:
        return all(layer.width for layer in video.layers)

    await until(sized, "every layer's size from its SPS", tries=300)
    widths = [layer.width for layer in video.layers]
    assert widths[0] < widths[1] < widths[2] and widths[2] >= 1200, widths

    viewer = await browser.new_page()
    await viewer.goto(running.url + "/healthz")
    await viewer.evaluate(PLAY, [ROOM, token("audience-1", ROOM, (Grant.JOIN, Grant.SUBSCRIBE))])
    sub = await until(lambda: _subscription(plane, video), "the viewer's subscription")

    async def showing(width: int) -> bool:
        stats = await viewer.evaluate(INBOUND)
        return bool(stats["width"] == width and stats["decoded"] > 10)

    for index in (0, 1, 2, 0):
        video.set_target(sub, index)
        await until(lambda i=index: showing(widths[i]), f"layer {index} on the viewer",
                    tries=200)
    plane.allocator.start()  # from the lowest layer, the adaptation alone on a free link
    await until(lambda: showing(widths[2]), "the top layer by the adaptation", tries=900)

    async def master() -> str | None:
        feed = plane.hls(ROOM)
        return feed.playlist("index.m3u8", low_latency=True) if feed is not None else None

    [variant] = m3u8.loads(await until(master, "the room's HLS", tries=300)).playlists
    assert variant.stream_info.codecs.startswith("avc1.42")
    assert variant.stream_info.resolution[0] == widths[2]  # the top layer, as it arrives
    packaging = [c for c in opened if c[2].startswith("hls-")]
    assert not [c for c in packaging if c[1] == "w" and c[0] != "aac"]  # no video encoder
    assert errors == []


async def _subscription(plane: Any, video: Any) -> Any:
    await asyncio.sleep(0)
    for peer in plane.peers.values():
        if isinstance(peer, ViewerLeg):
            for source, sub in peer.subscriptions:
                if source is video:
                    return sub
    return None
