"""Issue 17 through cascade edges (issue 13): two in-process nodes on one real redis-server. On
node A (the origin) a floor speaker sends 440 Hz and two zh interpreters 660 Hz (on air) and
990 Hz (standby); listeners seated on node B (``[cluster] cascade = true``) subscribe to the zh
channel and B pulls it from A once, as one more Source with A's id ``channel:zh``. Real aiortc
peers decode what they get and tell the tones apart (tests/interpretation/peers.py)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rooms.room import RoomKind
from rooms.token import Grant, mint
from streaming import MediaPlane
from tests.fixtures.pavilion import TEST_SECRET
from tests.interpretation.peers import Listener
from tests.interpretation.test_channels import ROOM, hears, interpreter, listen, member, talk
from tests.signaling.rtc_client import GUEST, VIEWER, make_room
from tests.streaming.clients import until
from web.cascade import EDGES_KEY
from web.media import MEDIA_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _no_decoder(plane: MediaPlane) -> None:
    for peer in plane.peers.values():
        for transceiver in peer.pc.getTransceivers():
            assert transceiver.receiver._RTCRtpReceiver__decoder_thread is None


async def test_an_edge_listener_hears_the_channel_pulled_once_and_across_a_handover(
        redis_url: str, pavilion_app: Any) -> None:
    """...then the upstream's link fails and the edge re-pulls it (same Source, same track),
    and when the last interpreter stops, the origin's BYE ends the channel on the edge too."""
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", demo=False,
                           cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", demo=False,
                           cluster={"placement": "first", "cascade": True,
                                    "cascade_stall_s": 0.6})
    await make_room(a, ROOM, RoomKind.FORUM)
    plane_a, plane_b, edges = a.app[MEDIA_KEY], b.app[MEDIA_KEY], b.app[EDGES_KEY]
    speaker = await member(a, "speaker", GUEST)
    zh1 = await interpreter(a, "zh1", ["zh"])
    zh2 = await interpreter(a, "zh2", ["zh"])
    closing: list[Any] = [speaker, zh1, zh2]
    try:
        closing.append(await talk(speaker, 440))
        on_air = await talk(zh1, 660, channel="zh")
        standby = await talk(zh2, 990, channel="zh")  # the partner
        closing += [on_air, standby]
        delegate = await member(b, "delegate", VIEWER)  # seated on the edge: not moved
        other = await member(b, "other", VIEWER)
        closing += [delegate, other]
        ear = await listen(delegate, channel="zh")
        closing.append(ear)
        await hears(ear, 660)
        (upstream,) = plane_b.upstreams(ROOM)
        assert upstream.participant == "channel:zh" and upstream.language == "zh"
        relayed = plane_b.sources[ROOM]["channel:zh"]  # the origin's id, here too
        assert relayed.relayed and relayed.language == "zh" and relayed.kind == "audio"
        assert "audio" not in plane_b.live_sources(ROOM)  # no floor track on the edge
        second = await listen(other, channel="zh")
        closing.append(second)
        await hears(second, 660)
        assert plane_b.upstreams(ROOM) == [upstream]  # one upstream per channel per edge
        # the origin counts the edge's pull as one listener (its own listeners are B's count)
        assert plane_a.channel_states(ROOM)["zh"].listeners == 1
        assert len(plane_b.sources[ROOM]["channel:zh"].subscriptions) == 2

        await zh1.ok("channel.handover", {"room": ROOM, "language": "zh"})
        await zh2.ok("channel.accept", {"room": ROOM, "language": "zh"})
        await hears(ear, 990)
        await hears(second, 990)
        assert len(ear.tracks) == 1 and len({x.ssrc for x in ear.arrivals}) == 1
        assert plane_b.upstreams(ROOM) == [upstream] and edges.repulls == 0
        assert plane_b.sources[ROOM]["channel:zh"] is relayed  # the same Source, kept
        _no_decoder(plane_b)

        await upstream.pc.close()  # the link is lost: the edge re-pulls the channel
        await until(lambda: plane_b.upstreams(ROOM) and plane_b.upstreams(ROOM)[0]
                    is not upstream, 10)
        await hears(ear, 990)
        assert edges.repulls == 1 and plane_b.sources[ROOM]["channel:zh"] is relayed
        assert len(ear.tracks) == 1 and not relayed.ended.is_set()

        await zh2.ok("unpublish", {"room": ROOM, "peer": standby.peer_id})
        await hears(ear, 660)  # the partner still sending goes on air, through the edge
        await zh1.ok("unpublish", {"room": ROOM, "peer": on_air.peer_id})
        await until(lambda: relayed.ended.is_set() and not plane_b.upstreams(ROOM), 10)
    finally:
        for thing in reversed(closing):
            await thing.close()


async def test_whep_language_on_an_edge_gets_the_stage_and_the_channel(
        redis_url: str, pavilion_app: Any) -> None:
    """WHEP ``?language=zh`` on the edge: two upstreams (the stage, the channel); the player's
    first audio m-line is the channel, the second the floor."""
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", demo=False,
                           cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", demo=False,
                           cluster={"placement": "first", "cascade": True})
    await make_room(a, ROOM, RoomKind.FORUM)
    speaker = await member(a, "speaker", GUEST)
    zh1 = await interpreter(a, "zh1", ["zh"])
    closing: list[Any] = [speaker, zh1]
    try:
        closing.append(await talk(speaker, 440))
        closing.append(await talk(zh1, 660, channel="zh"))
        player = Listener()
        closing.append(player)
        tok = mint(TEST_SECRET, identity="player", room=ROOM, grants=[Grant.SUBSCRIBE],
                   ttl_s=600)
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {tok}"}
        async with aiohttp.ClientSession() as http, http.post(
                f"{b.url}/whep/{ROOM}?language=zh", data=await player.offer(audio=2),
                headers=headers, allow_redirects=False) as response:
            answer = await response.text()
            assert response.status == 201, answer  # served by the edge, not redirected
        await player.accept(answer)
        await until(lambda: len(player.heard) == 2, 20)
        await hears(player, 660, track=0)
        await hears(player, 440, track=1)
        labels = sorted(u.participant for u in b.app[MEDIA_KEY].upstreams(ROOM))
        assert labels == ["channel:zh", "origin"], labels
        # a booth partner seated on the edge: an interpreter's own track is not pulled (the
        # origin's booth rule refuses the edge's identity): a clear error, nothing left open
        partner = await interpreter(b, "zh3", ["zh"])
        closing.append(partner)
        probe = Listener()
        closing.append(probe)
        refused = await partner.call("subscribe", {"room": ROOM, "source": "zh1/audio0",
                                                   "sdp": await probe.offer()})
        assert refused["error"]["code"] == "origin_refused", refused
        assert len(b.app[MEDIA_KEY].upstreams(ROOM)) == 2
    finally:
        for thing in reversed(closing):
            await thing.close()
