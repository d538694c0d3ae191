"""Who may fetch a room's live HLS (issue 16 §3): the gate's rules (pure, table-tested), the
signed links (pure), and the door + page API refusing and admitting on a real node."""

from __future__ import annotations

import time

import aiohttp
import pytest

from rooms import gate
from rooms.errors import NotAllowed
from rooms.room import RoomKind, RoomState
from rooms.token import Grant, mint, verify
from tests.fixtures.pavilion import TEST_SECRET
from tests.hls.door import Start, node_with, put_rooms, room
from tests.hls.scripted_feed import ScriptedFeed
from tests.signaling.rtc_client import GUEST, HOST, RtcClient, token
from web import hls_signature
from web.keys import BACKEND_KEY

L, S = RoomState.LIVE, RoomState.SCHEDULED


@pytest.mark.parametrize(("kind", "state", "locked", "linked", "refusal"), [
    (RoomKind.BROADCAST, L, False, False, None),
    (RoomKind.FORUM, L, False, False, None),
    (RoomKind.BROADCAST, RoomState.ENDED, False, False, None),  # its final playlist
    (RoomKind.BROADCAST, S, False, False, "not_started"),  # a rehearsal
    (RoomKind.BROADCAST, L, True, False, "room_locked"),
    (RoomKind.MEETING, L, False, False, "link_required"),
    (RoomKind.MEETING, L, False, True, None),
    (RoomKind.BROADCAST, S, False, True, None),
    (RoomKind.BROADCAST, L, True, True, None),
])
def test_decide_hls(kind: RoomKind, state: RoomState, locked: bool, linked: bool,
                    refusal: str | None) -> None:
    one = room("r1", kind=kind, state=state, locked=locked)
    if refusal is None:
        gate.decide_hls(one, linked=linked)
    else:
        with pytest.raises(NotAllowed) as refused:
            gate.decide_hls(one, linked=linked)
        assert refused.value.code == refusal
    assert gate.hls_open(one) == (not linked and refusal is None and state is L)


def test_signed_links() -> None:
    now = 1_800_000_100.0
    query = hls_signature.signed_query("s3cret", "room-a", "ann", now=now, ttl_s=3600)
    exp, user, sig = (kv.split("=", 1)[1] for kv in query.split("&"))
    assert user == "ann" and query.startswith("exp=") and "&u=ann&sig=" in query
    assert int(exp) >= now + 3600 and int(exp) % hls_signature.EXPIRY_STEP_S == 0
    assert hls_signature.signed_query("s3cret", "room-a", "ann", now=now + 1,
                                      ttl_s=3600) == query
    assert hls_signature.check("s3cret", "room-a", "ann", exp, sig, now=now) is None
    assert hls_signature.check("s3cret", "room-b", "ann", exp, sig, now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "bob", exp, sig, now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "", exp, sig, now=now) == "bad_signature"
    assert hls_signature.check("other", "room-a", "ann", exp, sig, now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "ann", str(int(exp) + 1), sig,
                               now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "ann", exp, sig[:-1],
                               now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "ann", "１２", sig, now=now) == "bad_signature"
    assert hls_signature.check("s3cret", "room-a", "ann", exp, sig,
                               now=int(exp) + 1) == "link_expired"
    odd = hls_signature.signed_query("s3cret", "room-a", "a&u=b c/\n", now=now, ttl_s=60)
    assert "&u=a%26u%3Db%20c%2F%0A&" in odd, "the identity is percent-encoded in the query"


async def test_a_meeting_needs_the_link_its_page_gets(pavilion_app: Start) -> None:
    feed = ScriptedFeed("meet-1", segments=1, parts=2)
    app = await node_with(pavilion_app, feed)
    await put_rooms(app, room("meet-1", kind=RoomKind.MEETING))
    member = mint(TEST_SECRET, identity="guest", room="meet-1",
                  grants=[Grant.JOIN, Grant.SUBSCRIBE], ttl_s=600)
    stranger = mint(TEST_SECRET, identity="x", room="other", grants=[Grant.SUBSCRIBE],
                    ttl_s=600)
    api = app.url + "/api/pages/rooms/meet-1/hls"
    async with aiohttp.ClientSession() as http:
        async with http.get(app.url + "/hls/meet-1/index.m3u8") as bare:
            assert bare.status == 403 and "link_required" in await bare.text()
        async with http.get(api, headers={"Authorization": f"Bearer {stranger}"}) as no:
            assert no.status == 403
        async with http.get(api, headers={"Authorization": f"Bearer {member}"}) as early:
            assert early.status == 403, "a meeting guest not yet admitted gets no link"
        service = app.app[BACKEND_KEY].service
        await service.join(verify(TEST_SECRET, member), "meet-1")
        async with http.get(api, headers={"Authorization": f"Bearer {member}"}) as waiting:
            assert waiting.status == 403 and "in_waiting_room" in await waiting.text()
        organiser = mint(TEST_SECRET, identity="organiser", room="*",
                         grants=[Grant.JOIN, Grant.MODERATE], ttl_s=600)
        await service.admit(verify(TEST_SECRET, organiser), "meet-1", "guest")
        async with http.get(api, headers={"Authorization": f"Bearer {member}"}) as ok:
            body = await ok.json()
            assert ok.status == 200 and body["open"] is False, body
        url = app.url + body["url"]
        async with http.get(url) as signed:
            text = await signed.text()
            assert signed.status == 200, text
            assert signed.headers["Cache-Control"] == "private, max-age=1"
            assert "Access-Control-Allow-Origin" not in signed.headers
        query = url.split("?", 1)[1]
        assert f'URI="s1.1.m4s?{query}&f=' in text, "every URI carries the signature"
        async with http.get(f"{app.url}/hls/meet-1/s1.1.m4s?{query}") as part:
            assert part.status == 200
            assert part.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        async with http.get(forged) as bad:
            assert bad.status == 403 and "bad_signature" in await bad.text()
        exp = int(time.time()) - 10
        old = hls_signature.query(str(exp), "guest",
                                  hls_signature.signature(TEST_SECRET, "meet-1", exp, "guest"))
        async with http.get(f"{app.url}/hls/meet-1/index.m3u8?{old}") as expired:
            assert expired.status == 403 and "link_expired" in await expired.text()


