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

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from tests.fixtures.browser import CHROMIUM_FLAGS, chromium_path
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.ports import free_port
from tests.pages.helpers import STAFF, token, until, video_flows
from tests.whip.test_chromium import PUBLISH
from tests.whip.test_chromium import token as stage_token
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

# Chromium shows its addresses to a page served from a loopback origin; any other origin without
# camera permission gets mDNS names. This name resolves to the node's loopback address.
REMOTE_HOST = "viewer.pavilion.test"
# Every answer waited for aioice's 1 s mDNS timeout before (1,019–1,072 ms measured); now
# 11–139 ms on this shared 2-core machine, with stalls of a few hundred ms under load. So: the
# median of a few WHEP answers under half that timeout, a single page answer under it, and the
# best of a few plays within the first-frame target, from the POST to the first frame
# painted (measured 19–90 ms, 250–271 ms for one play in three runs of three under load).
MDNS_TIMEOUT_MS = 1000
FIRST_FRAME_TARGET_MS = 300

# One WHEP play, timed from just before the POST (performance.now(), milliseconds). The offer is
# sent once gathering completes, as WHEP players do; `local` counts its mDNS candidates.
TIMED_PLAY = """
async (token) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.addTransceiver('video', {direction: 'recvonly'});
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; document.body.appendChild(video);
  pc.addEventListener('track', (e) => {
    video.srcObject = e.streams[0] || new MediaStream([e.track]);
  });
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
  const tPainted = await Promise.race(
    [painted, new Promise((r) => setTimeout(() => r(null), 3000))]);
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


async def _publish(running: RunningApp, browser: Any, room: str, bearer: str) -> Any:
    """A Chromium WHIP publisher (loopback origin: it shows its addresses) on ``room``;
    returns once the node caches a keyframe, so a viewer's first frame waits on no GOP."""
    publisher = await browser.new_page()
    await publisher.goto(running.url + "/healthz")  # same origin as the WHIP endpoint
    await publisher.evaluate(PUBLISH.replace("/whip/stage", f"/whip/{room}"), bearer)
    plane = running.app[MEDIA_KEY]

    async def keyframe() -> bool:
        video = plane.live_sources(room).get("video")
        return video is not None and video.keyframes > 0

    await until(keyframe, "the publisher's first keyframe")
    return publisher


async def test_a_whep_viewer_with_mdns_candidates_is_answered_at_once(
    pavilion_app: Callable[..., Awaitable[RunningApp]], remote_browser: Any
) -> None:
    running = await pavilion_app(demo=True)  # loopback: private candidates allowed, so mDNS
    # names were resolved before (they are dropped whatever the policy now)
    await _publish(running, remote_browser, "stage",
                   stage_token("camera", Grant.PUBLISH, Grant.CREATE))
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
    assert sorted(p["answer_ms"] for p in plays)[1] < MDNS_TIMEOUT_MS / 2, plays
    assert min(p["painted_ms"] or 1e9 for p in plays) < FIRST_FRAME_TARGET_MS, plays


# Installed before the page's own scripts: times each RTCPeerConnection the page makes. The page
# sends `subscribe {sdp}` as soon as gathering completes (web/static/rooms/media.js), so that is
# the start; the answer is its setRemoteDescription; the first frame is the first
# requestVideoFrameCallback of a 1-pixel <video> fed the received track. Milliseconds since the
# page's navigation started.
PAGE_TIMES = """
(() => {
  const Native = window.RTCPeerConnection;
  const times = window.firstFrameTimes = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      const t = this.firstFrame = {created: performance.now(), sent: null, answer: null,
                                   painted: null, hosts: []};
      times.push(t);
      this.addEventListener('icegatheringstatechange', () => {
        if (this.iceGatheringState !== 'complete' || t.sent !== null) return;
        t.sent = performance.now();
        t.hosts = this.localDescription.sdp.split('\\n')
          .filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' ')[4]);
      });
      this.addEventListener('track', (e) => {
        if (e.track.kind !== 'video') return;
        const video = document.createElement('video');
        video.muted = true; video.autoplay = true;
        video.style = 'position:fixed;width:1px;height:1px;opacity:0.01';
        video.srcObject = new MediaStream([e.track]);
        document.documentElement.appendChild(video);
        video.requestVideoFrameCallback((now, meta) => { t.painted = meta.presentationTime; });
      });
    }
    setRemoteDescription(description) {
      if (description?.type === 'answer' && this.firstFrame.answer === null)
        this.firstFrame.answer = performance.now();
      return super.setRemoteDescription(description);
    }
  };
})();
"""


async def test_a_page_viewer_with_only_mdns_candidates_plays_at_once(
    pavilion_app: Callable[..., Awaitable[RunningApp]], remote_browser: Any
) -> None:
    port = free_port()
    running = await pavilion_app(demo=True, port=port,
                                 public_url=f"http://{REMOTE_HOST}:{port}")  # Socket.IO origin
    await _publish(running, remote_browser, LIVE_BROADCAST,
                   token("changbai-foods", LIVE_BROADCAST, STAFF))
    viewer = await remote_browser.new_page()
    await viewer.add_init_script(PAGE_TIMES)
    await viewer.goto(f"{remote(running)}/watch/{LIVE_BROADCAST}?lang=en")

    async def painted() -> list[dict[str, Any]]:
        times = await viewer.evaluate("() => window.firstFrameTimes")
        return [t for t in times if t["painted"] is not None]

    times = (await until(painted, "the page's first frame"))[0]
    await video_flows(viewer)
    answer_ms = times["answer"] - times["sent"]
    first_ms = times["painted"] - times["sent"]
    print(f"page viewer: subscribe→answer {answer_ms:.0f} ms, subscribe→first frame"
          f" {first_ms:.0f} ms (gathering before it {times['sent'] - times['created']:.0f} ms),"
          f" navigation→first frame {times['painted']:.0f} ms")
    assert times["hosts"] and all(h.endswith(".local") for h in times["hosts"]), times
    assert answer_ms < MDNS_TIMEOUT_MS, times
