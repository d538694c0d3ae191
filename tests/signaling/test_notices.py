"""Notices meant for a person (trade meetings) reach every open page of that person, once:
each session enters ``user:<identity>`` on connect (and again on resume), whatever room it is
in, or none."""

from __future__ import annotations

import asyncio

from rooms.room import RoomKind
from rooms.trade.record import Notice
from tests.signaling.rtc_client import GUEST, HOST, RtcClient, make_room, token
from web.meetings_notifier import SocketNotifier


async def test_a_notice_reaches_every_page_of_its_person_once(pavilion_app) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, "mtg-r1", RoomKind.MEETING, exhibitor="faw")
    lobby = await RtcClient.connect(app, token("kim", "mtg-r1", GUEST))  # a page in no room
    meeting = await RtcClient.connect(app, token("kim", "mtg-r1", GUEST))
    await meeting.ok("join", {"room": "mtg-r1"})  # kim waits in the meeting's waiting room
    host = await RtcClient.connect(app, token("faw", "mtg-r1", HOST))
    await host.ok("join", {"room": "mtg-r1"})
    notifier = SocketNotifier(app.app)
    await notifier.notice(Notice(id="n1", identity="kim", kind="meeting.reminder", at=1.0,
                                 data={"request_id": "r1"}, room_id="mtg-r1"))
    await notifier.notice(Notice(id="n2", identity="faw", kind="request.accepted", at=2.0,
                                 data={"request_id": "r2"}))
    for page in (lobby, meeting):
        got = await page.wait_for("meeting.reminder")
        assert got == {"id": "n1", "kind": "meeting.reminder", "at": 1.0,
                       "data": {"request_id": "r1"}, "room_id": "mtg-r1"}
    assert (await host.wait_for("request.accepted"))["id"] == "n2"
    await asyncio.sleep(0.3)  # a second copy, or one for the wrong person, would be here
    assert [len(p.seen("meeting.reminder")) for p in (lobby, meeting, host)] == [1, 1, 0]
    assert not lobby.seen("request.accepted") and not meeting.seen("request.accepted")
    for client in (lobby, meeting, host):
        await client.close()


async def test_a_resumed_session_still_hears_its_notices(pavilion_app) -> None:
    app = await pavilion_app(demo=False, signaling={"reconnect_grace_s": 30})
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="faw")
    page = await RtcClient.connect(app, token("kim", "show", GUEST))
    await page.ok("join", {"room": "show"})
    await page.close()  # the socket closes; the session is kept for the grace period
    again = await RtcClient.connect(app, token("kim", "show", GUEST),
                                    session=page.session["session"])
    assert again.session["resumed"] is True
    await SocketNotifier(app.app).notice(Notice(id="n3", identity="kim", kind="request.declined",
                                                at=3.0, data={"request_id": "r3"}))
    assert (await again.wait_for("request.declined"))["id"] == "n3"
    await again.close()
