"""Issue 18 "Done when": a webhook receiver and an organiser watching the console see every
event of a test expo day.

Two nodes on one real redis-server; a real aiohttp receiver (every signature checked with the
docs' snippet); the organiser's console on node A recording every snapshot. The day goes
through real doors only: the admin API, the page API, the meetings API, Socket.IO ``/rtc``,
WHEP, real aiortc peers. A broadcast on node A (live from the host's button, a WHEP viewer, a
viewer on node B, chat, reactions, a quote on a pinned product, a recording), a forum on node B
(raise hand, stage, a speaker publishing, a question, a kick) and a trade meeting on node B
(requested, accepted, both through the waiting room); then every room closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from rooms.token import Grant
from tests.acceptance.contract import check_deliveries, check_room, of_room
from tests.acceptance.doors import API_KEY, call, person, soon_iso, whep
from tests.acceptance.watch import ConsoleWatch, row
from tests.fixtures.pavilion import RunningApp
from tests.meetings.api import PROFILE
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, token
from tests.streaming.clients import Publisher, Viewer, until
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import FAST
from tests.webhooks.test_signature import SECRET

pytestmark = [pytest.mark.redis, pytest.mark.slow]
Start = Callable[..., Awaitable[RunningApp]]
SHOW, FORUM, BOOTH = "expo-launch", "expo-forum", "changbai"
MODERATOR = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
TITLE = {"zh": "发布会", "en": "Launch", "ja": "発表会", "ko": "발표회", "ru": "Запуск",
         "mn": "Нээлт"}


@dataclass
class Day:
    a: RunningApp
    b: RunningApp
    receiver: Receiver
    console: ConsoleWatch
    closing: list[Any] = field(default_factory=list)  # clients and peers, closed at the end
    staff: dict[str, RtcClient] = field(default_factory=dict)  # who closes each room

    def keep(self, *things: Any) -> None:
        self.closing.extend(things)


@pytest.fixture
async def day(pavilion_app: Start, redis_url: str) -> AsyncIterator[Day]:
    receiver = await Receiver().start()
    # load reports at the default 2 s: a node whose reports stop for three intervals is swept
    # (its people "leave"), and a shorter interval sweeps a live node on a busy machine
    common = {"redis_url": redis_url, "demo": False, "api_key": API_KEY,
              "webhooks_delivery": FAST, "webhooks": [{"url": receiver.url, "secret": SECRET}],
              "cluster": {"placement": "first"}}
    a = await pavilion_app(node_id="node-a", **common)
    b = await pavilion_app(node_id="node-b", **common)
    console = await ConsoleWatch.connect(a)
    made = Day(a, b, receiver, console)
    try:
        yield made
    finally:
        for thing in reversed(made.closing):
            await thing.close()
        await console.close()
        await receiver.stop()


def _room(room_id: str, kind: str) -> dict[str, Any]:
    return {"id": room_id, "kind": kind, "pavilion": "automobile", "exhibitor": BOOTH,
            "title": TITLE, "state": "scheduled", "starts_at": "2026-09-01T10:00:00+08:00",
            "ends_at": "2026-09-01T18:00:00+08:00"}


def _live(node: str, viewers: int) -> Callable[[dict[str, Any]], bool]:
    def check(snapshot: dict[str, Any]) -> bool:
        found = row(snapshot, SHOW if node == "node-a" else FORUM)
        health = (found or {}).get("health") or {}
        return (found is not None and found["node"] == node
                and health.get("viewers", 0) >= viewers and health.get("bitrate_bps", 0) > 0)
    return check


async def organise(day: Day) -> list[dict[str, Any]]:
    """The organiser's morning: two rooms, a product, the booth's profile and two slots."""
    await call(day.a, "POST", "/api/admin/rooms", _room(SHOW, "broadcast"))
    await call(day.a, "POST", "/api/admin/rooms", _room(FORUM, "forum"))
    await call(day.a, "PUT", f"/api/admin/rooms/{SHOW}/products/y1", {
        "name": TITLE, "price": "189900", "currency": "CNY", "request_quote": True})
    await call(day.a, "PUT", f"/api/meetings/exhibitors/{BOOTH}", PROFILE,
               bearer=person(BOOTH, exhibitor=True))
    made = await call(day.a, "POST", f"/api/meetings/exhibitors/{BOOTH}/slots", {"slots": [
        {"starts_at": soon_iso(), "length_min": 15, "languages": ["en"]},
        {"starts_at": soon_iso(30), "length_min": 15, "languages": ["en"]}]},
        bearer=person(BOOTH, exhibitor=True))
    return list(made["slots"])


async def broadcast(day: Day) -> None:
    """Node A: the host goes live and publishes; viewers over Socket.IO (node B) and WHEP."""
    host_token = token(BOOTH, SHOW, HOST)
    host = await RtcClient.connect(day.a, host_token)
    day.keep(host)
    day.staff[SHOW] = host
    await call(day.a, "POST", f"/api/pages/rooms/{SHOW}/live", {}, bearer=host_token)
    await host.ok("join", {"room": SHOW})
    publisher = Publisher("vp8")
    day.keep(publisher)
    reply = await host.ok("publish", {"room": SHOW, "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    await host.wait_for("track.published")
    fan_token = token("fan-1", SHOW, VIEWER)
    fan = await RtcClient.connect(day.b, fan_token)
    day.keep(fan)
    await fan.ok("join", {"room": SHOW})
    player = Viewer()
    day.keep(player)
    await player.accept(await whep(day.a, SHOW, await player.offer(),
                                   token("player-1", SHOW, (Grant.SUBSCRIBE,))))
    await until(lambda: player.count("video") >= 10, 20)
    await day.console.until(_live("node-a", 1))
    await fan.ok("chat.send", {"room": SHOW, "text": "你好"})
    await fan.ok("reaction", {"room": SHOW, "kind": "heart"})
    await host.ok("product.pin", {"room": SHOW, "product": "y1"})
    await call(day.b, "POST", f"/api/pages/rooms/{SHOW}/quotes",
               {"product": "y1", "name": "Kim", "email": "kim@example.com"}, bearer=fan_token)
    await record(day, host)


async def record(day: Day, host: RtcClient) -> None:
    started = (await host.ok("record.start", {"room": SHOW}))["recording"]

    def recording(on: bool) -> Callable[[dict[str, Any]], bool]:
        return lambda s: ((row(s, SHOW) or {}).get("health") or {}).get("recording") is on

    await day.console.until(recording(True))
    await host.ok("record.stop", {"room": SHOW})
    await day.receiver.until(lambda: "recording_finished" in day.receiver.names(SHOW))
    finished = next(g for g in day.receiver.got if g["event"] == "recording_finished")
    assert finished["recording"]["id"] == started["id"]
    assert finished["recording"]["state"] == "done" and finished["recording"]["files"]
    await day.console.until(recording(False))


async def forum(day: Day) -> None:
    """Node B: a moderator opens the forum, stages a speaker who publishes, kicks a troll."""
    mod_token = token("mod-1", FORUM, MODERATOR)
    mod = await RtcClient.connect(day.b, mod_token)
    speaker = await RtcClient.connect(day.b, token("speaker-1", FORUM, VIEWER))
    troll = await RtcClient.connect(day.b, token("troll-1", FORUM, VIEWER))
    day.keep(mod, speaker, troll)
    day.staff[FORUM] = mod
    await call(day.b, "POST", f"/api/pages/rooms/{FORUM}/live", {}, bearer=mod_token)
    for client in (mod, speaker, troll):
        await client.ok("join", {"room": FORUM})
    await speaker.ok("hand.raise", {"room": FORUM})
    await mod.ok("stage.promote", {"room": FORUM, "identity": "speaker-1"})
    await speaker.wait_for("stage.invited")
    await speaker.ok("stage.accept", {"room": FORUM})
    publisher = Publisher("vp8")
    day.keep(publisher)
    reply = await speaker.ok("publish", {"room": FORUM, "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    await mod.wait_for("track.published")
    player = Viewer()
    day.keep(player)
    await player.accept(await whep(day.b, FORUM, await player.offer(),
                                   token("player-2", FORUM, (Grant.SUBSCRIBE,))))
    await until(lambda: player.count("video") >= 10, 20)
    await day.console.until(_live("node-b", 1))
    await troll.ok("question.ask", {"room": FORUM, "text": "Price?"})
    detail = await day.console.room_detail(FORUM)
    assert "troll-1" in [p["identity"] for p in detail["participants"]]
    await mod.ok("participant.remove", {"room": FORUM, "identity": "troll-1"})
    await troll.wait_for("participant.removed")
    await troll.close()  # its session ends after the kick: no second participant_left
    detail = await day.console.room_detail(FORUM)
    assert "troll-1" not in [p["identity"] for p in detail["participants"]]


async def meeting(day: Day, slot: dict[str, Any]) -> str:
    """Node B: a buyer asks, the booth accepts, both enter; the guest through the waiting room."""
    buyer, booth = person("kim"), person(BOOTH, exhibitor=True)
    asked = await call(day.b, "POST", "/api/meetings/requests", {"slot_id": slot["id"]},
                       bearer=buyer)
    accepted = await call(day.b, "POST", f"/api/meetings/requests/{asked['id']}/accept", {},
                          bearer=booth)
    room = str(accepted["room_id"])
    links = [await call(day.b, "GET", f"/api/meetings/requests/{asked['id']}/join", bearer=who)
             for who in (booth, buyer)]
    host = await RtcClient.connect(day.b, links[0]["token"])
    guest = await RtcClient.connect(day.b, links[1]["token"])
    day.keep(host, guest)
    await host.ok("join", {"room": room})
    assert (await guest.ok("join", {"room": room}))["waiting"] is True
    await host.wait_for("waiting.knock")
    await host.ok("waiting.admit", {"room": room, "identity": "kim"})
    await guest.wait_for("waiting.admitted")
    await met(day, asked["id"], (booth, buyer))
    seen = await day.console.until(lambda s: (row(s, room) or {}).get("present") == 2)
    assert (row(seen, room) or {})["kind"] == "meeting"  # a meeting in session is listed
    await host.ok("room.close", {"room": room})
    return room


async def met(day: Day, request_id: str, sides: tuple[str, ...]) -> None:
    """Wait until the meeting's agenda (every 5 s) saw both sides in the room, as it would in
    a meeting of minutes: a room closed before it looks counts as a no-show."""
    async with asyncio.timeout(30):
        for side in sides:
            while True:
                seen = await call(day.b, "GET", f"/api/meetings/requests/{request_id}",
                                  bearer=side)
                if seen["mine"]["joined_at"] is not None:
                    break
                await asyncio.sleep(0.5)


async def cancelled(day: Day, slot: dict[str, Any]) -> str:
    """Node A: another buyer's meeting, accepted, then cancelled by the buyer: its room ends."""
    buyer = person("lee")
    asked = await call(day.a, "POST", "/api/meetings/requests", {"slot_id": slot["id"]},
                       bearer=buyer)
    accepted = await call(day.a, "POST", f"/api/meetings/requests/{asked['id']}/accept", {},
                          bearer=person(BOOTH, exhibitor=True))
    await call(day.a, "POST", f"/api/meetings/requests/{asked['id']}/cancel",
               {"reason": "flight changed"}, bearer=buyer)
    return str(accepted["room_id"])


