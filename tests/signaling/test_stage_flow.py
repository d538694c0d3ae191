"""Issue 12 over real Socket.IO clients against the real app: a stage invitation is asked, not
imposed (``stage.invited`` → ``stage.accept`` / ``stage.decline``), a speaker's own controls
(``media.state``, ``stage.leave``), one display name per person (``name.set``), the exhibitor's
localized name, and answered questions in the join state."""

from __future__ import annotations

import time

from rooms.clock import FakeClock
from rooms.pavilion import Pavilion
from rooms.room import RoomKind
from rooms.stage import INVITE_TTL_S
from rooms.text import LocalizedText
from rooms.token import verify
from rooms.trade.availability import ExhibitorProfile
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from web.keys import BACKEND_KEY, HUB_KEY
from web.meetings_api import BOOKINGS_KEY


async def _forum(pavilion_app):  # type: ignore[no-untyped-def]
    app = await pavilion_app(demo=False)
    await make_room(app, "forum", RoomKind.FORUM)
    clients = [await RtcClient.connect(app, token(who, "forum", HOST if who == "mod" else VIEWER))
               for who in ("mod", "aud", "other")]
    for client in clients:
        await client.ok("join", {"room": "forum"})
    return app, clients


async def test_invite_accept_media_state_and_leave_the_stage(pavilion_app):
    _, (mod, aud, other) = await _forum(pavilion_app)
    await mod.ok("stage.promote", {"room": "forum", "identity": "aud"})
    invited = await aud.wait_for("stage.invited")
    assert invited["participant"]["invited_until"] > 0 and not invited["participant"]["on_stage"]
    await mod.wait_for("stage.invited")  # staff see their invitation
    assert (await aud.call("publish", {"room": "forum", "sdp": "v=0"}))["error"]["code"] == (
        "not_on_stage")  # invited is not on stage: nothing is sent before consent
    await aud.ok("stage.accept", {"room": "forum"})
    for client in (mod, aud, other):
        promoted = await client.wait_for("stage.changed", lambda e: e["change"] == "promoted")
        assert promoted["participant"]["identity"] == "aud"
    assert other.seen("stage.invited") == []  # the audience never heard the invitation
    await aud.ok("media.state", {"room": "forum", "audio_off": True})
    muted = await other.wait_for("participant.changed", lambda e: e["change"] == "media")
    assert (muted["participant"]["audio_off"], muted["participant"]["video_off"]) == (True, False)
    await aud.ok("media.state", {"room": "forum", "video_off": True, "audio_off": False})
    both = await other.wait_for("participant.changed", lambda e: e["change"] == "media" and (
        e["participant"]["video_off"]))
    assert both["participant"]["audio_off"] is False
    await aud.ok("stage.leave", {"room": "forum"})
    left = await other.wait_for("stage.changed", lambda e: e["change"] == "demoted")
    assert left["participant"]["identity"] == "aud" and left["participant"]["on_stage"] is False
    assert (await aud.call("stage.leave", {"room": "forum"}))["error"]["code"] == "not_on_stage"
    assert (await other.call("stage.accept", {"room": "forum"}))["error"]["code"] == (
        "no_invitation")
    for client in (mod, aud, other):
        await client.close()


async def test_a_declined_invitation_is_told_to_the_moderator(pavilion_app):
    _, (mod, aud, other) = await _forum(pavilion_app)
    await mod.ok("stage.promote", {"room": "forum", "identity": "aud"})
    await aud.wait_for("stage.invited")
    await aud.ok("stage.decline", {"room": "forum"})
    declined = await mod.wait_for("stage.declined")
    assert declined["participant"]["identity"] == "aud"
    assert (await aud.call("stage.accept", {"room": "forum"}))["error"]["code"] == (
        "no_invitation")
    assert other.seen("stage.declined") == []
    state = await other.ok("join", {"room": "forum"})
    assert state["stage"] == ["mod"]
    for client in (mod, aud, other):
        await client.close()


