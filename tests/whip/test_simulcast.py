"""Real Chromium publishes three simulcast layers through WHIP (RFC 8853 rids, demultiplexed by
RTP stream id, RFC 8852); a Chromium WHEP viewer is moved between the layers and its decoder
never notices a gap (issue 14 §1-2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from streaming.source import Source
from streaming.viewer import ViewerLeg
from tests.fixtures.pavilion import RunningApp
from tests.whip.test_chromium import GATHERED, PLAY, token
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

PUBLISH_LAYERS = f"""
async (token) => {{
  const gathered = {GATHERED};
  const stream = await navigator.mediaDevices.getUserMedia(
    {{video: {{width: 1280, height: 720, frameRate: 15}}, audio: true}});
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0], {{direction: 'sendonly'}});
  pc.addTransceiver(stream.getVideoTracks()[0], {{direction: 'sendonly', sendEncodings: [
    {{rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000}},
    {{rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000}},
    {{rid: 'f', maxBitrate: 1500000}}]}});
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch('/whip/stage', {{method: 'POST', body: pc.localDescription.sdp,
    headers: {{'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}}}});
  const answer = await response.text();
  if (response.status !== 201) throw new Error(response.status + ' ' + answer);
  await pc.setRemoteDescription({{type: 'answer', sdp: answer}});
  window.pc = pc;
  return answer;
}}
"""

INBOUND = """
async () => {
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video')
      return {decoded: s.framesDecoded || 0, width: s.frameWidth || 0, lost: s.packetsLost || 0,
              received: s.packetsReceived || 0, freezes: s.freezeCount || 0,
              frozen: s.totalFreezesDuration || 0, keyframes: s.keyFramesDecoded || 0};
  }
  return {decoded: 0, width: 0, lost: 0, received: 0, freezes: 0, frozen: 0, keyframes: 0};
}
"""


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    for _ in range(int(seconds * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_three_layers_in_and_a_viewer_moved_between_them(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    running = await pavilion_app(demo=True)
    plane = running.app[MEDIA_KEY]
    publisher = await browser.new_page()
    viewer = await browser.new_page()
    await publisher.goto(running.url + "/healthz")
    await viewer.goto(running.url + "/healthz")
    answer = await publisher.evaluate(PUBLISH_LAYERS, token("camera", *_publish_grants()))
    assert "a=simulcast:recv q;h;f" in answer and "a=rid:f recv" in answer
    video = await _video_source(plane)
    assert video.simulcast and [layer.rid for layer in video.layers] == ["q", "h", "f"]

    async def all_layers_have_keyframes() -> bool:
        return all(layer.width for layer in video.layers)

    await _until(all_layers_have_keyframes, 20, "a keyframe of every layer")
    widths = [layer.width for layer in video.layers]
    assert widths[0] < widths[1] < widths[2], widths
    await plane.allocator.aclose()  # this test moves the viewer itself, not by bandwidth
    await viewer.evaluate(PLAY, token("audience", *_play_grants()))
    sub = await _viewer_subscription(plane, video)

    async def showing(width: int) -> bool:
        stats = await viewer.evaluate(INBOUND)
        return bool(stats["width"] == width and stats["decoded"] > 10)

    assert sub.layer == 0, "a viewer starts on the lowest layer with a keyframe cached"
    for index in (2, 0, 1, 2, 0):  # up two, down two, up one, up one, down two
        before = await viewer.evaluate(INBOUND)
        video.set_target(sub, index)
        await _until(lambda i=index: showing(widths[i]), 15, f"layer {index} on the viewer")
        await asyncio.sleep(1)
        after = await viewer.evaluate(INBOUND)
        assert after["decoded"] > before["decoded"] + 5, (before, after)
        assert after["frozen"] - before["frozen"] < 1.0, (before, after)
    final = await viewer.evaluate(INBOUND)
    assert final["lost"] <= max(3, final["received"] // 50), final
    assert video.switches >= 5


def _publish_grants() -> tuple[Any, ...]:
    from rooms.token import Grant

    return (Grant.PUBLISH, Grant.CREATE)


def _play_grants() -> tuple[Any, ...]:
    from rooms.token import Grant

    return (Grant.SUBSCRIBE,)


async def _video_source(plane: Any) -> Source:
    for _ in range(100):
        video = plane.live_sources("stage").get("video")
        if video is not None:
            return video  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("no video source")


async def _viewer_subscription(plane: Any, video: Source) -> Any:
    for _ in range(100):
        for peer in plane.peers.values():
            if isinstance(peer, ViewerLeg):
                for source, sub in peer.subscriptions:
                    if source is video:
                        return sub
        await asyncio.sleep(0.1)
    raise AssertionError("the viewer never subscribed")


async def test_the_viewer_gets_what_its_link_and_tile_take(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    """Loopback carries every layer: the viewer climbs to the top one (probing past what its
    REMB can show from a lower layer); a small tile brings it down to the smallest layer that
    fills it; a hidden tile pauses its video and the unwatched layers are let go (dynacast);
    shown again, video comes back by itself. Without HLS: a room with HLS keeps the layer
    its packager taps (the top one) on for the HLS audience (docs/hls.md §1)."""
    from streaming.adaptation import TileView
    from streaming.plane import LayersWanted, MediaEvent, QualityChanged

    running = await pavilion_app(demo=True, hls={"kinds": []})
    plane = running.app[MEDIA_KEY]
    events: list[MediaEvent] = []
    plane.listen(events.append)
    publisher = await browser.new_page()
    viewer = await browser.new_page()
    await publisher.goto(running.url + "/healthz")
    await viewer.goto(running.url + "/healthz")
    await publisher.evaluate(PUBLISH_LAYERS, token("camera", *_publish_grants()))
    video = await _video_source(plane)
    await viewer.evaluate(PLAY, token("audience", *_play_grants()))
    sub = await _viewer_subscription(plane, video)
    leg = next(p for p in plane.peers.values() if isinstance(p, ViewerLeg))

    async def width_is(width: int) -> bool:
        stats = await viewer.evaluate(INBOUND)
        return bool(stats["width"] == width)

    top = 1280
    await _until(lambda: width_is(top), 40, "the top layer on an open link")
    totals = plane.stats().totals
    # probing shows in the totals when it was needed (an estimate may allow f at once)
    assert totals.layer_switches >= 1 and totals.probe_bytes == leg.padding_sent, totals

    def told_top() -> bool:
        qualities = [e for e in events if isinstance(e, QualityChanged)]
        return bool(qualities) and qualities[-1].layer == "f" and qualities[-1].width == top

    await _until(_async(told_top), 2, "the page told it gets the top layer")
    plane.set_view(leg.peer_id, TileView(300, 170, True))
    await _until(lambda: width_is(320), 15, "the smallest layer that fills a small tile")
    before = await viewer.evaluate(INBOUND)
    plane.set_view(leg.peer_id, TileView(300, 170, False))
    await _until(lambda: _hidden(events), 5, "the page told its video is paused")
    assert sub.layer == -1

    def let_go() -> bool:
        wanted = [e for e in events if isinstance(e, LayersWanted)]
        return bool(wanted) and wanted[-1].active == ("q",)

    await _until(_async(let_go), 10, "the unwatched layers let go (dynacast)")
    assert plane.allocator.paused_layers == 2
    paused = await viewer.evaluate(INBOUND)
    assert paused["decoded"] - before["decoded"] < 40, "video stopped while hidden"
    plane.set_view(leg.peer_id, TileView(1280, 720, True))
    await _until(lambda: width_is(top), 40, "the top layer again once shown")


def _hidden(events: list[Any]) -> Awaitable[bool]:
    from streaming.plane import QualityChanged

    async def check() -> bool:
        found = [e for e in events if isinstance(e, QualityChanged)]
        return bool(found) and found[-1].reason == "hidden" and found[-1].layer is None

    return check()


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def wrapped() -> bool:
        return check()

    return wrapped
