"""Room flows over real Socket.IO clients against the real app: broadcast chat and products,
forum hands and stage, meeting admission and end, moderation (mute, remove, re-join refused)."""

from __future__ import annotations

from rooms.room import RoomKind
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token


async def test_broadcast_chat_both_ways_and_pinned_product_seen(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "live", RoomKind.BROADCAST, exhibitor="host", products=2)
    host = await RtcClient.connect(app, token("host", "live", HOST))
    await host.ok("join", {"room": "live"})
    viewers = [await RtcClient.connect(app, token(f"v{n}", "live", VIEWER)) for n in range(3)]
    for viewer in viewers:
        await viewer.ok("join", {"room": "live"})
    sent = await host.ok("chat.send", {"room": "live", "text": "welcome"})
    reply = await viewers[0].ok("chat.send", {"room": "live", "text": "hello from v0"})
    for client in [host, *viewers]:
        await client.wait_for("chat.message", lambda m: m["id"] == sent["message"]["id"])
        await client.wait_for("chat.message", lambda m: m["id"] == reply["message"]["id"])
    await host.ok("product.pin", {"room": "live", "product": "p1"})
    for viewer in viewers:
        pinned = await viewer.wait_for("product.pinned")
        assert pinned["product"]["id"] == "p1" and pinned["product"]["currency"] == "CNY"
    late = await RtcClient.connect(app, token("late", "live", VIEWER))
    state = await late.ok("join", {"room": "live"})
    assert [c["id"] for c in state["products"]] == ["p1"]
    assert [m["text"] for m in state["chat"]] == ["welcome", "hello from v0"]
    refused = await viewers[1].call("product.pin", {"room": "live", "product": "p0"})
    assert refused["error"]["code"] == "not_host"
    for client in [host, late, *viewers]:
        await client.close()


async def test_forum_hand_promote_demote(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "forum", RoomKind.FORUM)
    mod = await RtcClient.connect(app, token("mod", "forum", HOST))
    aud = await RtcClient.connect(app, token("aud", "forum", VIEWER))
    await mod.ok("join", {"room": "forum"})
    await aud.ok("join", {"room": "forum"})
    assert (await aud.call("publish", {"room": "forum", "sdp": "v=0"}))["error"]["code"] == (
        "not_on_stage")
    await aud.ok("hand.raise", {"room": "forum"})
    raised = await mod.wait_for("hand.raised")
    assert raised["participant"]["identity"] == "aud"
    refused = await aud.call("stage.promote", {"room": "forum", "identity": "aud"})
    assert refused["error"]["code"] == "not_moderator"
    await mod.ok("stage.promote", {"room": "forum", "identity": "aud"})
    await aud.wait_for("stage.invited")
    await aud.ok("stage.accept", {"room": "forum"})
    changed = await aud.wait_for("stage.changed", lambda e: e["change"] == "promoted")
    assert changed["participant"]["on_stage"] is True
    await mod.ok("stage.demote", {"room": "forum", "identity": "aud"})
    await aud.wait_for("stage.changed", lambda e: e["change"] == "demoted")
    await mod.close()
    await aud.close()


async def test_meeting_knock_admit_host_leaves_and_returns_then_closes_it(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "deal", RoomKind.MEETING, exhibitor="seller")
    host = await RtcClient.connect(app, token("seller", "deal", HOST))
    await host.ok("join", {"room": "deal"})
    guest = await RtcClient.connect(app, token("buyer", "deal", GUEST))
    waiting = await guest.ok("join", {"room": "deal"})
    assert waiting["waiting"] is True and "chat" not in waiting
    knock = await host.wait_for("waiting.knock")
    assert knock["participant"]["identity"] == "buyer"
    assert (await guest.call("chat.send", {"room": "deal", "text": "hi"}))["error"]["code"] == (
        "in_waiting_room")
    await host.ok("chat.send", {"room": "deal", "text": "before admission"})
    await host.ok("waiting.admit", {"room": "deal", "identity": "buyer"})
    await guest.wait_for("waiting.admitted")
    state = await guest.ok("join", {"room": "deal"})
    assert state["waiting"] is False and [m["text"] for m in state["chat"]] == [
        "before admission"]
    await guest.ok("chat.send", {"room": "deal", "text": "after admission"})
    await host.wait_for("chat.message", lambda m: m["text"] == "after admission")
    await host.ok("leave", {"room": "deal"})  # a host stepping out ends nothing
    await guest.wait_for("participant.left", lambda e: e["identity"] == "seller")
    await guest.ok("chat.send", {"room": "deal", "text": "still here"})
    await host.ok("join", {"room": "deal"})
    await host.ok("room.close", {"room": "deal"})  # "End meeting for everyone"
    closed = await guest.wait_for("room.closed")
    assert closed["room"]["state"] == "ended"
    assert (await guest.call("chat.send", {"room": "deal", "text": "x"}))["error"]["code"] == (
        "not_joined")
    again = await RtcClient.connect(app, token("buyer", "deal", GUEST))
    assert (await again.call("join", {"room": "deal"}))["error"]["code"] == "room_ended"
    for client in (host, guest, again):
        await client.close()


