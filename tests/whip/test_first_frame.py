"""Issue 14 §7: a Chromium viewer's first frame comes at once: the answer never waits on mDNS.

A page without camera permission (every viewer) hides its host addresses behind mDNS names
(``<uuid>.local``). aioice resolved them with a 1 s timeout before aiortc returned the answer, so
a WHEP POST took ~1 s. The node now drops them (streaming/candidate_filter.py) and learns the
viewer's address from its first connectivity check (a peer-reflexive candidate, RFC 8445
§7.3.1.3). These tests play a broadcast in real Chromium, with every candidate of the viewer's
offer an mDNS name, and print POST→answer and POST→first decoded frame (getStats polled every
few ms, and ``requestVideoFrameCallback`` for the first frame painted).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from tests.fixtures.browser import CHROMIUM_FLAGS, chromium_path
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, token, until
from tests.whip.test_chromium import PUBLISH
from tests.whip.test_chromium import token as stage_token
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

# Chromium shows its addresses to a page served from a loopback origin; any other origin without
# camera permission gets mDNS names. This name resolves to the node's loopback address.
REMOTE_HOST = "viewer.pavilion.test"
ANSWER_BOUND_MS = 300  # the whole first-frame target; the answer alone must be well in it

# One WHEP play, timed from just before the POST (performance.now(), milliseconds). The offer is
# sent once gathering completes, as WHEP players do; `local` counts its mDNS candidates.
TIMED_PLAY = """
async (token) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.addTransceiver('video', {direction: 'recvonly'});
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; document.body.appendChild(video);
  pc.addEventListener('track', (e) => { video.srcObject = e.streams[0] || new MediaStream([e.track]); });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') await new Promise((resolve) =>
    pc.addEventListener('icegatheringstatechange',
      () => pc.iceGatheringState === 'complete' && resolve()));
  const offer = pc.localDescription.sdp;
  const candidates = offer.split('\\n').filter((l) => l.startsWith('a=candidate:'));
  const painted = new Promise((resolve) => {
    const wait = () => video.requestVideoFrameCallback((now) => resolve(now));
    if (video.srcObject) wait(); else pc.addEventListener('track', wait, {once: true});
  });
  const t0 = performance.now();
  const response = await fetch('/whep/' + ROOM, {method: 'POST', body: offer,
    headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}});
  const answer = await response.text();
  const tAnswer = performance.now();
  if (response.status !== 201) throw new Error(response.status + ' ' + answer);
  await pc.setRemoteDescription({type: 'answer', sdp: answer});
  let tDecoded = null;
  while (tDecoded === null && performance.now() - t0 < 10000) {
    for (const s of (await pc.getStats()).values())
      if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0)
        tDecoded = performance.now();
    if (tDecoded === null) await new Promise((r) => setTimeout(r, 2));
  }
  const tPainted = await Promise.race([painted, new Promise((r) => setTimeout(() => r(null), 3000))]);
  window.pc = pc;
  return {candidates: candidates.length,
          local: candidates.filter((l) => l.split(' ')[4].endsWith('.local')).length,
          answer_ms: tAnswer - t0, decoded_ms: tDecoded === null ? null : tDecoded - t0,
          painted_ms: tPainted === null ? null : tPainted - t0};
}
"""


def timed_play(room: str) -> str:
    return TIMED_PLAY.replace("ROOM", repr(room))


def remote(running: RunningApp) -> str:
    """The node's URL under :data:`REMOTE_HOST`: how a viewer on another machine reaches it."""
    return running.url.replace("127.0.0.1", REMOTE_HOST)


@pytest.fixture
async def remote_browser() -> AsyncIterator[Any]:
    """Chromium as the ``browser`` fixture, where :data:`REMOTE_HOST` names the loopback."""
    from playwright.async_api import async_playwright

    rule = f"--host-resolver-rules=MAP {REMOTE_HOST} 127.0.0.1"
    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=chromium_path(),
                                            args=[*CHROMIUM_FLAGS, rule])
        try:
            yield instance
        finally:
            await instance.close()


async def _publish_stage(running: RunningApp, browser: Any) -> Any:
    """A Chromium WHIP publisher on room ``stage``; returns once a keyframe is cached."""
    publisher = await browser.new_page()
    await publisher.goto(running.url + "/healthz")  # same origin as the WHIP endpoint
    await publisher.evaluate(PUBLISH, stage_token("camera", Grant.PUBLISH, Grant.CREATE))
    plane = running.app[MEDIA_KEY]

    async def keyframe() -> bool:
        video = plane.live_sources("stage").get("video")
        return video is not None and video.keyframes > 0

    await until(keyframe, "the publisher's first keyframe")
    return publisher


async def test_a_whep_viewer_with_mdns_candidates_is_answered_at_once(
    pavilion_app: Callable[..., Awaitable[RunningApp]], remote_browser: Any
) -> None:
    running = await pavilion_app(demo=True)  # loopback: private and mDNS candidates allowed
    await _publish_stage(running, remote_browser)
    viewer = await remote_browser.new_page()  # no camera permission: Chromium hides addresses
    await viewer.goto(remote(running) + "/healthz")
    viewer_token = stage_token("audience", Grant.SUBSCRIBE)
    plays = []
    for _ in range(3):
        plays.append(await viewer.evaluate(timed_play("stage"), viewer_token))
        await viewer.evaluate("() => window.pc.close()")
    print("WHEP first frame (ms):", plays)
    assert all(p["candidates"] and p["local"] == p["candidates"] for p in plays), plays
    assert all(p["decoded_ms"] is not None for p in plays), plays  # connected via prflx
    assert min(p["answer_ms"] for p in plays) < ANSWER_BOUND_MS, plays
