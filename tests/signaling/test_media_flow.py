"""Media over Socket.IO through the node's one media plane, with real aiortc peers on loopback:
a broadcast (host publishes, three viewers receive), a forum speaker (promoted, publishes,
audience receives, demoted, track ends) and a meeting (host and admitted guest exchange media)."""

from __future__ import annotations

import pytest
from aiortc import RTCSessionDescription

from rooms.room import RoomKind
from streaming.viewer import ViewerLeg
from tests.fixtures.pavilion import RunningApp
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, Viewer, until
from web.media import MEDIA_KEY

pytestmark = pytest.mark.slow


async def _publish(client: RtcClient, room: str) -> tuple[Publisher, str]:
    publisher = Publisher("vp8")
    reply = await client.ok("publish", {"room": room, "sdp": await publisher.offer()})
    assert reply["type"] == "answer" and reply["peer"]
    await publisher.accept(reply["sdp"])
    return publisher, reply["peer"]


async def _watch(client: RtcClient, room: str, **target: str) -> Viewer:
    """The viewer offers (the pages' form) and may name a ``participant`` or ``source``."""
    viewer = Viewer()
    reply = await client.ok("subscribe", {"room": room, "sdp": await viewer.offer(), **target})
    assert reply["type"] == "answer"
    await viewer.accept(reply["sdp"])
    viewer.peer_id = reply["peer"]
    return viewer


def _watched(app: RunningApp, viewer: Viewer) -> set[str]:
    """What the node's plane forwards to this viewer: the source ids it subscribed."""
    leg = app.app[MEDIA_KEY].peer(viewer.peer_id)
    assert isinstance(leg, ViewerLeg)
    return {source.source_id for source, _ in leg.subscriptions}


async def _watch_offered(client: RtcClient, room: str, **target: str) -> Viewer:
    """The server offers (the sender of media is the offerer); the viewer answers."""
    viewer = Viewer()
    offer = await client.ok("subscribe", {"room": room, **target})
    assert offer["type"] == "offer"
    await viewer.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await viewer.pc.setLocalDescription(await viewer.pc.createAnswer())
    await viewer.take_answer_side()
    await client.ok("answer", {"room": room, "peer": offer["peer"],
                               "sdp": viewer.pc.localDescription.sdp})
    viewer.peer_id = offer["peer"]
    return viewer


