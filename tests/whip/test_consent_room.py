"""Consent freshness through a whole node (issue 18 §6, RFC 7675): a WHIP publisher whose process
dies (its sockets close, nothing sent: no DTLS close_notify, no RTCP BYE, no DELETE) is ended
within the node's consent window; the room hears its tracks unpublished and the publisher gone,
and its WHIP session is over. Real HTTP, a real Socket.IO member, real aiortc peers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from rooms.room import RoomKind
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, until
from web.media import MEDIA_KEY

SDP = {"Content-Type": "application/sdp"}
WINDOW_S = 2.0


def _auth() -> dict[str, str]:
    value = mint(TEST_SECRET, identity="obs", room="expo", grants=(Grant.PUBLISH,), ttl_s=600)
    return {"Authorization": f"Bearer {value}"}


async def test_a_whip_publisher_that_died_leaves_the_room_within_the_window(
    pavilion_app: Callable[..., Awaitable[Any]],
) -> None:
    app = await pavilion_app(demo=False, media={"consent_interval_s": 0.3,
                                                 "consent_timeout_s": WINDOW_S})
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="obs")
    member = await RtcClient.connect(app, token("visitor", "expo", VIEWER))
    await member.ok("join", {"room": "expo"})
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession(app.url) as http:
        response = await http.post("/whip/expo", data=await publisher.offer(),
                                   headers={**SDP, **_auth()})
        assert response.status == 201, await response.text()
        await publisher.accept(await response.text())
        location = response.headers["Location"]
        await member.wait_for("track.published", lambda t: t["kind"] == "video")
        plane = app.app[MEDIA_KEY]
        await until(lambda: plane.stats().totals.received_packets >= 30)  # media flows

        connection = publisher.pc.getTransceivers()[0].sender.transport.transport._connection
        for protocol in connection._protocols:  # the process dies: its sockets close, silently
            protocol.transport.close()
        unpublished = await member.wait_for(
            "track.unpublished", lambda t: t["kind"] == "video", within=4 * WINDOW_S)
        assert unpublished["participant"] == "obs"
        await member.wait_for("track.unpublished", lambda t: t["kind"] == "audio")
        await member.wait_for("participant.left", lambda p: "obs" in str(p))
        await until(lambda: plane.stats().publishers == 0)
        gone = await http.delete(location, headers=_auth())
        assert gone.status == 404  # the session is over: nothing left to end
    await member.close()
    await publisher.close()
