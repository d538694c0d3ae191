"""The console's namespace on a real node (issue 18 §2): who may connect, the snapshots it
pushes without being asked, a room's detail, and actions with the admin API's effects (a
kicked participant's Socket.IO session is removed from the room)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
import socketio

from rooms.room import RoomKind
from rooms.token import Grant, mint
from tests.console.console_client import ConsoleClient, Refused
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import VIEWER, RtcClient, make_room, token

API_KEY = "console-admin-key-0123456789-0123456789"


def organiser(*, expired: bool = False, secret: str = TEST_SECRET, room: str = "*",
              grants: tuple[Grant, ...] = (Grant.JOIN, Grant.MODERATE)) -> str:
    now = time.time() - (3600 if expired else 0)
    return mint(secret, identity="organiser", room=room, grants=grants, ttl_s=600, now=now)


@pytest.mark.parametrize(("auth", "code"), [
    ({}, "token_missing"),
    ({"token": organiser(room="show")}, "not_organiser"),  # a room's moderator
    ({"token": organiser(grants=(Grant.JOIN, Grant.SUBSCRIBE))}, "not_organiser"),
    ({"token": organiser(grants=(Grant.DELEGATE,))}, "not_organiser"),
    ({"token": organiser(expired=True)}, "token_expired"),
    ({"token": organiser(secret="forged-" + TEST_SECRET)}, "bad_signature"),
    ({"api_key": "wrong-" + API_KEY}, "unauthorized"),
    ({"token": 42}, "token_missing"),
])
async def test_only_the_organiser_connects(pavilion_app: Any, auth: dict[str, Any],
                                           code: str) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    with pytest.raises(Refused) as refused:
        await ConsoleClient.connect(app, auth)
    assert refused.value.code == code


async def test_snapshots_detail_and_a_kick(pavilion_app: Any) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    console = await ConsoleClient.connect(app, {"api_key": API_KEY})
    first = await console.snapshot()
    assert first["rooms"] == [] and [n["id"] for n in first["nodes"]] == [app.settings.node_id]
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="host")
    fan = await RtcClient.connect(app, token("fan", "show", VIEWER))
    await fan.ok("join", {"room": "show"})
    live = await console.snapshot(lambda s: s["rooms"] and s["rooms"][0]["present"] == 1)
    assert live["rooms"][0]["id"] == "show"  # pushed: nobody asked
    detail = await console.call("console.room", {"room": "show"})
    assert detail["ok"] and [p["identity"] for p in detail["participants"]] == ["fan"]
    assert (await console.call("console.room", {"room": "nope"}))["error"]["code"] == \
        "no_such_room"
    assert (await console.call("console.kick", {"room": "show"}))["error"]["code"] == \
        "bad_field"
    assert (await console.call("console.page", {"offset": -1}))["error"]["code"] == "bad_field"
    kicked = await console.call("console.kick", {"room": "show", "identity": "fan"})
    assert kicked["ok"] and kicked["event"]["identity"] == "fan"
    await fan.wait_for("participant.removed")
    after = await console.call("console.room", {"room": "show"})
    assert after["participants"] == []
    await console.snapshot(lambda s: s["rooms"] and s["rooms"][0]["present"] == 0)
    tok = organiser()
    second = await ConsoleClient.connect(app, {"token": tok})
    closed = await second.call("console.close", {"room": "show"})
    assert closed["ok"]
    await second.snapshot(lambda s: s["rooms"] == [])  # an ended room is no longer live
    await second.close()
    await console.close()
    await fan.close()


async def test_a_token_that_runs_out_acts_and_sees_no_more(pavilion_app: Any) -> None:
    """A console stays open for hours: its token is checked again before each action and each
    pushed snapshot, not only at connect (the one gate, issue 18 §2)."""
    app = await pavilion_app(api_key=API_KEY, token_leeway_s=0)
    await make_room(app, "show", RoomKind.BROADCAST)
    short = mint(TEST_SECRET, identity="organiser", room="*",
                 grants=(Grant.JOIN, Grant.MODERATE), ttl_s=3)
    console = await ConsoleClient.connect(app, {"token": short})
    assert (await console.call("console.room", {"room": "show"}))["ok"]
    await asyncio.sleep(3.5)
    try:  # the action, if it comes before the next push, is refused by the same check
        answer = await console.call("console.close", {"room": "show"})
        assert answer["error"]["code"] == "token_expired", answer
    except socketio.exceptions.BadNamespaceError:
        pass  # the push came first and let the console go
    await console.snapshot(lambda s: s.get("error", {}).get("code") == "token_expired")
    with pytest.raises(socketio.exceptions.BadNamespaceError):  # and it is disconnected
        await asyncio.sleep(0.5)
        await console.call("console.room", {"room": "show"})
    async with aiohttp.ClientSession() as http, http.get(
            f"{app.url}/api/admin/rooms/show",
            headers={"Authorization": f"Bearer {API_KEY}"}) as response:
        assert (await response.json())["state"] != "ended"  # nothing acted after expiry
    await console.close()
