"""Hostile offers over Socket.IO (issue 11, finding 8): every kind in the shared table
(tests/streaming/hostile_sdp.py) is a ``bad_offer`` ack, for ``publish`` and for a viewer's own
offer in ``subscribe``, never ``internal_error``; the session lives on and publishes after."""

from __future__ import annotations

from typing import Any

from tests.signaling.test_bad_media_input import _host
from tests.streaming.hostile_sdp import CHROMIUM, CHROMIUM_WHEP, GSTREAMER, HOSTILE


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
