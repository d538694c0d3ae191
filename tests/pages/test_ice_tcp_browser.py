"""The studio goes live and a viewer watches over Socket.IO (the server offers to the viewer,
so the node's ICE agent is the controlling one) with ICE-TCP (RFC 6544, issue 19 §1).

With UDP candidates left out, TCP is the only way in, and every peer's nominated pair on the
node must be its TCP candidate's. With both offered, UDP must win: the TCP candidate's
priority is below every UDP host candidate's (RFC 6544 §4.5), and the node, nominating for the
viewer, must not settle on a TCP pair because its check happened to finish first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant
from streaming import aiortc_hooks
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.ports import free_media_port
from tests.pages.helpers import STAFF, token, until, video_flows
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
ROOM = LIVE_BROADCAST


def nominated_transports(running: RunningApp) -> dict[str, str]:
    """Each peer of the node: the transport of its nominated pair's local candidate."""
    plane = running.app[MEDIA_KEY]
    found = {}
    for peer_id, peer in plane.peers.items():
        pair = aiortc_hooks.nominated_pair(peer.dtls)
        found[peer_id] = pair.local_candidate.transport if pair is not None else "none"
    return found


@pytest.mark.parametrize("udp", [False, True], ids=["tcp-only", "udp-and-tcp"])
async def test_studio_and_viewer_over_ice_tcp(
    pavilion_app: Callable[..., Awaitable[RunningApp]], browser: Any, udp: bool
) -> None:
    port = free_media_port()
    running = await pavilion_app(demo=True, media={"udp_port": port, "tcp_port": port,
                                                    "udp_candidates": udp})
    studio = await browser.new_page()
    await studio.goto(f"{running.url}/studio/{ROOM}?token="
                      + token("changbai-foods", ROOM, STAFF, "Changbai Foods"))
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")
    viewer = await browser.new_page()
    await viewer.goto(f"{running.url}/watch/{ROOM}?token="
                      + token("visitor", ROOM, (Grant.JOIN, Grant.SUBSCRIBE)))
    await video_flows(viewer)
    transports = nominated_transports(running)
    assert len(transports) >= 2, transports  # the studio's publisher leg and the viewer's
    assert set(transports.values()) == {"udp" if udp else "tcp"}, transports
    tcp = running.app[MEDIA_KEY].mux.tcp
    if not udp:
        assert tcp.links - tcp.pending >= 2  # validated: the studio's and the viewer's
