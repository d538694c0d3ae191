"""A viewer behind NAT (issue 13 §7): real Chromium forced to ``iceTransportPolicy: "relay"``
plays a live broadcast through a real coturn, with the TURN credential its page got in the
Socket.IO ``session`` event. The selected candidate pair's local candidate is a relay one, and
frames decode. Without TURN credentials from Pavilion such a viewer gathers no candidate at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.turn_server import TurnServer
from tests.pages.helpers import STAFF, token, until, video_flows

pytestmark = pytest.mark.browser

# What a browser behind a NAT that only TURN crosses does; the page's own configuration is kept
# (and recorded) and only the policy is added, so the ICE servers are the page's.
RELAY_ONLY = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcConfigs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(config = {}, ...rest) {
      const forced = { ...config, iceTransportPolicy: "relay" };
      window.__pcConfigs.push(JSON.parse(JSON.stringify(forced)));
      super(forced, ...rest);
    }
  };
})();
"""

# Each peer's selected candidate pair (transport stats) and every local candidate it gathered.
PATHS = """
async () => {
  const out = [];
  for (const [label, pc] of window.pavilion.peers) {
    const stats = await pc.getStats();
    let pair = null;
    const locals = [];
    for (const s of stats.values()) {
      const chosen = s.type === "transport" && s.selectedCandidatePairId;
      if (chosen) pair = stats.get(chosen);
      if (s.type === "local-candidate") locals.push(s.candidateType);
    }
    const local = pair ? stats.get(pair.localCandidateId) : null;
    out.push({label, state: pair?.state ?? null, local: local?.candidateType ?? null,
              relayProtocol: local?.relayProtocol ?? null, url: local?.url ?? null, locals});
  }
  return out;
}
"""


async def test_a_relay_only_viewer_plays_a_broadcast_through_coturn(
        pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any,
        turn_server: TurnServer) -> None:
    running = await pavilion_app(demo=True, turn={
        "urls": [turn_server.url], "shared_secret": turn_server.secret, "ttl_s": 600})
    studio = await browser.new_page()
    await studio.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token="
                      + token("changbai-foods", LIVE_BROADCAST, STAFF))
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")

    viewer = await browser.new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.add_init_script(RELAY_ONLY)
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}")
    stats = await video_flows(viewer)
    assert stats["decoded"] >= 20, stats

    (config,) = await viewer.evaluate("window.__pcConfigs")  # one peer: the player's
    assert config["iceTransportPolicy"] == "relay"
    (server,) = config["iceServers"]
    assert server["urls"] == [turn_server.url]
    assert server["username"].split(":", 1)[1] == await viewer.evaluate(
        "JSON.parse(document.getElementById('config').textContent).identity")

    async def selected() -> Any:
        """The player's selected pair once it reads "succeeded": Chromium shows a pair whose
        STUN check is in flight as "in-progress" for a moment (CI read one, video flowing)."""
        (path,) = [p for p in await viewer.evaluate(PATHS) if p["label"] == stats["label"]]
        return path if path["state"] == "succeeded" else None

    path = await until(selected, "the relayed pair to read succeeded", tries=50)
    assert path["local"] == "relay" and path["relayProtocol"] == "udp", path
    assert set(path["locals"]) == {"relay"}, path  # the policy held: nothing but relays
    assert f"user <{server['username']}>" in turn_server.log_text()
    assert "ALLOCATE processed, success" in turn_server.log_text()
    assert not errors, errors
