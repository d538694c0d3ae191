"""Issue 17 over WHIP and WHEP with real aiortc peers: an interpreter's tool publishes into a
channel (``POST /whip/{room}?channel=zh``, audio only), a player picks a language
(``POST /whep/{room}?language=zh``: the stage video, the channel, the floor as a second audio
track), and what each door refuses, with the status RFC 9725 names for it."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rooms.room import RoomKind
from rooms.token import Grant, mint
from streaming.viewer import ViewerLeg
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.interpretation.peers import Listener, Talker
from tests.interpretation.test_channels import ROOM, hears
from tests.signaling.rtc_client import make_room
from web.media import MEDIA_KEY

pytestmark = pytest.mark.slow
J, P, S, INT = Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.INTERPRET


def bearer(identity: str, *grants: Grant, languages: tuple[str, ...] = ()) -> str:
    return mint(TEST_SECRET, identity=identity, room=ROOM, grants=grants, ttl_s=600,
                languages=languages)


async def post(app: RunningApp, path: str, offer: str, tok: str) -> tuple[int, str]:
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {tok}"}
    async with aiohttp.ClientSession() as http, http.post(app.url + path, data=offer,
                                                          headers=headers) as response:
        return response.status, await response.text()


async def test_whip_into_a_channel_and_whep_by_language(pavilion_app: Any) -> None:
    app = await pavilion_app(demo=False)
    await make_room(app, ROOM, RoomKind.FORUM)
    booth = bearer("zh1", J, S, INT, languages=("en", "zh"))
    peers: list[Any] = []
    try:
        floor = Talker(440, video=True)
        peers.append(floor)
        status, answer = await post(app, f"/whip/{ROOM}", await floor.offer(),
                                    bearer("speaker", J, P, S))
        assert status == 201, answer
        await floor.accept(answer)
        voice = Talker(660)
        peers.append(voice)
        status, answer = await post(app, f"/whip/{ROOM}?channel=zh", await voice.offer(), booth)
        assert status == 201, answer
        await voice.accept(answer)

        refusals = [  # (path, offer, token) -> status and code
            (f"/whip/{ROOM}?channel=zh", Talker(660, video=True), booth, 400, "video_not_allowed"),
            (f"/whip/{ROOM}", Talker(660), booth, 403, "no_publish_grant"),  # not the floor
            (f"/whip/{ROOM}?channel=ko", Talker(660), booth, 403, "wrong_language"),
            (f"/whip/{ROOM}?channel=xx", Talker(660), booth, 400, "bad_language"),
            (f"/whip/{ROOM}?channel=zh", Talker(660), bearer("spk", J, P, S), 403, "not_allowed"),
        ]
        for path, talker, tok, want, code in refusals:
            peers.append(talker)
            status, text = await post(app, path, await talker.offer(), tok)
            assert (status, code) == (want, code) and code in text, (path, status, text)

        player = Listener()
        peers.append(player)
        status, answer = await post(app, f"/whep/{ROOM}?language=zh",
                                    await player.offer(audio=2, video=True),
                                    bearer("player", J, S))
        assert status == 201, answer
        await player.accept(answer)
        await hears(player, 660, track=0)  # the channel first, then the floor
        await hears(player, 440, track=1)
        leg = next(peer for peer in app.app[MEDIA_KEY].peers.values()
                   if peer.participant == "player")
        assert isinstance(leg, ViewerLeg)
        assert [source.source_id for source, _ in leg.subscriptions] == [
            "speaker/video0", "channel:zh", "speaker/audio0"]
        nobody = Listener()
        peers.append(nobody)
        status, text = await post(app, f"/whep/{ROOM}?language=mn", await nobody.offer(),
                                  bearer("p2", J, S))
        assert status == 404 and "channel:mn" in text, (status, text)
    finally:
        for peer in peers:
            await peer.close()
