"""Recording control over Socket.IO (issue 15 §3, §4): start/stop by the host, refused for a
viewer, a meeting's consent, the recorder grant, the join ack, the timeline. Real node, real
Socket.IO clients, the real recorder (rooms without media record empty files)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rooms.recording import RecordingState
from rooms.room import RoomKind
from rooms.token import Grant
from tests.fixtures.pavilion import RunningApp
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]


async def test_host_starts_and_stops_a_viewer_may_not_everyone_sees_it(
        pavilion_app: Start, tmp_path: object) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    host = await RtcClient.connect(app, token("gobi", "show", GUEST))
    viewer = await RtcClient.connect(app, token("ana", "show", VIEWER))
    await host.ok("join", {"room": "show"})
    joined = await viewer.ok("join", {"room": "show"})
    assert joined["recording"] is None
    refused = await viewer.call("record.start", {"room": "show"})
    assert refused["error"]["code"] == "not_recorder"
    started = (await host.ok("record.start", {"room": "show"}))["recording"]
    assert started["state"] == "recording" and started["id"].startswith("rec_")
    seen = await viewer.wait_for("room.recording", lambda p: p["recording"] is True)
    assert seen["id"] == started["id"]
    again = await host.call("record.start", {"room": "show"})
    assert again["error"]["code"] == "already_recording"
    late = await RtcClient.connect(app, token("bo", "show", VIEWER))
    ack = await late.ok("join", {"room": "show"})
    assert ack["recording"] == {"id": started["id"], "started_at": started["started_at"]}
    assert (await viewer.call("record.stop", {"room": "show"}))["error"]["code"] == "not_recorder"
    stopped = (await host.ok("record.stop", {"room": "show"}))["recording"]
    assert stopped["id"] == started["id"] and stopped["state"] == "done"
    await late.wait_for("room.recording", lambda p: p["recording"] is False)
    record = await app.app[BACKEND_KEY].store.get_recording(started["id"])
    assert record is not None and record.state is RecordingState.DONE
    assert record.node == app.settings.node_id and record.started_by == "gobi"
    assert (await host.call("record.stop", {"room": "show"}))["error"]["code"] == "not_recording"
    for client in (host, viewer, late):
        await client.close()


async def test_a_meeting_records_only_with_everyones_consent(pavilion_app: Start,
                                                             tmp_path: object) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    await make_room(app, "talk", RoomKind.MEETING, exhibitor="gobi")
    store = app.app[BACKEND_KEY].store
    host = await RtcClient.connect(app, token("gobi", "talk", HOST))
    buyer = await RtcClient.connect(app, token("bat", "talk", GUEST))
    await host.ok("join", {"room": "talk"})
    await buyer.ok("join", {"room": "talk"})
    await host.ok("waiting.admit", {"room": "talk", "identity": "bat"})
    assert await host.ok("record.start", {"room": "talk"}) == {"ok": True, "consent": "asked"}
    asked = await buyer.wait_for("record.consent_asked")
    assert asked == {"room_id": "talk", "by": "gobi", "name": "Gobi"}
    changed = await host.wait_for("record.consent_changed")
    assert changed["agreed"] == ["gobi"] and changed["waiting"] == ["bat"]
    await buyer.ok("record.consent", {"room": "talk", "agree": False})
    await host.wait_for("record.consent_changed", lambda p: p.get("declined") == ["bat"])
    assert await store.list_recordings(room="talk") == [], "one decline: no recording"
    no_ask = await buyer.call("record.consent", {"room": "talk", "agree": True})
    assert no_ask["error"]["code"] == "no_consent_asked"
    await host.ok("record.start", {"room": "talk"})
    await buyer.ok("record.consent", {"room": "talk", "agree": True})
    on = await buyer.wait_for("room.recording", lambda p: p["recording"] is True)
    running = await store.get_recording(on["id"])
    assert running is not None and running.state is RecordingState.RECORDING
    newcomer = await RtcClient.connect(app, token("cy", "talk", GUEST))
    await newcomer.ok("join", {"room": "talk"})
    await host.ok("waiting.admit", {"room": "talk", "identity": "cy"})
    await newcomer.wait_for("record.consent_asked")
    assert len(newcomer.seen("record.consent_asked")) == 1, "asked once admitted, not before"
    await newcomer.ok("record.consent", {"room": "talk", "agree": False})
    off = await host.wait_for("room.recording", lambda p: p["recording"] is False)
    assert off["id"] == on["id"]
    stopped = await store.get_recording(on["id"])
    assert stopped is not None and stopped.state is RecordingState.DONE
    for client in (host, buyer, newcomer):
        await client.close()


async def test_a_recorder_token_records_its_room_without_joining(pavilion_app: Start,
                                                                 tmp_path: object) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    await make_room(app, "forum", RoomKind.FORUM, exhibitor="org")
    await make_room(app, "other", RoomKind.FORUM, exhibitor="org")
    bot = await RtcClient.connect(app, token("bot", "forum", (Grant.RECORDER,)))
    started = (await bot.ok("record.start", {"room": "forum"}))["recording"]
    wrong = await bot.call("record.start", {"room": "other"})
    assert wrong["error"]["code"] == "wrong_room"
    host = await RtcClient.connect(app, token("gobi", "forum", GUEST))
    await host.ok("join", {"room": "forum"})
    watcher = await RtcClient.connect(app, token("rec", "forum", (Grant.JOIN, Grant.RECORDER)))
    me = (await watcher.ok("join", {"room": "forum"}))["me"]
    assert me["hidden"] is True, "an external recorder joins hidden"
    assert (await host.ok("join", {"room": "forum"}))["participant_count"] == 1
    await watcher.close()
    refused = await host.call("record.stop", {"room": "forum"})
    assert refused["error"]["code"] == "not_recorder", "a forum is its moderators' to record"
    assert (await bot.ok("record.stop", {"room": "forum"}))["recording"]["id"] == started["id"]
    await bot.close()
    await host.close()


async def test_a_host_alone_in_a_meeting_records_at_once(pavilion_app: Start,
                                                         tmp_path: object) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    await make_room(app, "solo", RoomKind.MEETING, exhibitor="gobi")
    host = await RtcClient.connect(app, token("gobi", "solo", HOST))
    await host.ok("join", {"room": "solo"})
    started = await host.ok("record.start", {"room": "solo"})
    assert started["recording"]["state"] == "recording", "the asker agrees by asking"
    await host.close()


async def test_a_recording_that_stops_by_itself_fails_and_the_room_is_told(
        pavilion_app: Start, tmp_path: object) -> None:
    from tests.streaming.clients import publish
    from web.media import MEDIA_KEY

    app = await pavilion_app(recordings={"dir": str(tmp_path), "min_free_mb": 10_000_000})
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    publisher = await publish(app.app[MEDIA_KEY], "show", "gobi")
    viewer = await RtcClient.connect(app, token("ana", "show", VIEWER))
    await viewer.ok("join", {"room": "show"})
    host = await RtcClient.connect(app, token("gobi", "show", HOST))
    started = (await host.ok("record.start", {"room": "show"}))["recording"]
    ended = await viewer.wait_for("room.recording", lambda p: p["recording"] is False)
    assert ended == {"room_id": "show", "recording": False, "id": started["id"],
                     "reason": "disk_full"}
    record = await app.app[BACKEND_KEY].store.get_recording(started["id"])
    assert record is not None and record.state is RecordingState.FAILED
    assert record.reason == "disk_full"
    assert app.app[MEDIA_KEY].live_sources("show"), "the room goes on streaming"
    for client in (viewer, host):
        await client.close()
    await publisher.close()