async def test_broadcast_host_publishes_three_viewers_receive(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    clients = [await RtcClient.connect(app, token(f"v{n}", "live", VIEWER)) for n in range(3)]
    for client in clients:
        await client.ok("join", {"room": "live"})
    publisher, peer = await _publish(host, "live")
    for client in clients:
        track = await client.wait_for("track.published", lambda t: t["kind"] == "video")
        assert track["participant"] == "host" and track["codec"] == "video/VP8"
    state = await RtcClient.connect(app, token("late", "live", VIEWER))
    assert {t["kind"] for t in (await state.ok("join", {"room": "live"}))["tracks"]} == {
        "audio", "video"}
    viewers = [await _watch(client, "live") for client in clients]
    await until(lambda: all(v.count("video") > 10 and v.count("audio") > 5 for v in viewers))
    assert (await clients[0].call("publish", {"room": "live", "sdp": "v=0"}))["error"][
        "code"] == "not_on_stage"
    await host.ok("unpublish", {"room": "live", "peer": peer})
    await clients[0].wait_for("track.unpublished", lambda t: t["kind"] == "video")
    await until(lambda: all(v.ended.get("video") and v.ended["video"].is_set()
                            for v in viewers))
    for viewer in viewers:
        await viewer.close()
    await publisher.close()
    for client in [host, state, *clients]:
        await client.close()


async def test_forum_promoted_speaker_publishes_and_demotion_ends_the_track(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "forum", RoomKind.FORUM)
    mod = await RtcClient.connect(app, token("mod", "forum", HOST))
    speaker = await RtcClient.connect(app, token("sam", "forum", VIEWER))
    audience = await RtcClient.connect(app, token("aud", "forum", VIEWER))
    for client in (mod, speaker, audience):
        await client.ok("join", {"room": "forum"})
    await speaker.ok("hand.raise", {"room": "forum"})
    await mod.wait_for("hand.raised")
    await mod.ok("stage.promote", {"room": "forum", "identity": "sam"})
    await speaker.ok("stage.accept", {"room": "forum"})
    publisher, _ = await _publish(speaker, "forum")
    await audience.wait_for("track.published", lambda t: t["participant"] == "sam")
    viewer = await _watch(audience, "forum")
    await until(lambda: viewer.count("video") > 10)
    await mod.ok("stage.demote", {"room": "forum", "identity": "sam"})
    await audience.wait_for("track.unpublished", lambda t: t["participant"] == "sam")
    await until(lambda: "video" in viewer.ended and viewer.ended["video"].is_set())
    demoted = Publisher()
    again = await speaker.call("publish", {"room": "forum", "sdp": await demoted.offer()})
    assert again["error"]["code"] == "not_on_stage"
    await demoted.close()
    await viewer.close()
    await publisher.close()
    for client in (mod, speaker, audience):
        await client.close()


async def test_meeting_host_and_admitted_guest_exchange_media(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "deal", RoomKind.MEETING, exhibitor="seller")
    host = await RtcClient.connect(app, token("seller", "deal", HOST))
    guest = await RtcClient.connect(app, token("buyer", "deal", GUEST))
    await host.ok("join", {"room": "deal"})
    await guest.ok("join", {"room": "deal"})
    too_early = Viewer()
    early = await guest.call("subscribe", {"room": "deal", "sdp": await too_early.offer()})
    assert early["error"]["code"] == "in_waiting_room"
    await too_early.close()
    await host.ok("waiting.admit", {"room": "deal", "identity": "buyer"})
    await guest.wait_for("waiting.admitted")
    host_pub, _ = await _publish(host, "deal")
    guest_pub, _ = await _publish(guest, "deal")
    await guest.wait_for("track.published", lambda t: t["participant"] == "seller")
    await host.wait_for("track.published", lambda t: t["participant"] == "buyer")
    guest_view = await _watch(guest, "deal", participant="seller")  # the pages' form
    host_view = await _watch_offered(host, "deal", participant="buyer")
    await until(lambda: guest_view.count("video") > 10 and host_view.count("video") > 10)
    assert guest_view.count("audio") > 5 and host_view.count("audio") > 5
    assert _watched(app, guest_view) == {"seller/video0", "seller/audio0"}
    assert _watched(app, host_view) == {"buyer/video0", "buyer/audio0"}
    nobody = await guest.call("subscribe", {"room": "deal", "participant": "ghost"})
    assert nobody["error"]["code"] == "no_such_track"
    ghost = Viewer()
    offered = {"room": "deal", "sdp": await ghost.offer()}
    for target in ({"participant": "ghost"}, {"source": "ghost/video0"}):
        refused = await guest.call("subscribe", {**offered, **target})
        assert refused["error"]["code"] == "no_such_track", refused
    await ghost.close()
    bad = await guest.call("answer", {"room": "deal", "peer": "nope", "sdp": "v=0"})
    assert bad["error"]["code"] == "no_such_peer"
    await host.ok("room.close", {"room": "deal"})
    await guest.wait_for("room.closed")
    await until(lambda: "video" in guest_view.ended and guest_view.ended["video"].is_set())
    for peer in (host_pub, guest_pub, host_view, guest_view):
        await peer.close()
    await host.close()
    await guest.close()


async def test_publisher_reconnects_and_renegotiates_while_viewers_keep_receiving(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    watcher = await RtcClient.connect(app, token("v0", "live", VIEWER))
    await watcher.ok("join", {"room": "live"})
    first, first_peer = await _publish(host, "live")
    await watcher.wait_for("track.published", lambda t: t["kind"] == "video")
    viewer = await _watch(watcher, "live")
    await until(lambda: viewer.count("video") > 10)
    session = host.session["session"]
    await host.close()  # the socket drops; the session, its room and its media stay
    back = await RtcClient.connect(app, token("host", "live", HOST), session=session)
    assert back.session["resumed"] is True and back.session["peers"] == [first_peer]
    await back.ok("join", {"room": "live"})
    second, second_peer = await _publish(back, "live")  # renegotiate: a new leg takes over
    await first.close()
    before = viewer.count("video")
    await until(lambda: viewer.count("video") > before + 30)
    assert not viewer.ended.get("video") or not viewer.ended["video"].is_set()
    assert watcher.seen("track.unpublished") == []
    assert [e for e in watcher.seen("participant.left") if e["identity"] == "host"] == []
    await back.ok("unpublish", {"room": "live", "peer": second_peer})
    await watcher.wait_for("track.unpublished", lambda t: t["kind"] == "video")
    await viewer.close()
    await second.close()
    await back.close()
    await watcher.close()
