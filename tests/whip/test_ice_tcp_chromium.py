"""Real Chromium publishes over WHIP and plays over WHEP with ICE-TCP only (RFC 6544, issue 19).

The node offers no UDP candidate (``udp_candidates = false``) and has no UDP candidate of its
own to check from, so the only way in is a TCP connection to its passive candidate: Chromium's
stats must say the selected pair is TCP on both ends, the node's nominated pairs must be its
TCP candidate's, consent checks must be answered over it, and video must decode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.ports import free_media_port
from tests.whip.test_chromium import PLAY, PUBLISH, VIDEO_STATS, token
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser

SELECTED_PAIR = """
async () => {
  const stats = await window.pc.getStats();
  let pair = null;
  for (const s of stats.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId)
      pair = stats.get(s.selectedCandidatePairId);
  }
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
  return {state: pair.state, local: local.protocol, remote: remote.protocol,
          tcpType: local.tcpType || null, remotePort: remote.port, sent: pair.bytesSent,
          received: pair.bytesReceived};
}
"""


def tcp_only() -> dict[str, Any]:
    port = free_media_port()
    # consent checks (RFC 7675, streaming/consent.py) every 0.3 s: they must pass over TCP too
    return {"udp_port": port, "tcp_port": port, "udp_candidates": False,
            "consent_interval_s": 0.3}


async def selected(page: Any) -> dict[str, Any]:
    pair = None
    for _ in range(100):
        pair = await page.evaluate(SELECTED_PAIR)
        if pair is not None and pair["state"] == "succeeded":
            return dict(pair)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no selected candidate pair: {pair}")


async def test_chromium_publishes_and_plays_over_ice_tcp_only(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any
) -> None:
    media = tcp_only()
    running = await pavilion_app(demo=True, media=media)
    plane = running.app[MEDIA_KEY]
    publisher = await browser.new_page()
    viewer = await browser.new_page()
    await publisher.goto(running.url + "/healthz")
    await viewer.goto(running.url + "/healthz")
    await publisher.evaluate(PUBLISH, token("camera", Grant.PUBLISH, Grant.CREATE))
    await viewer.evaluate(PLAY, token("audience", Grant.SUBSCRIBE))
    stats = {"decoded": 0}
    for _ in range(300):
        stats = await viewer.evaluate(VIDEO_STATS)
        if stats["decoded"] >= 45:
            break
        await asyncio.sleep(0.1)
    assert stats["decoded"] >= 45, stats
    for page in (publisher, viewer):
        pair = await selected(page)
        assert (pair["local"], pair["remote"]) == ("tcp", "tcp"), pair
        assert pair["tcpType"] == "active" and pair["remotePort"] == media["tcp_port"], pair
    tcp = plane.mux.tcp
    assert tcp is not None and tcp.links - tcp.pending >= 2  # validated: one per browser
    for peer in plane.peers.values():  # the node's side: each nominated pair is on TCP
        pair = peer.dtls.transport._connection._nominated[1]
        assert pair.local_candidate.transport == "tcp", pair
        assert pair.remote_candidate.transport == "tcp", pair  # learned over TCP (prflx)
    for peer in plane.peers.values():
        consent = peer.consent
        assert consent is not None and consent.answered >= 3 and not consent.expired, peer
        assert consent.rtt_s is not None  # answered on the connection the check went out on
    later = await viewer.evaluate(VIDEO_STATS)
    assert later["lost"] <= max(2, later["received"] // 50), later
