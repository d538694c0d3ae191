"""A test expo hour through real doors: Socket.IO clients, a real aiortc publisher, the page
API's quote form; the receiver gets every event once, in order for the room."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest

from rooms.content import ProductCard
from rooms.events import Left
from rooms.room import RoomState
from rooms.text import LocalizedText
from rooms.trade.service import meeting_hook
from rooms.webhooks.catalog import hooks_of
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, token
from tests.streaming.clients import Publisher
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import FAST, ROOM, Start, admin
from tests.webhooks.test_signature import SECRET
from web.admin_api import ADMIN
from web.keys import BACKEND_KEY, HUB_KEY

pytestmark = pytest.mark.slow
FLOW = ["room_started", "participant_joined", "participant_joined", "track_published",
        "track_published", "quote_requested", "participant_left", "track_unpublished",
        "track_unpublished", "room_finished", "participant_left"]


async def test_expo_flow_arrives_complete_and_in_order(pavilion_app: Start) -> None:
    receiver = await Receiver().start()
    try:
        node = await pavilion_app(demo=False, api_key=TEST_SECRET, webhooks_delivery=FAST,
                                  webhooks=[{"url": receiver.url, "secret": SECRET}])
        await admin(node, "POST", "/rooms", {**ROOM, "exhibitor": "host"})
        await node.app[BACKEND_KEY].store.put_product(ProductCard(
            id="p0", room_id="ev-launch", name=LocalizedText({"en": "EV"}),
            price=Decimal("9.90"), currency="CNY", request_quote=True))
        service, hub = node.app[BACKEND_KEY].service, node.app[HUB_KEY]
        await hub.moderated([await service.set_state(ADMIN, "ev-launch", RoomState.LIVE)])
        host = await RtcClient.connect(node, token("host", "ev-launch", HOST))
        await host.ok("join", {"room": "ev-launch"})
        viewer_token = token("v1", "ev-launch", VIEWER)
        viewer = await RtcClient.connect(node, viewer_token)
        await viewer.ok("join", {"room": "ev-launch"})
        publisher = Publisher("vp8")
        reply = await host.ok("publish", {"room": "ev-launch", "sdp": await publisher.offer()})
        await publisher.accept(reply["sdp"])
        await host.wait_for("track.published")
        async with aiohttp.ClientSession() as http, http.post(
                node.url + "/api/pages/rooms/ev-launch/quotes",
                json={"product": "p0", "name": "Kim", "email": "kim@example.com"},
                headers={"Authorization": f"Bearer {viewer_token}"}) as asked:
            assert asked.status == 201, await asked.text()
        await viewer.ok("leave", {"room": "ev-launch"})
        await host.ok("unpublish", {"room": "ev-launch", "peer": reply["peer"]})
        await host.wait_for("track.unpublished")
        await host.ok("room.close", {"room": "ev-launch"})
        await receiver.wait_for(len(FLOW))
        await asyncio.sleep(0.3)  # nothing more, nothing twice
        assert receiver.names("ev-launch") == FLOW
        got = receiver.got
        assert [g["participant"]["identity"] for g in got if "participant_" in g["event"]] == [
            "host", "v1", "v1", "host"]
        assert {got[3]["kind"], got[4]["kind"]} == {"audio", "video"}
        assert got[3]["participant"] == "host" and got[3]["codec"]
        assert got[5]["quote"]["email"] == "kim@example.com"
        await publisher.close()
        await host.close()
        await viewer.close()
    finally:
        await receiver.stop()


def test_meeting_notices_name_their_webhooks() -> None:
    assert meeting_hook("request.created") == "meeting_requested"
    assert meeting_hook("request.accepted") == "meeting_accepted"
    assert meeting_hook("request.declined") == "meeting_declined"
    assert meeting_hook("request.cancelled") == "meeting_cancelled"
    assert meeting_hook("meeting.ended", "buyer_no_show") == "meeting_no_show"
    assert meeting_hook("meeting.ended", "both_came") is None
    assert meeting_hook("meeting.reminder") is None


def test_hidden_participants_are_not_reported() -> None:
    assert list(hooks_of(Left("r", "recorder", hidden=True))) == []
    assert [h[0] for h in hooks_of(Left("r", "v1"))] == ["participant_left"]


async def test_moderation_by_a_moderator_and_the_admin_api(pavilion_app: Start) -> None:
    receiver = await Receiver().start()
    try:
        node = await pavilion_app(demo=False, api_key=TEST_SECRET, webhooks_delivery=FAST,
                                  webhooks=[{"url": receiver.url, "secret": SECRET,
                                             "events": ["moderation"]}])
        await admin(node, "POST", "/rooms", {**ROOM, "exhibitor": "host", "state": "live"})
        host = await RtcClient.connect(node, token("host", "ev-launch", HOST))
        await host.ok("join", {"room": "ev-launch"})
        viewer = await RtcClient.connect(node, token("v1", "ev-launch", VIEWER))
        await viewer.ok("join", {"room": "ev-launch"})
        await host.ok("track.mute", {"room": "ev-launch", "identity": "v1", "muted": True})
        await admin(node, "POST", "/rooms/ev-launch/participants/v1/kick")
        await receiver.wait_for(2)
        await asyncio.sleep(0.3)
        assert [(g["event"], g["action"], g["identity"]) for g in receiver.got] == [
            ("moderation", "mute", "v1"), ("moderation", "kick", "v1")]
        await host.close()
        await viewer.close()
    finally:
        await receiver.stop()
