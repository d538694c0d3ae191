"""One room across two nodes on one redis-server: each event is made by the node where it
happened and delivered once (the host, its media and the close on node A; a viewer on B)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import FAST, Start
from tests.webhooks.test_signature import SECRET

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_each_event_once_from_the_node_where_it_happened(pavilion_app: Start,
                                                               redis_url: str) -> None:
    receiver = await Receiver().start()
    try:
        common = {"redis_url": redis_url, "webhooks_delivery": FAST,
                  "cluster": {"placement": "first"},
                  "webhooks": [{"url": receiver.url, "secret": SECRET}]}
        a = await pavilion_app(node_id="node-a", **common)
        b = await pavilion_app(node_id="node-b", **common)
        await make_room(a, "expo", RoomKind.BROADCAST, exhibitor="host")
        host = await RtcClient.connect(a, token("host", "expo", HOST))
        await host.ok("join", {"room": "expo"})
        publisher = Publisher("vp8")
        reply = await host.ok("publish", {"room": "expo", "sdp": await publisher.offer()})
        await publisher.accept(reply["sdp"])
        viewer = await RtcClient.connect(b, token("v1", "expo", VIEWER))
        await viewer.ok("join", {"room": "expo"})
        await viewer.ok("leave", {"room": "expo"})
        await host.ok("room.close", {"room": "expo"})
        await receiver.until(lambda: Counter(receiver.names()) == Counter({
            "participant_joined": 2, "track_published": 2, "participant_left": 2,
            "track_unpublished": 2, "room_finished": 1}))
        await asyncio.sleep(0.5)  # nothing twice, even late
        assert len(receiver.got) == 9 and len({g["id"] for g in receiver.got}) == 9
        names = receiver.names()
        assert names.index("participant_joined") < names.index("room_finished")
        await publisher.close()
        await host.close()
        await viewer.close()
    finally:
        await receiver.stop()