async def test_meeting_deny_turns_the_guest_away(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "deal2", RoomKind.MEETING, exhibitor="seller")
    host = await RtcClient.connect(app, token("seller", "deal2", HOST))
    await host.ok("join", {"room": "deal2"})
    guest = await RtcClient.connect(app, token("pest", "deal2", GUEST))
    await guest.ok("join", {"room": "deal2"})
    await host.wait_for("waiting.knock")
    await host.ok("waiting.deny", {"room": "deal2", "identity": "pest"})
    denied = await guest.wait_for("waiting.denied")
    assert (denied["identity"], denied["change"]) == ("pest", "denied")
    await host.wait_for("waiting.denied", lambda e: e["identity"] == "pest")
    assert (await guest.call("chat.history", {"room": "deal2"}))["error"]["code"] == "not_joined"
    knock = await guest.ok("join", {"room": "deal2"})  # denied, not banned: it may knock again
    assert knock["waiting"] is True
    await host.wait_for("waiting.knock", lambda e: len(host.seen("waiting.knock")) == 2)
    await host.ok("participant.remove", {"room": "deal2", "identity": "pest"})
    await guest.wait_for("participant.removed")
    assert (await guest.call("join", {"room": "deal2"}))["error"]["code"] == "banned"
    await host.close()
    await guest.close()


async def test_moderation_mute_and_remove_with_rejoin_refused(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "show", HOST))
    troll = await RtcClient.connect(app, token("troll", "show", VIEWER))
    await host.ok("join", {"room": "show"})
    await troll.ok("join", {"room": "show"})
    bad = await troll.ok("chat.send", {"room": "show", "text": "spam"})
    await host.ok("chat.delete", {"room": "show", "message": bad["message"]["id"]})
    await troll.wait_for("chat.deleted", lambda e: e["message_id"] == bad["message"]["id"])
    await host.ok("track.mute", {"room": "show", "identity": "troll"})
    muted = await troll.wait_for("participant.muted")
    assert muted["participant"]["muted"] is True
    assert (await troll.call("chat.send", {"room": "show", "text": "x"}))["error"]["code"] == (
        "muted")
    await host.ok("participant.remove", {"room": "show", "identity": "troll"})
    removed = await troll.wait_for("participant.removed")
    assert removed["identity"] == "troll"
    assert (await troll.call("chat.send", {"room": "show", "text": "x"}))["error"]["code"] == (
        "not_joined")
    assert (await troll.call("join", {"room": "show"}))["error"]["code"] == "banned"
    state = await host.ok("join", {"room": "show"})
    assert [p["identity"] for p in state["participants"]] == ["host"]
    await host.close()
    await troll.close()


async def test_reactions_arrive_aggregated_and_questions_are_voted(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "talk", RoomKind.FORUM)
    mod = await RtcClient.connect(app, token("mod", "talk", HOST))
    fans = [await RtcClient.connect(app, token(f"f{n}", "talk", VIEWER)) for n in range(3)]
    await mod.ok("join", {"room": "talk"})
    for fan in fans:
        await fan.ok("join", {"room": "talk"})
        await fan.ok("reaction", {"room": "talk", "kind": "clap"})
    await fans[0].ok("reaction", {"room": "talk", "kind": "heart"})
    seen: dict[str, int] = {}

    def tally(frame: dict) -> bool:
        seen.clear()
        for summary in mod.seen("reactions"):
            for kind, n in summary["counts"].items():
                seen[kind] = seen.get(kind, 0) + n
        return seen == {"clap": 3, "heart": 1}

    await mod.wait_for("reactions", tally)
    assert mod.seen("reactions")[-1]["totals"]["clap"] == 3
    asked = await fans[1].ok("question.ask", {"room": "talk", "text": "When is the next panel?"})
    qid = asked["question"]["id"]
    await mod.wait_for("question.asked", lambda q: q["id"] == qid)
    await fans[2].ok("question.vote", {"room": "talk", "question": qid})
    voted = await mod.wait_for("question.voted", lambda v: v["question_id"] == qid)
    assert voted["votes"] == 1
    state = await mod.ok("join", {"room": "talk"})
    assert [q["id"] for q in state["questions"]] == [qid]
    for client in [mod, *fans]:
        await client.close()