async def test_one_name_per_person_and_answered_questions_in_the_state(pavilion_app):
    app, (mod, aud, other) = await _forum(pavilion_app)
    assert (await aud.call("name.set", {"room": "forum", "name": " "}))["error"]["code"] == (
        "name_empty")
    await aud.ok("name.set", {"room": "forum", "name": "Olga Petrova"})
    renamed = await other.wait_for("participant.changed", lambda e: e["change"] == "renamed")
    assert renamed["participant"]["name"] == "Olga Petrova"
    said = await aud.ok("chat.send", {"room": "forum", "text": "привет"})
    assert said["message"]["name"] == "Olga Petrova"
    asked = await aud.ok("question.ask", {"room": "forum", "text": "When?"})
    await aud.ok("question.ask", {"room": "forum", "text": "Where?"})
    chair = verify(TEST_SECRET, token("mod", "forum", HOST))
    await app.app[BACKEND_KEY].service.answer(chair, "forum", asked["question"]["id"])
    late = await RtcClient.connect(app, token("late", "forum"))
    state = await late.ok("join", {"room": "forum", "name": "Late Comer", "language": "ja"})
    assert [q["text"] for q in state["questions"]] == ["Where?"]
    assert [(q["text"], q["answered"]) for q in state["answered"]] == [("When?", True)]
    names = {p["identity"]: p["name"] for p in state["participants"]}
    assert names["aud"] == "Olga Petrova" and names["late"] == "Late Comer"
    for client in (mod, aud, other, late):
        await client.close()


async def test_the_exhibitor_has_one_localized_name(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="changbai-foods")
    localized = {"zh": "长白山食品", "en": "Changbai Foods", "ru": "Чанбай Фудс"}
    await app.app[BOOKINGS_KEY].service.store.put_profile(ExhibitorProfile(
        id="changbai-foods", name=LocalizedText(localized), pavilion=Pavilion.NEW_MEDIA))
    host = await RtcClient.connect(app, token("changbai-foods", "live", HOST))
    await host.ok("join", {"room": "live", "language": "zh"})
    said = await host.ok("chat.send", {"room": "live", "text": "欢迎"})
    assert said["message"]["name"] == "Changbai Foods"  # one language-neutral name
    viewer = await RtcClient.connect(app, token("ivan", "live"))
    state = await viewer.ok("join", {"room": "live", "language": "ru"})
    assert state["exhibitor_names"] == localized
    shown = {p["identity"]: p for p in state["participants"]}
    assert shown["changbai-foods"]["names"] == localized and shown["ivan"]["names"] is None
    for client in (host, viewer):
        await client.close()


async def test_a_lapsed_invitation_is_cleared_and_told_to_the_moderator(pavilion_app):
    app, (mod, aud, other) = await _forum(pavilion_app)
    service, hub = app.app[BACKEND_KEY].service, app.app[HUB_KEY]
    clock = FakeClock(time.time())
    service.clock = clock  # the invitation's lifetime runs on the service's clock
    await mod.ok("stage.promote", {"room": "forum", "identity": "aud"})
    await aud.wait_for("stage.invited")
    clock.advance(INVITE_TTL_S - 1)
    await hub.lapse_invitations()  # not yet lapsed: nothing is said, nothing cleared
    assert mod.seen("stage.invitation_lapsed") == []
    clock.advance(2)
    await hub.lapse_invitations()
    for client in (mod, aud):
        lapsed = await client.wait_for("stage.invitation_lapsed")
        assert lapsed["participant"]["identity"] == "aud"
        assert lapsed["participant"]["invited_until"] == 0  # the "Invited" mark goes
    stored = await service.store.get_participant("forum", "aud")
    assert stored is not None and stored.invited_until == 0  # cleared from the Store
    assert (await aud.call("stage.accept", {"room": "forum"}))["error"]["code"] == (
        "no_invitation")
    await hub.lapse_invitations()  # told once
    assert len(mod.seen("stage.invitation_lapsed")) == 1
    assert other.seen("stage.invitation_lapsed") == []  # the audience never heard of it
    for client in (mod, aud, other):
        await client.close()


async def test_a_name_the_exhibitor_chooses_replaces_the_company_name(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="changbai-foods")
    localized = {"zh": "长白山食品", "en": "Changbai Foods"}
    await app.app[BOOKINGS_KEY].service.store.put_profile(ExhibitorProfile(
        id="changbai-foods", name=LocalizedText(localized), pavilion=Pavilion.NEW_MEDIA))
    host = await RtcClient.connect(app, token("changbai-foods", "live", HOST))
    viewer = await RtcClient.connect(app, token("ivan", "live"))
    await host.ok("join", {"room": "live", "language": "zh"})
    await viewer.ok("join", {"room": "live", "language": "ru"})
    await host.ok("name.set", {"room": "live", "name": "Li Wei"})
    renamed = await viewer.wait_for("participant.changed", lambda e: e["change"] == "renamed")
    assert (renamed["participant"]["name"], renamed["participant"]["names"]) == ("Li Wei", None)
    again = await RtcClient.connect(app, token("changbai-foods", "live", HOST))
    state = await again.ok("join", {"room": "live", "name": "Li Wei"})  # the remembered name
    assert (state["me"]["name"], state["me"]["names"]) == ("Li Wei", None)
    for client in (host, viewer, again):
        await client.close()
