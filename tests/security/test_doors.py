"""Issue 11's findings, each reproduced against a real node and refused: a resumed session
cannot carry a token for another room into its rooms, WHIP/WHEP meet the room's rules, a kick
reaches every tab and media tool of a person (on every node), hidden participants and a
meeting's invitees stay private, ``subscribe`` needs its grant, and the media caps hold."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, Viewer, until
from web.keys import BACKEND_KEY, HUB_KEY
from web.media import MEDIA_KEY

Start = Callable[..., Awaitable[RunningApp]]
SDP = "application/sdp"


def bearer(tok: str) -> dict[str, str]:
    return {"Content-Type": SDP, "Authorization": f"Bearer {tok}"}


async def post(app: RunningApp, path: str, body: str, tok: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.post(
            app.url + path, data=body, headers=bearer(tok)) as response:
        return response.status, await response.text(), response.headers


async def put_room(app: RunningApp, room_id: str, kind: RoomKind, **fields: Any) -> Room:
    room = Room(id=room_id, kind=kind, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), **fields)
    await app.app[BACKEND_KEY].store.put_room(room)
    return room


async def publish_whip(app: RunningApp, room: str, tok: str) -> tuple[Publisher, str]:
    publisher = Publisher("vp8")
    status, answer, headers = await post(app, f"/whip/{room}", await publisher.offer(), tok)
    assert status == 201, answer
    await publisher.accept(answer)
    return publisher, headers["Location"]


# -- finding 1: room takeover by session resume ------------------------------------------------
async def test_a_resume_with_a_token_for_another_room_starts_a_fresh_session(
        pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    await put_room(app, "m1", RoomKind.MEETING, exhibitor="visitor-1", state=RoomState.LIVE)
    visitor = await RtcClient.connect(app, token("visitor-1", "live", VIEWER))
    await visitor.ok("join", {"room": "live"})
    old = visitor.session["session"]
    await visitor.close()
    meeting_host = token("visitor-1", "m1", HOST)  # what the meetings API would hand them
    again = await RtcClient.connect(app, meeting_host, session=old)
    assert again.session["resumed"] is False and again.session["session"] != old
    assert (await again.call("room.lock", {"room": "live", "locked": True}))["error"][
        "code"] == "not_joined"
    assert (await again.call("join", {"room": "live"}))["error"]["code"] == "wrong_room"
    room = await app.app[BACKEND_KEY].store.get_room("live")
    assert room is not None and not room.locked
    await again.close()


async def test_a_resume_with_the_same_kind_of_token_keeps_the_rooms(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    viewer = await RtcClient.connect(app, token("fan", "live", VIEWER))
    await viewer.ok("join", {"room": "live"})
    old = viewer.session["session"]
    await viewer.close()
    again = await RtcClient.connect(app, token("fan", "live", VIEWER), session=old)
    assert again.session["resumed"] is True and again.session["rooms"] == ["live"]
    await again.close()


# -- moderation checks the token's room --------------------------------------------------------
async def test_a_moderator_of_one_room_cannot_moderate_another(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    service = app.app[BACKEND_KEY].service
    from rooms.token import verify
    other_mod = verify(app.settings.secret_value(), token("mod", "elsewhere", HOST))
    with pytest.raises(Exception) as refused:
        await service.lock(other_mod, "live", True)
    assert getattr(refused.value, "code", "") == "wrong_room"


# -- finding 6: subscribe needs the subscribe grant ----------------------------------------------
async def test_socketio_subscribe_needs_the_subscribe_grant(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    chat_only = await RtcClient.connect(app, token("chatter", "live", (Grant.JOIN, Grant.CHAT)))
    await chat_only.ok("join", {"room": "live"})
    reply = await chat_only.call("subscribe", {"room": "live"})
    assert reply["error"]["code"] == "no_subscribe_grant"
    await chat_only.close()


# -- finding 2: WHIP and WHEP meet the room's rules ---------------------------------------------
async def test_whep_refuses_a_rehearsal_a_locked_room_and_a_banned_viewer(
        pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    later = datetime.now(UTC) + timedelta(hours=3)
    await put_room(app, "rehearsal", RoomKind.BROADCAST, exhibitor="host", starts_at=later)
    viewer = Viewer()
    offer = await viewer.offer()
    watch = token("fan", "rehearsal", (Grant.SUBSCRIBE,))
    status, text, _ = await post(app, "/whep/rehearsal", offer, watch)
    assert (status, "not_started" in text) == (403, True)
    host_tok = token("host", "rehearsal", (Grant.PUBLISH, Grant.JOIN, Grant.MODERATE))
    publisher, _ = await publish_whip(app, "rehearsal", host_tok)  # staff pass the schedule
    service = app.app[BACKEND_KEY].service
    from rooms.token import verify
    host = verify(app.settings.secret_value(), host_tok)
    await service.set_state(host, "rehearsal", RoomState.LIVE)
    await service.lock(host, "rehearsal", True)
    status, text, _ = await post(app, "/whep/rehearsal", offer, watch)
    assert (status, "room_locked" in text) == (403, True)
    await service.lock(host, "rehearsal", False)
    status, answer, _ = await post(app, "/whep/rehearsal", offer, watch)
    assert status == 201, answer
    await viewer.accept(answer)
    people = {p.identity for p in await app.app[BACKEND_KEY].store.list_participants(
        "rehearsal")}
    assert {"host", "fan"} <= people, "WHIP and WHEP sessions are present (finding 11)"
    kicked = await service.kick(host, "rehearsal", "fan")  # no 404: the viewer is present
    await app.app[HUB_KEY].moderated([kicked])  # what the admin API does after deciding
    plane = app.app[MEDIA_KEY]
    await until(lambda: not any(p.participant == "fan" for p in plane.peers.values()))
    again = Viewer()
    status, text, _ = await post(app, "/whep/rehearsal", await again.offer(), watch)
    assert (status, "banned" in text) == (403, True)
    for peer in (viewer, again, publisher):
        await peer.close()


async def test_whip_needs_the_stage_and_whep_needs_admission(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await put_room(app, "forum", RoomKind.FORUM, state=RoomState.LIVE, stage_size=1)
    moderator = await RtcClient.connect(app, token("mod", "forum", HOST))
    await moderator.ok("join", {"room": "forum"})  # the one seat on stage
    speaker = token("speaker", "forum", (Grant.JOIN, Grant.PUBLISH))
    publisher = Publisher("vp8")
    status, text, _ = await post(app, "/whip/forum", await publisher.offer(), speaker)
    assert (status, "not_on_stage" in text) == (403, True)
    await publisher.close()
    await put_room(app, "m2", RoomKind.MEETING, exhibitor="seller", state=RoomState.LIVE)
    viewer = Viewer()
    status, text, _ = await post(app, "/whep/m2", await viewer.offer(), token("buyer", "m2",
                                                                                  GUEST))
    assert (status, "in_waiting_room" in text) == (403, True)
    await viewer.close()
    await moderator.close()


# -- finding 3: a kick reaches every session of the person --------------------------------------
async def test_a_kick_reaches_every_tab_and_media_tool_of_the_person(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    publisher, _ = await publish_whip(app, "live", token("host", "live", HOST))
    tabs = [await RtcClient.connect(app, token("fan", "live", VIEWER)) for _ in range(2)]
    for tab in tabs:
        await tab.ok("join", {"room": "live"})
    player = Viewer()
    status, answer, _ = await post(app, "/whep/live", await player.offer(),
                                   token("fan", "live", VIEWER))
    assert status == 201, answer
    await player.accept(answer)
    await host.ok("participant.remove", {"room": "live", "identity": "fan"})
    for tab in tabs:
        await tab.wait_for("participant.removed")
        assert (await tab.call("chat.send", {"room": "live", "text": "still here?"}))[
            "error"]["code"] == "not_joined"
    plane = app.app[MEDIA_KEY]
    await until(lambda: not any(p.participant == "fan" for p in plane.peers.values()))
    hub = app.app[HUB_KEY]
    assert hub.sessions_of("live", "fan") == []
    await host.ok("chat.send", {"room": "live", "text": "after the kick"})
    await asyncio.sleep(0.3)
    assert all(not any(m["text"] == "after the kick" for m in tab.seen("chat.message"))
               for tab in tabs)
    for peer in (player, publisher):
        await peer.close()
    for client in (host, *tabs):
        await client.close()


async def test_closing_one_tab_keeps_the_person_in_the_room(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, signaling={"reconnect_grace_s": 0})
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    tabs = [await RtcClient.connect(app, token("fan", "live", VIEWER)) for _ in range(2)]
    for tab in tabs:
        await tab.ok("join", {"room": "live"})
    await tabs[0].close()
    store = app.app[BACKEND_KEY].store
    await asyncio.sleep(0.2)
    assert await store.get_participant("live", "fan") is not None
    await tabs[1].ok("chat.send", {"room": "live", "text": "still in"})
    await tabs[1].close()
    await until(lambda: "live" not in app.app[HUB_KEY].audience)


# -- finding 4: private stays private ------------------------------------------------------------
async def test_a_waiting_guest_sees_no_invitees_and_a_hidden_leave_is_silent(
        pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False)
    await put_room(app, "m3", RoomKind.MEETING, exhibitor="seller", state=RoomState.LIVE,
                   invitees=frozenset({"buyer", "secret-partner"}))
    host = await RtcClient.connect(app, token("seller", "m3", HOST))
    host_state = await host.ok("join", {"room": "m3"})
    assert set(host_state["room"]["invitees"]) == {"buyer", "secret-partner"}
    guest = await RtcClient.connect(app, token("buyer", "m3", GUEST))
    state = await guest.ok("join", {"room": "m3"})
    assert state["waiting"] is True and "invitees" not in state["room"]
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    fan = await RtcClient.connect(app, token("fan", "live", VIEWER))
    await fan.ok("join", {"room": "live"})
    observer = await RtcClient.connect(app, token("obs", "live", (*VIEWER, Grant.HIDDEN)))
    await observer.ok("join", {"room": "live"})
    assert "obs" not in {p["identity"] for p in (await fan.ok("join", {"room": "live"}))[
        "participants"]}
    await observer.ok("leave", {"room": "live"})
    await fan.ok("chat.send", {"room": "live", "text": "marker"})
    await fan.wait_for("chat.message", lambda m: m["text"] == "marker")
    assert not [e for e in fan.seen("participant.left") if e["identity"] == "obs"]
    for client in (host, guest, fan, observer):
        await client.close()


# -- caps (deliverable 5) ------------------------------------------------------------------------
async def test_media_peers_per_connection_are_capped(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, media={"max_peers_per_session": 2})
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    publisher = Publisher("vp8")
    reply = await host.ok("publish", {"room": "live", "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    fan = await RtcClient.connect(app, token("fan", "live", VIEWER))
    await fan.ok("join", {"room": "live"})
    for _ in range(2):
        await fan.ok("subscribe", {"room": "live"})
    refused = await fan.call("subscribe", {"room": "live"})
    assert refused["error"]["code"] == "too_many_peers"
    await publisher.close()
    for client in (host, fan):
        await client.close()


async def test_a_burst_of_whep_offers_meets_the_negotiation_cap(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, media={"max_negotiations": 1})
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host")
    publisher, _ = await publish_whip(app, "live", token("host", "live", HOST))
    viewers = [Viewer() for _ in range(6)]
    offers = [await v.offer() for v in viewers]
    results = await asyncio.gather(*[
        post(app, "/whep/live", offer, token(f"fan{n}", "live", VIEWER))
        for n, offer in enumerate(offers)])
    statuses = [status for status, _, _ in results]
    assert 429 in statuses and 201 in statuses, statuses
    assert all(int(h["Retry-After"]) >= 1 for s, _, h in results if s == 429)
    assert set(statuses) <= {201, 429}
    for peer in (*viewers, publisher):
        await peer.close()


# -- deliverable 2: everyone of an identity, on every node -------------------------------------
@pytest.mark.redis
async def test_a_kick_on_node_a_ends_the_persons_sessions_and_peers_on_node_b(
        pavilion_app: Start, redis_url: str) -> None:
    node_a = await pavilion_app(demo=False, redis_url=redis_url, node_id="node-a")
    node_b = await pavilion_app(demo=False, redis_url=redis_url, node_id="node-b")
    await make_room(node_b, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(node_b, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    publisher, _ = await publish_whip(node_b, "live", token("host", "live", HOST))
    tab_a = await RtcClient.connect(node_a, token("fan", "live", VIEWER))
    await tab_a.ok("join", {"room": "live"})
    tab_b = await RtcClient.connect(node_b, token("fan", "live", VIEWER))
    await tab_b.ok("join", {"room": "live"})
    player = Viewer()  # and a WHEP player of the same person, on node B (the media node)
    status, answer, _ = await post(node_b, "/whep/live", await player.offer(),
                                   token("fan", "live", VIEWER))
    assert status == 201, answer
    await player.accept(answer)
    moderator = await RtcClient.connect(node_a, token("mod", "live", HOST))
    await moderator.ok("join", {"room": "live"})
    await moderator.ok("participant.remove", {"room": "live", "identity": "fan"})
    for tab in (tab_a, tab_b):
        await tab.wait_for("participant.removed")
    await until(lambda: node_b.app[HUB_KEY].sessions_of("live", "fan") == [])
    plane_b = node_b.app[MEDIA_KEY]
    await until(lambda: not any(p.participant == "fan" for p in plane_b.peers.values()))
    for tab in (tab_a, tab_b):
        assert (await tab.call("chat.send", {"room": "live", "text": "x"}))["error"][
            "code"] == "not_joined"
        assert (await tab.call("join", {"room": "live"}))["error"]["code"] == "banned"
    for peer in (player, publisher):
        await peer.close()
    for client in (host, tab_a, tab_b, moderator):
        await client.close()
