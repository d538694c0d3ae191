"""Tile reports and adaptation notices over Socket.IO (issue 14 §2b, §3, §4).

``view`` (client → server): a page says how large, and whether visible, one of its viewer peers'
video is; the node checks that the caller owns that peer in that room and asks the one gate
again before telling the plane (``MediaPlane.set_view``). ``media.quality`` and
``publish.layers`` (server → client) go to the one session that owns the peer they name.

Real parts: a running node, real Socket.IO clients, real aiortc publishers and viewers.
Two tests drive the plane's own adaptation (a hidden tile pauses a one-layer track's video and
gets it back); the routing test emits the plane's events itself, to check who hears them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rooms.room import RoomKind
from streaming.adaptation import TileView
from streaming.plane import LayersWanted, QualityChanged
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import until
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, Viewer
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY
from web.rtc import HUB_KEY

pytestmark = pytest.mark.slow


async def _publish(client: RtcClient, room: str) -> tuple[Publisher, str]:
    publisher = Publisher("vp8")
    reply = await client.ok("publish", {"room": room, "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    return publisher, reply["peer"]


async def _watch(client: RtcClient, room: str) -> tuple[Viewer, str]:
    viewer = Viewer()
    reply = await client.ok("subscribe", {"room": room, "sdp": await viewer.offer()})
    await viewer.accept(reply["sdp"])
    return viewer, reply["peer"]


async def _detached(hub: Any, session_id: str) -> bool:
    return bool(hub.by_id[session_id].detached_at is not None)


def _view(room: str, peer: str, **changes: Any) -> dict[str, Any]:
    return {"room": room, "peer": peer, "width": 640, "height": 360, "visible": True, **changes}


async def _broadcast(app: RunningApp) -> tuple[RtcClient, RtcClient, Publisher, str]:
    """A live broadcast: the host publishes, a visitor has joined."""
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "show", HOST))
    await host.ok("join", {"room": "show"})
    visitor = await RtcClient.connect(app, token("visitor", "show", VIEWER))
    await visitor.ok("join", {"room": "show"})
    publisher, peer = await _publish(host, "show")
    return host, visitor, publisher, peer


async def test_a_view_reaches_the_viewers_peer(pavilion_app):
    app = await pavilion_app(demo=False)
    host, visitor, publisher, _ = await _broadcast(app)
    viewer, peer = await _watch(visitor, "show")
    assert await visitor.ok("view", _view("show", peer, width=320, height=180)) == {"ok": True}
    leg = app.app[MEDIA_KEY].peers[peer]
    assert leg.view == TileView(320, 180, True)
    await visitor.ok("view", _view("show", peer, width=0, height=0, visible=False))
    assert leg.view == TileView(0, 0, False)
    for closing in (viewer, publisher, visitor, host):
        await closing.close()


async def test_a_view_of_someone_elses_peer_or_a_publisher_is_refused(pavilion_app):
    app = await pavilion_app(demo=False)
    host, visitor, publisher, publishing_peer = await _broadcast(app)
    other = await RtcClient.connect(app, token("other", "show", VIEWER))
    await other.ok("join", {"room": "show"})
    viewer, peer = await _watch(visitor, "show")
    theirs = await other.call("view", _view("show", peer, width=1, height=1))
    assert theirs["error"]["code"] == "no_such_peer", theirs
    assert app.app[MEDIA_KEY].peers[peer].view == TileView()  # unchanged by the refusal
    own_publisher = await host.call("view", _view("show", publishing_peer))
    assert own_publisher["error"]["code"] == "no_such_peer", own_publisher
    elsewhere = await visitor.call("view", _view("other-room", peer))
    assert elsewhere["error"]["code"] == "not_joined", elsewhere
    for closing in (viewer, publisher, visitor, other, host):
        await closing.close()


@pytest.mark.parametrize(("changes", "field"), [
    ({"width": -1}, "width"),
    ({"height": 16_385}, "height"),
    ({"width": 10**30}, "width"),
    ({"width": 320.5}, "width"),
    ({"width": "640"}, "width"),
    ({"width": True}, "width"),
    ({"visible": "yes"}, "visible"),
    ({"visible": 1}, "visible"),
    ({"peer": 7}, "peer"),
])
async def test_bad_view_values_get_a_clear_refusal(pavilion_app, changes, field):
    app = await pavilion_app(demo=False)
    host, visitor, publisher, _ = await _broadcast(app)
    viewer, peer = await _watch(visitor, "show")
    reply = await visitor.call("view", {**_view("show", peer), **changes})
    assert reply["ok"] is False and reply["error"]["code"] == "bad_field", reply
    assert reply["error"]["field"] == field, reply
    missing = await visitor.call("view", {"room": "show", "peer": peer, "width": 1})
    assert missing["error"]["code"] == "missing_field", missing
    assert app.app[MEDIA_KEY].peers[peer].view == TileView()
    assert (await visitor.ok("view", _view("show", peer)))["ok"]  # the session lives on
    for closing in (viewer, publisher, visitor, host):
        await closing.close()


async def test_a_view_asks_the_gate_again(pavilion_app):
    """A viewer banned after subscribing (its peer still open) is refused by the gate."""
    app = await pavilion_app(demo=False)
    host, visitor, publisher, _ = await _broadcast(app)
    viewer, peer = await _watch(visitor, "show")
    store = app.app[BACKEND_KEY].store
    await store.ban("show", "visitor", until=2**40)
    refused = await visitor.call("view", _view("show", peer, visible=False))
    assert refused["error"]["code"] == "banned", refused
    assert app.app[MEDIA_KEY].peers[peer].view == TileView()
    for closing in (viewer, publisher, visitor, host):
        await closing.close()


async def test_adaptation_notices_reach_only_the_owning_session(pavilion_app):
    """``media.quality`` to the viewer's session, ``publish.layers`` to the publisher's: not to
    the same person's other page, nor to anyone else in the room. The plane's events are
    emitted here by hand (``MediaPlane._emit``) until its adaptation emits them itself."""
    app = await pavilion_app(demo=False)
    host, visitor, publisher, publishing_peer = await _broadcast(app)
    second_tab = await RtcClient.connect(app, token("visitor", "show", VIEWER))
    await second_tab.ok("join", {"room": "show"})
    viewer, peer = await _watch(visitor, "show")
    plane = app.app[MEDIA_KEY]
    source = plane.sources_of("show", "host")[-1]
    plane._emit(QualityChanged("show", "visitor", peer, source, None, 0, 0, "weak"))
    plane._emit(LayersWanted("show", "host", publishing_peer, source, ("q",)))
    quality = await visitor.wait_for("media.quality")
    assert quality == {"room_id": "show", "peer": peer, "source": source, "layer": None,
                       "width": 0, "height": 0, "reason": "weak"}
    layers = await host.wait_for("publish.layers")
    assert layers == {"room_id": "show", "peer": publishing_peer, "source": source,
                      "active": ["q"]}
    plane._emit(QualityChanged("show", "visitor", "nobodys-peer", source, "f", 1, 1, "only"))
    plane._emit(QualityChanged("show", "visitor", peer, source, "q", 320, 180, "bandwidth"))
    # one task sends them in order: once the last has arrived, a stray one would have too
    await visitor.wait_for("media.quality", lambda e: e["reason"] == "bandwidth")
    assert [e["reason"] for e in visitor.seen("media.quality")] == ["weak", "bandwidth"]
    assert not second_tab.seen("media.quality") and not second_tab.seen("publish.layers")
    assert not host.seen("media.quality") and not visitor.seen("publish.layers")
    for closing in (viewer, publisher, visitor, second_tab, host):
        await closing.close()


async def test_a_notice_sent_while_the_socket_was_away_arrives_on_resume(pavilion_app):
    """A publisher whose socket dropped while the plane asked for its layers again hears it on
    resume (else its viewers stay on a low layer until the next change); a peer that ended
    has nothing replayed."""
    app = await pavilion_app(demo=False)
    host, visitor, publisher, publishing_peer = await _broadcast(app)
    plane = app.app[MEDIA_KEY]
    source = plane.sources_of("show", "host")[-1]
    session_id = host.session["session"]
    hub = app.app[HUB_KEY]
    await host.close()  # the socket goes; the session is kept for the grace period
    await until(lambda: _detached(hub, session_id), "the server to see the socket go")
    plane._emit(LayersWanted("show", "host", publishing_peer, source, ("q", "h", "f")))
    await asyncio.sleep(0.2)  # the link's task has sent it to nobody (no socket)
    back = await RtcClient.connect(app, token("host", "show", HOST), session=session_id)
    assert back.session["resumed"] is True
    layers = await back.wait_for("publish.layers")
    assert layers == {"room_id": "show", "peer": publishing_peer, "source": source,
                      "active": ["q", "h", "f"]}
    await back.ok("unpublish", {"room": "show", "peer": publishing_peer})
    for closing in (publisher, visitor, back):
        await closing.close()


async def test_a_hidden_tile_pauses_its_video(pavilion_app):
    """The real path: a viewer's ``view {visible: false}`` makes the plane pause its video and
    say so to that viewer only (``media.quality`` reason ``hidden``, layer null). The
    publisher here (aiortc) sends one layer, so ``publish.layers`` is left to the browser
    test with a simulcast studio (tests/pages/test_adaptive_browser.py)."""
    app = await pavilion_app(demo=False)
    host, visitor, publisher, _ = await _broadcast(app)
    viewer, peer = await _watch(visitor, "show")
    await visitor.ok("view", _view("show", peer, visible=False))
    quality = await visitor.wait_for("media.quality", lambda e: e["reason"] == "hidden",
                                     within=8)
    assert quality["peer"] == peer and quality["layer"] is None
    assert not host.seen("media.quality")
    for closing in (viewer, publisher, visitor, host):
        await closing.close()


async def test_a_tile_shown_again_gets_video_back(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "deal", RoomKind.MEETING, exhibitor="seller")
    host = await RtcClient.connect(app, token("seller", "deal", HOST))
    guest = await RtcClient.connect(app, token("buyer", "deal", GUEST))
    await host.ok("join", {"room": "deal"})
    await guest.ok("join", {"room": "deal"})
    await host.ok("waiting.admit", {"room": "deal", "identity": "buyer"})
    publisher, _ = await _publish(host, "deal")
    viewer, peer = await _watch(guest, "deal")
    await guest.ok("view", _view("deal", peer, visible=False))
    await guest.wait_for("media.quality", lambda e: e["reason"] == "hidden", within=8)
    await guest.ok("view", _view("deal", peer, visible=True))
    back = await guest.wait_for("media.quality", lambda e: e["reason"] != "hidden", within=8)
    assert back["peer"] == peer and back["reason"] in ("only", "bandwidth", "tile"), back
    for closing in (viewer, publisher, guest, host):
        await closing.close()
