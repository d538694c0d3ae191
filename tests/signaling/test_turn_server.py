"""Per-client TURN credentials against a real coturn (``use-auth-secret``): what a browser gets
in its ``session`` event and a WHIP client in ``Link`` headers allocates a relay there; a wrong
or expired credential is refused, so acceptance is coturn checking, not coturn letting all in."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aioice.turn import create_turn_endpoint

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from signaling import turn
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.fixtures.turn_server import TurnServer
from tests.signaling.rtc_client import RtcClient, make_room, token
from tests.streaming.clients import Publisher
from web.keys import BACKEND_KEY

STATIC = {"urls": ["stun:stun.expo.example:3478"]}
TTL = 600
LINK = re.compile(r'<([^>]+)>; rel="ice-server"; username="([^"]+)"; credential="([^"]+)"; '
                  r'credential-type="password"')


async def allocate(server: TurnServer, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation on ``server`` (aioice's client); its relayed address."""
    transport, _ = await asyncio.wait_for(create_turn_endpoint(
        asyncio.DatagramProtocol, server_addr=("127.0.0.1", server.port),
        username=username, password=password), 10)
    try:
        return transport.get_extra_info("sockname")  # type: ignore[no-any-return]
    finally:
        transport.close()


async def refused(server: TurnServer, username: str, password: str) -> None:
    with pytest.raises(Exception) as caught:  # aioice: TransactionFailed (401) or ConnectionError
        await allocate(server, username, password)
    assert "401" in str(caught.value) or "Unauthorized" in str(caught.value), caught.value


async def node(pavilion_app: Callable[..., Awaitable[RunningApp]], server: TurnServer,
               **extra: Any) -> RunningApp:
    settings = {"urls": [server.url], "shared_secret": server.secret, "ttl_s": TTL}
    return await pavilion_app(ice_servers=[STATIC], turn=settings, **extra)


def expiry_of(username: str) -> int:
    return int(username.split(":", 1)[0])


async def test_session_event_carries_a_fresh_credential_coturn_accepts(
        pavilion_app: Callable[..., Awaitable[RunningApp]], turn_server: TurnServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = await node(pavilion_app, turn_server, demo=False)
    before = time.time()
    ann = await RtcClient.connect(app, token("ann", "hall"))
    bob = await RtcClient.connect(app, token("bob", "hall"))
    try:
        static, relay = ann.session["ice_servers"]
        assert static == STATIC
        assert relay["urls"] == [turn_server.url]
        assert relay["username"].endswith(":ann")
        assert before + TTL - 1 <= expiry_of(relay["username"]) <= time.time() + TTL + 1
        other = bob.session["ice_servers"][1]
        assert other["username"].endswith(":bob") and other["credential"] != relay["credential"]
        host, port = await allocate(turn_server, relay["username"], relay["credential"])
        assert host == "127.0.0.1" and port > 0
        await allocate(turn_server, other["username"], other["credential"])
        await refused(turn_server, relay["username"], other["credential"])  # not bob's
    finally:
        await ann.close()
        await bob.close()
    assert caplog.records and turn_server.secret not in caplog.text  # never logged


async def test_coturn_refuses_an_expired_or_foreign_credential(turn_server: TurnServer) -> None:
    now = time.time()
    good = turn.mint(turn_server.secret, "ann", now=now, ttl_s=TTL)
    await allocate(turn_server, good.username, good.credential)
    expired = turn.mint(turn_server.secret, "ann", now=now - 2 * TTL, ttl_s=TTL)
    await refused(turn_server, expired.username, expired.credential)
    foreign = turn.mint("x" * 32, "ann", now=now, ttl_s=TTL)
    await refused(turn_server, foreign.username, foreign.credential)


async def test_whip_link_headers_carry_a_fresh_credential_coturn_accepts(
        pavilion_app: Callable[..., Awaitable[RunningApp]], turn_server: TurnServer) -> None:
    app = await node(pavilion_app, turn_server, demo=True)
    await app.app[BACKEND_KEY].store.create_room(
        Room(id="expo", kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
             title=LocalizedText({"en": "expo"}), state=RoomState.LIVE))
    publisher = Publisher("vp8")
    bearer = mint(TEST_SECRET, identity="obs", room="expo", grants=[Grant.PUBLISH], ttl_s=600)
    try:
        async with aiohttp.ClientSession(app.url) as http:
            response = await http.post(
                "/whip/expo", data=await publisher.offer(),
                headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {bearer}"})
            assert response.status == 201, await response.text()
            links = response.headers.getall("Link")
        assert links[0] == '<stun:stun.expo.example:3478>; rel="ice-server"'
        match = LINK.fullmatch(links[1])
        assert match is not None, links
        url, username, credential = match.groups()
        assert url == turn_server.url and username.endswith(":obs")
        assert abs(expiry_of(username) - (time.time() + TTL)) <= 2
        await allocate(turn_server, username, credential)
    finally:
        await publisher.close()


async def test_a_resumed_session_gets_a_new_credential(
        pavilion_app: Callable[..., Awaitable[RunningApp]], turn_server: TurnServer) -> None:
    app = await node(pavilion_app, turn_server, demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    first = await RtcClient.connect(app, token("ann", "hall"))
    await first.ok("join", {"room": "hall"})  # a session in a room is kept for a reconnect
    session_id, old = first.session["session"], first.session["ice_servers"][1]
    await first.close()
    await asyncio.sleep(1.1)  # the expiry is in whole seconds
    back = await RtcClient.connect(app, token("ann", "hall"), session=session_id)
    try:
        assert back.session["resumed"] is True and back.session["session"] == session_id
        new = back.session["ice_servers"][1]
        assert expiry_of(new["username"]) > expiry_of(old["username"])
        await allocate(turn_server, new["username"], new["credential"])
    finally:
        await back.close()
