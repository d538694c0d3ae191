"""Real Chromium publishes its fake camera and microphone through WHIP; a second page plays WHEP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.fixtures.ports import media_mode
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

GATHERED = """
async (pc) => {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  });
}
"""

PUBLISH = f"""
async (token) => {{
  const gathered = {GATHERED};
  const stream = await navigator.mediaDevices.getUserMedia(
    {{video: {{width: 320, height: 240, frameRate: 15}}, audio: true}});
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, {{direction: 'sendonly'}});
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch('/whip/stage', {{method: 'POST', body: pc.localDescription.sdp,
    headers: {{'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}}}});
  const answer = await response.text();
  if (response.status !== 201) throw new Error(response.status + ' ' + answer);
  await pc.setRemoteDescription({{type: 'answer', sdp: answer}});
  window.pc = pc;
  return response.headers.get('Location');
}}
"""

PLAY = f"""
async (token) => {{
  const gathered = {GATHERED};
  const pc = new RTCPeerConnection();
  pc.addTransceiver('audio', {{direction: 'recvonly'}});
  pc.addTransceiver('video', {{direction: 'recvonly'}});
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const response = await fetch('/whep/stage', {{method: 'POST', body: pc.localDescription.sdp,
    headers: {{'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}}}});
  const answer = await response.text();
  if (response.status !== 201) throw new Error(response.status + ' ' + answer);
  await pc.setRemoteDescription({{type: 'answer', sdp: answer}});
  window.pc = pc;
}}
"""

VIDEO_STATS = """
async () => {
  for (const s of (await window.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video')
      return {decoded: s.framesDecoded || 0, received: s.packetsReceived || 0,
              lost: s.packetsLost || 0};
  }
  return {decoded: 0, received: 0, lost: 0};
}
"""


def token(identity: str, *grants: Grant) -> str:
    return mint(TEST_SECRET, identity=identity, room="stage", grants=grants, ttl_s=600)


@pytest.mark.parametrize("mode", ["per_peer", "port"])
async def test_chromium_whip_to_chromium_whep(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, mode: str
) -> None:
    running = await pavilion_app(demo=True, media=media_mode(mode))  # issue 19: both modes
    publisher = await browser.new_page()
    viewer = await browser.new_page()
    await publisher.goto(running.url + "/healthz")  # same origin as the WHIP endpoint
    await viewer.goto(running.url + "/healthz")
    # demo mode: a token with `create` opens the room on first publish, as OBS users do
    location = await publisher.evaluate(PUBLISH, token("camera", Grant.PUBLISH, Grant.CREATE))
    assert location.startswith("/whip/stage/")
    await viewer.evaluate(PLAY, token("audience", Grant.SUBSCRIBE))
    stats = {"decoded": 0}
    for _ in range(300):
        stats = await viewer.evaluate(VIDEO_STATS)
        if stats["decoded"] >= 45:
            break
        await asyncio.sleep(0.1)
    assert stats["decoded"] >= 45, stats
    first = stats["decoded"]
    await asyncio.sleep(1)
    later = await viewer.evaluate(VIDEO_STATS)
    assert later["decoded"] > first, "frames keep being decoded"
    assert later["lost"] <= max(2, later["received"] // 50), later
    video = running.app[MEDIA_KEY].live_sources("stage")["video"]
    assert video.codec.name == "vp8"
    mux = running.app[MEDIA_KEY].mux
    if mode == "port":  # both browsers' ICE agents on the one port, each by its own address
        assert mux is not None and len(mux.table) == 2
        assert all(mux.table.addresses(port) for port in mux.table.owners())
