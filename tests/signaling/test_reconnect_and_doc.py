"""Reconnect within the grace period resumes the session without leave/join flapping; and
docs/protocol.md names every event the code handles or emits."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from rooms.room import RoomKind
from signaling.errors import CODES
from signaling.messages import CLIENT_EVENTS, SERVER_EVENTS
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from web.rtc import HUB_KEY

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"


def test_every_event_and_error_code_is_documented():
    text = DOC.read_text()
    named = set(re.findall(r"`([a-z_.]+)`", text))
    assert set(CLIENT_EVENTS) - named == set()
    assert set(SERVER_EVENTS) - named == set()
    assert set(CODES) - named == set()


def test_every_handled_event_has_a_message_type():
    from signaling.hub import HANDLERS

    assert set(HANDLERS) == set(CLIENT_EVENTS)


async def test_reconnect_resumes_session_and_chat_without_flapping(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    await host.ok("join", {"room": "hall"})
    viewer = await RtcClient.connect(app, token("vee", "hall", VIEWER))
    await viewer.ok("join", {"room": "hall"})
    seen = await host.ok("chat.send", {"room": "hall", "text": "one"})
    await viewer.wait_for("chat.message", lambda m: m["text"] == "one")
    session_id = viewer.session["session"]
    await viewer.close()
    missed = [await host.ok("chat.send", {"room": "hall", "text": t}) for t in ("two", "three")]
    back = await RtcClient.connect(app, token("vee", "hall", VIEWER), session=session_id)
    assert back.session == {"session": session_id, "resumed": True, "identity": "vee",
                            "rooms": ["hall"], "peers": [], "ice_servers": [],
                            "nodes": []}
    state = await back.ok("join", {"room": "hall", "after": seen["message"]["id"]})
    assert [m["id"] for m in state["chat"]] == [m["message"]["id"] for m in missed]
    await host.ok("chat.send", {"room": "hall", "text": "four"})
    await back.wait_for("chat.message", lambda m: m["text"] == "four")
    await asyncio.sleep(0.4)  # two batch ticks: any leave/join would have been sent by now
    assert [e for e in host.seen("participant.left") if e["identity"] == "vee"] == []
    assert [e for e in host.seen("participant.joined")
            if e["participant"]["identity"] == "vee"] == [host.seen("participant.joined")[-1]]
    await back.close()
    await host.close()


async def test_after_the_grace_period_the_session_leaves(pavilion_app):
    app = await pavilion_app(demo=False, signaling={"reconnect_grace_s": 0.3})
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    await host.ok("join", {"room": "hall"})
    viewer = await RtcClient.connect(app, token("vee", "hall", VIEWER))
    await viewer.ok("join", {"room": "hall"})
    session_id = viewer.session["session"]
    await viewer.close()
    await host.wait_for("participant.left", lambda e: e["identity"] == "vee")
    assert session_id not in app.app[HUB_KEY].by_id
    late = await RtcClient.connect(app, token("vee", "hall", VIEWER), session=session_id)
    assert late.session["resumed"] is False and late.session["session"] != session_id
    await late.close()
    await host.close()


async def test_a_session_id_of_someone_else_is_not_resumed(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST)
    victim = await RtcClient.connect(app, token("victim", "hall", VIEWER))
    await victim.ok("join", {"room": "hall"})
    await victim.close()
    thief = await RtcClient.connect(app, token("thief", "hall", VIEWER),
                                    session=victim.session["session"])
    assert thief.session["resumed"] is False and thief.session["identity"] == "thief"
    await thief.close()


async def test_a_new_socket_takes_over_a_session_whose_old_socket_still_looks_alive(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    await host.ok("join", {"room": "hall"})
    first = await RtcClient.connect(app, token("vee", "hall", VIEWER))
    await first.ok("join", {"room": "hall"})
    second = await RtcClient.connect(app, token("vee", "hall", VIEWER),
                                     session=first.session["session"])
    assert second.session["resumed"] is True and second.session["rooms"] == ["hall"]
    for _ in range(100):
        if not first.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not first.sio.connected
    await second.ok("chat.send", {"room": "hall", "text": "same session, new socket"})
    await host.wait_for("chat.message", lambda m: m["sender"] == "vee")
    assert [e for e in host.seen("participant.left") if e["identity"] == "vee"] == []
    await second.close()
    await host.close()


async def test_a_resume_whose_checks_outlast_the_grace_keeps_a_working_session(pavilion_app):
    """The grace runs out while the resume's re-check of the token waits on the Store (a slow
    Redis, a loaded node): the session must come back whole — in its room, hearing it — not be
    ended under the resume and revived without rooms or mailbox (a reloaded meeting page then
    never heard the room close)."""
    app = await pavilion_app(demo=False, signaling={"reconnect_grace_s": 0.2})
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    await host.ok("join", {"room": "hall"})
    viewer = await RtcClient.connect(app, token("vee", "hall", VIEWER))
    await viewer.ok("join", {"room": "hall"})
    session_id = viewer.session["session"]
    service = app.app[HUB_KEY].service
    real = service.admit_entry

    async def slow_admit(*args, **kwargs):  # the Store answers after the grace is over
        await asyncio.sleep(0.5)
        return await real(*args, **kwargs)

    service.admit_entry = slow_admit
    await viewer.close()
    back = await RtcClient.connect(app, token("vee", "hall", VIEWER), session=session_id)
    service.admit_entry = real
    assert back.session["resumed"] is True and back.session["rooms"] == ["hall"]
    await back.ok("join", {"room": "hall"})  # its mailbox works
    await host.ok("chat.send", {"room": "hall", "text": "still here?"})
    await back.wait_for("chat.message", lambda m: m["text"] == "still here?", within=5)
    assert [e for e in host.seen("participant.left") if e["identity"] == "vee"] == []
    await back.close()
    await host.close()
