"""``speaker.changed`` over Socket.IO (issue 14 §5): real aiortc publishers send RFC 6464 audio
levels (a loud tone, silence), the node holding the room's media decides who speaks, and every
member hears it — on that node (a meeting: host and admitted guest) and on another node (a
broadcast's visitor joined on node B while the host publishes on node A, through Redis)."""

from __future__ import annotations

import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.room import RoomKind
from tests.fixtures.pavilion import node_env
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, ToneTrack

pytestmark = pytest.mark.slow


async def _publish(client: RtcClient, room: str, voice: ToneTrack) -> Publisher:
    publisher = Publisher("vp8", audio_track=voice)
    reply = await client.ok("publish", {"room": room, "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    return publisher


async def test_meeting_members_hear_who_speaks(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "deal", RoomKind.MEETING, exhibitor="seller")
    host = await RtcClient.connect(app, token("seller", "deal", HOST))
    guest = await RtcClient.connect(app, token("buyer", "deal", GUEST))
    await host.ok("join", {"room": "deal"})
    await guest.ok("join", {"room": "deal"})
    await host.ok("waiting.admit", {"room": "deal", "identity": "buyer"})
    await guest.wait_for("waiting.admitted")
    seller_voice, buyer_voice = ToneTrack(0.5), ToneTrack(0.0)
    seller = await _publish(host, "deal", seller_voice)
    buyer = await _publish(guest, "deal", buyer_voice)
    first = await guest.wait_for("speaker.changed")
    assert first["room_id"] == "deal" and first["participant"] == "seller"
    assert isinstance(first["level"], int) and 0 <= first["level"] < 20
    seller_voice.amplitude, buyer_voice.amplitude = 0.0, 0.3
    await host.wait_for("speaker.changed", lambda e: e["participant"] == "buyer")
    assert [e["participant"] for e in guest.seen("speaker.changed")][:1] == ["seller"]
    assert "seller" not in [e["participant"] for e in host.seen("speaker.changed")][1:]
    for peer in (seller, buyer):
        await peer.close()
    await host.close()
    await guest.close()


@pytest.mark.redis
async def test_a_member_on_another_node_hears_the_speaker(redis_url, pavilion_process):
    node_a, node_b = pavilion_process.together(node_env(redis_url, "node-a"),
                                               node_env(redis_url, "node-b"))
    host = await RtcClient.connect(node_a, token("changbai-foods", LIVE_BROADCAST, HOST))
    await host.ok("join", {"room": LIVE_BROADCAST})
    visitor = await RtcClient.connect(node_b, token("visitor", LIVE_BROADCAST, VIEWER))
    await visitor.ok("join", {"room": LIVE_BROADCAST})
    publisher = await _publish(host, LIVE_BROADCAST, ToneTrack(0.5))  # node A holds the media
    elsewhere = await visitor.call("subscribe", {"room": LIVE_BROADCAST})
    assert elsewhere["error"]["code"] == "wrong_node" and elsewhere["error"]["node_id"] == "node-a"
    heard = await visitor.wait_for("speaker.changed")
    assert heard == {"room_id": LIVE_BROADCAST, "participant": "changbai-foods",
                     "level": heard["level"]} and heard["level"] < 20
    await publisher.close()
    await host.close()
    await visitor.close()