async def close_rooms(day: Day) -> None:
    await day.staff[SHOW].ok("room.close", {"room": SHOW})
    await day.staff[FORUM].ok("room.close", {"room": FORUM})
    await day.console.until(lambda s: row(s, SHOW) is None and row(s, FORUM) is None)


def day_events(mtg: str, off: str) -> dict[str, dict[str, int]]:
    """Each room's webhook events of the day, and how many of each (docs/webhooks.md)."""
    return {
        SHOW: {"room_started": 1, "participant_joined": 3, "track_published": 2,
               "quote_requested": 1, "recording_started": 1, "recording_finished": 1,
               "room_finished": 1, "track_unpublished": 2, "participant_left": 3},
        FORUM: {"room_started": 1, "participant_joined": 4, "moderation": 2,
                "track_published": 2, "room_finished": 1, "track_unpublished": 2,
                "participant_left": 4},
        mtg: {"meeting_requested": 1, "meeting_accepted": 1, "participant_joined": 2,
              "moderation": 1, "room_finished": 1, "participant_left": 2},  # both came
        off: {"meeting_requested": 1, "meeting_accepted": 1, "meeting_cancelled": 1,
              "room_finished": 1},
    }


async def settled(day: Day) -> None:
    """Wait until the admin API says nothing is pending and every acknowledged delivery is
    one the receiver recorded (a late or duplicate event would show in ``check_deliveries``)."""
    async with asyncio.timeout(30):
        while True:
            [target] = (await call(day.a, "GET", "/api/admin/webhooks"))["targets"]
            if target["pending"] == 0 and target["delivered"] == len(day.receiver.got):
                assert target["failed"] == 0, target
                return
            await asyncio.sleep(0.2)


