"""Regressions the fuzz test (tests/signaling/test_fuzz.py) found in streaming/: bad media input
from a client used to become ``internal_error``; it must be a clean ``bad_offer`` refusal, and the
session lives on."""

from __future__ import annotations

from typing import Any

from rooms.room import RoomKind
from tests.data import SDP_DIR
from tests.signaling.rtc_client import HOST, RtcClient, make_room, token

SDPS = tuple(p.read_bytes().decode("utf-8")  # as captured: CRLF kept
             for p in sorted(SDP_DIR.glob("*.sdp")))
CHROMIUM = next(sdp for sdp in SDPS if "a=sendonly" in sdp and "H264" in sdp)


async def _host(pavilion_app: Any) -> RtcClient:
    app = await pavilion_app(demo=False)
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "expo", HOST))
    await client.ok("join", {"room": "expo"})
    return client


async def test_a_publish_offer_without_a_direction_is_refused_cleanly(pavilion_app: Any) -> None:
    client = await _host(pavilion_app)
    try:
        offer = CHROMIUM.replace("a=sendonly\r\n", "", 1)
        reply = await client.call("publish", {"room": "expo", "sdp": offer})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_offer", reply
        assert (await client.call("publish", {"room": "expo", "sdp": CHROMIUM}))["ok"]
    finally:
        await client.close()


async def test_a_malformed_candidate_on_a_real_peer_is_refused_cleanly(pavilion_app: Any) -> None:
    client = await _host(pavilion_app)
    try:
        peer = (await client.ok("publish", {"room": "expo", "sdp": CHROMIUM}))["peer"]
        bad = "candidate:1 1 udp 2122260223 127.0.0.1 9 host"  # no "typ": aiortc asserts
        reply = await client.call("candidate", {"room": "expo", "peer": peer, "candidate": bad})
        assert reply["ok"] is False and reply["error"]["code"] == "bad_offer", reply
    finally:
        await client.close()
