"""Connecting to /rtc: the token in ``auth`` decides, and a refusal carries a code."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from rooms.room import RoomKind
from tests.signaling.rtc_client import NS, RtcClient, make_room, token


async def _refused(app, auth) -> dict:
    client = socketio.AsyncClient(reconnection=False)
    errors: list[dict] = []

    async def connect_error(data: dict) -> None:
        errors.append(data)

    client.on("connect_error", connect_error, namespace=NS)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(app.url, namespaces=[NS], transports=["websocket"], auth=auth,
                             wait_timeout=10)
    await client.disconnect()
    [error] = errors
    assert error["message"] == error["data"]["code"]
    return error["data"]


async def test_connect_gives_a_session_and_join_returns_room_state(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST)
    client = await RtcClient.connect(app, token("ann", "hall"))
    assert client.session["resumed"] is False and client.session["identity"] == "ann"
    state = await client.ok("join", {"room": "hall"})
    assert state["room"]["id"] == "hall"
    assert [p["identity"] for p in state["participants"]] == ["ann"]
    assert state["chat"] == [] and state["tracks"] == [] and state["waiting"] is False
    assert state["media_node"] is None  # joining a broadcast claims no media lease
    await client.close()


@pytest.mark.parametrize("auth, code", [
    (None, "token_missing"),
    ({"token": "not-a-jwt"}, "token_invalid"),
    ({"token": token("ann", "hall", ttl_s=1)[:-4] + "AAAA"}, "bad_signature"),
])
async def test_connect_refusals_carry_a_code(pavilion_app, auth, code):
    app = await pavilion_app(demo=False)
    data = await _refused(app, auth)
    assert data == {"code": code, "message": data["message"]} and data["message"]


async def test_expired_token_is_refused_with_token_expired(pavilion_app):
    app = await pavilion_app(demo=False, token_leeway_s=0)
    from rooms.token import mint
    from tests.fixtures.pavilion import TEST_SECRET

    old = mint(TEST_SECRET, identity="ann", room="hall", grants=[], ttl_s=5, now=1_000_000)
    data = await _refused(app, {"token": old})
    assert data["code"] == "token_expired"


async def test_session_event_names_the_ice_servers(pavilion_app):
    ice = [{"urls": ["stun:stun.expo.example:3478"]},
           {"urls": ["turn:turn.expo.example:3478"], "username": "u", "credential": "c"}]
    app = await pavilion_app(demo=False, ice_servers=ice)
    client = await RtcClient.connect(app, token("ann", "hall"))
    assert client.session["ice_servers"] == ice
    await client.close()


async def test_a_token_that_expires_while_connected_stops_working(pavilion_app):
    app = await pavilion_app(demo=False, token_leeway_s=0)
    await make_room(app, "hall", RoomKind.BROADCAST)
    client = await RtcClient.connect(app, token("ann", "hall", ttl_s=2))
    await client.ok("join", {"room": "hall"})
    await asyncio.sleep(2.1)
    reply = await client.call("chat.send", {"room": "hall", "text": "late"})
    assert reply["error"]["code"] == "token_expired"
    await client.close()