async def test_an_expo_day(day: Day) -> None:
    slots = await organise(day)
    await broadcast(day)
    await forum(day)
    mtg = await meeting(day, slots[0])
    off = await cancelled(day, slots[1])
    await close_rooms(day)
    await day.console.until(lambda s: not s["rooms"])  # each room left the list once closed
    expected = day_events(mtg, off)
    with contextlib.suppress(TimeoutError):  # if not all come, the checks below say which
        await day.receiver.until(lambda: all(
            Counter(of_room(day.receiver.got, room)) == want for room, want in expected.items()))
    await settled(day)
    events = check_deliveries(day.receiver)
    assert {e.get("room") for e in events} == set(expected)
    for room, want in expected.items():
        check_room(events, room, want)
    _people(events, mtg)


def _people(events: list[dict[str, Any]], mtg: str) -> None:
    """Who did what: the documented payloads carry the right people and values."""
    def of(room: str, name: str) -> list[dict[str, Any]]:
        return [e for e in events if e.get("room") == room and e["event"] == name]

    assert of_room(events, SHOW)[0] == "room_started"
    assert of(SHOW, "room_started")[0]["room_info"]["kind"] == "broadcast"
    assert {e["participant"]["identity"] for e in of(SHOW, "participant_joined")} == {
        BOOTH, "fan-1", "player-1"}
    assert of(SHOW, "quote_requested")[0]["quote"]["identity"] == "fan-1"
    assert [(e["action"], e["identity"]) for e in of(FORUM, "moderation")] == [
        ("promote", "speaker-1"), ("kick", "troll-1")]
    names = of_room(events, FORUM)
    kick = names.index("moderation", names.index("moderation") + 1)
    assert names[kick + 1] == "participant_left"  # the troll, right after the kick
    assert {e["participant"] for e in of(FORUM, "track_published")} == {"speaker-1"}
    assert of_room(events, mtg)[:2] == ["meeting_requested", "meeting_accepted"]
    guest = [e["participant"] for e in of(mtg, "participant_joined")
             if e["participant"]["identity"] == "kim"]
    assert guest[0]["waiting"] is True
    assert [(e["action"], e["identity"]) for e in of(mtg, "moderation")] == [("admit", "kim")]
