"""Hostile offers over Socket.IO (issue 11, finding 8): every kind in the shared table
(tests/streaming/hostile_sdp.py) is a ``bad_offer`` ack, for ``publish`` and for a viewer's own
offer in ``subscribe``, never ``internal_error``; the session lives on and publishes after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, RtcClient, make_room, token
from tests.signaling.test_bad_media_input import _host
from tests.streaming.hostile_sdp import CHROMIUM, CHROMIUM_WHEP, GSTREAMER, HOSTILE, without
from tests.streaming.test_candidate_screening import remote_hosts
from web.media import MEDIA_KEY


async def test_publish_refuses_each_hostile_offer_with_bad_offer(pavilion_app: Any) -> None:
    client = await _host(pavilion_app)
    try:
        for offer in (CHROMIUM, GSTREAMER):
            for hostile in HOSTILE:
                reply = await client.call("publish", {"room": "expo",
                                                      "sdp": hostile.damage(offer)})
                assert not reply["ok"], hostile.name
                assert reply["error"]["code"] == "bad_offer", (hostile.name, reply)
                assert hostile.reason in reply["error"]["message"], (hostile.name, reply)
        assert (await client.call("publish", {"room": "expo", "sdp": CHROMIUM}))["ok"]
    finally:
        await client.close()


async def test_subscribe_refuses_each_hostile_viewer_offer_with_bad_offer(
    pavilion_app: Any,
) -> None:
    client = await _host(pavilion_app)
    try:
        await client.ok("publish", {"room": "expo", "sdp": CHROMIUM})
        for hostile in HOSTILE:
            reply = await client.call("subscribe", {"room": "expo",
                                                    "sdp": hostile.damage(CHROMIUM_WHEP)})
            assert not reply["ok"], hostile.name
            assert reply["error"]["code"] == "bad_offer", (hostile.name, reply)
        assert (await client.call("subscribe", {"room": "expo", "sdp": CHROMIUM_WHEP}))["ok"]
    finally:
        await client.close()


async def test_a_trickled_candidate_the_node_must_not_check_is_acknowledged_and_unused(
    pavilion_app: Any,
) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "expo", HOST))
    try:
        await client.ok("join", {"room": "expo"})
        peer = (await client.ok("publish", {"room": "expo", "sdp": GSTREAMER}))["peer"]
        for host in ("ff02::1 9", "224.0.0.251 5353", "0.0.0.0 9", "198.51.100.8 0",
                     "198.51.100.9 40000"):
            candidate = f"candidate:1 1 udp 2122260223 {host} typ host"
            await client.ok("candidate", {"room": "expo", "peer": peer, "candidate": candidate,
                                          "sdp_mid": "audio0"})
        assert remote_hosts(app.app[MEDIA_KEY], peer) == {"127.0.0.1", "198.51.100.9"}
    finally:
        await client.close()


async def answer_to(offer: str, damage: Callable[[str], str]) -> str:
    """A real aiortc answer to the server's offer, damaged."""
    pc = RTCPeerConnection()
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return damage(pc.localDescription.sdp)
    finally:
        await pc.close()


async def test_a_viewers_answer_without_dtls_is_bad_offer_and_closes_its_peer(
    pavilion_app: Any,
) -> None:
    client = await _host(pavilion_app)
    try:
        await client.ok("publish", {"room": "expo", "sdp": CHROMIUM})
        for damage, words in ((lambda s: without(s, "a=fingerprint:"), "fingerprint"),
                              (lambda s: s.replace("a=setup:active", "a=setup:actpass"),
                               "active or passive")):
            offer = await client.ok("subscribe", {"room": "expo"})
            sdp = await answer_to(offer["sdp"], damage)
            reply = await client.call("answer", {"room": "expo", "peer": offer["peer"],
                                                 "sdp": sdp})
            assert reply["error"]["code"] == "bad_offer", reply
            assert words in reply["error"]["message"]
            gone = await client.call("answer", {"room": "expo", "peer": offer["peer"], "sdp": sdp})
            assert gone["error"]["code"] == "no_such_peer", gone
    finally:
        await client.close()