async def test_a_public_room_links_to_the_plain_url(pavilion_app: Start) -> None:
    app = await node_with(pavilion_app, ScriptedFeed("show"))
    await put_rooms(app, room("show"), room("later", state=S))
    visitor = mint(TEST_SECRET, identity="v", room="show", grants=[Grant.JOIN, Grant.SUBSCRIBE],
                   ttl_s=600)
    host = mint(TEST_SECRET, identity="exhibitor-co", room="later",
                grants=[Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE], ttl_s=600)
    async with aiohttp.ClientSession() as http:
        async with http.get(app.url + "/api/pages/rooms/show/hls",
                            headers={"Authorization": f"Bearer {visitor}"}) as got:
            body = await got.json()
        assert body["url"] == "/hls/show/index.m3u8" and body["open"] is True
        assert body["webrtc_timeout_s"] == app.settings.hls.webrtc_timeout_s
        async with http.get(app.url + "/api/pages/rooms/later/hls",
                            headers={"Authorization": f"Bearer {host}"}) as got:
            body = await got.json()
        assert body["open"] is False and "&sig=" in body["url"], "a rehearsal: staff only"


async def test_a_removed_viewer_loses_the_link_at_the_next_playlist(pavilion_app: Start) -> None:
    """Issue 16 §3: the link is the identity's; ``participant.remove`` (a ban) refuses its next
    playlist request at once, while its segments stay served (immutable; the player stops at
    the reload anyway), another member's link keeps working, and a link whose identity was
    changed is a forgery."""
    app = await node_with(pavilion_app, ScriptedFeed("meet-2", segments=1, parts=2))
    await put_rooms(app, room("meet-2", kind=RoomKind.MEETING))
    host = await RtcClient.connect(app, token("exhibitor-co", "meet-2", HOST))
    await host.ok("join", {"room": "meet-2"})
    links, guests = {}, []
    async with aiohttp.ClientSession() as http:
        for who in ("pest", "fan"):
            guest = await RtcClient.connect(app, token(who, "meet-2", GUEST))
            guests.append(guest)
            await guest.ok("join", {"room": "meet-2"})
            await host.ok("waiting.admit", {"room": "meet-2", "identity": who})
            async with http.get(app.url + "/api/pages/rooms/meet-2/hls",
                                headers={"Authorization": f"Bearer {token(who, 'meet-2')}"}
                                ) as got:
                assert got.status == 200, await got.text()
                links[who] = app.url + (await got.json())["url"]
            async with http.get(links[who]) as playlist:
                assert playlist.status == 200, await playlist.text()
        assert "&u=pest&" in links["pest"]
        await host.ok("participant.remove", {"room": "meet-2", "identity": "pest"})
        async with http.get(links["pest"]) as refused:
            assert refused.status == 403 and "banned" in await refused.text()
        async with http.get(links["pest"] + "&_HLS_msn=0&_HLS_part=1") as blocking:
            assert blocking.status == 403, "a blocking reload is a playlist request too"
        query = links["pest"].split("?", 1)[1]
        async with http.get(f"{app.url}/hls/meet-2/s1.1.m4s?{query}") as part:
            assert part.status == 200, "segments and parts are not asked again"
        async with http.get(links["fan"]) as other:
            assert other.status == 200, "another member's link is untouched"
        forged = links["pest"].replace("&u=pest&", "&u=fan&")
        async with http.get(forged) as bad:
            assert bad.status == 403 and "bad_signature" in await bad.text()
        unsigned_user = links["fan"].replace("&u=fan&", "&")
        async with http.get(unsigned_user) as bare:
            assert bare.status == 403 and "bad_signature" in await bare.text()
    for client in (host, *guests):
        await client.close()
