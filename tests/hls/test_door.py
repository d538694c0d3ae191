"""The live HLS door (issue 16 §3, docs/hls.md §4) on one node, against the HlsFeed contract:
status codes, blocking reload and preload hints, cache headers, ETag, CORS, ``ll=0``."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from rooms.room import RoomState
from tests.hls.door import Start, node_with, put_rooms, room
from tests.hls.scripted_feed import ScriptedFeed

FAST_PARTS = {"part_s": 0.1}  # blocking waits of 3 x 0.1 + 1 s


async def _started(pavilion_app: Start, *feeds: ScriptedFeed) -> str:
    app = await node_with(pavilion_app, *feeds, hls=FAST_PARTS)
    await put_rooms(app, *(room(f.room) for f in feeds), room("quiet"))
    return app.url


async def test_a_public_live_room_plays_without_a_token(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show")
    url = await _started(pavilion_app, feed)
    await feed.publish_part()
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/hls/show/index.m3u8") as got:
            text = await got.text()
            assert got.status == 200, text
            assert got.headers["Content-Type"] == "application/vnd.apple.mpegurl"
            assert got.headers["Cache-Control"] == "public, max-age=1"
            assert got.headers["Access-Control-Allow-Origin"] == "*"
            assert "#EXT-X-PART:" in text and "#EXT-X-PRELOAD-HINT" in text
            etag = got.headers["ETag"]
        async with http.get(url + "/hls/show/index.m3u8",
                            headers={"If-None-Match": etag}) as same:
            assert same.status == 304 and same.headers["ETag"] == etag
        await feed.publish_part()
        async with http.get(url + "/hls/show/index.m3u8",
                            headers={"If-None-Match": etag}) as changed:
            assert changed.status == 200 and changed.headers["ETag"] != etag
        for name in ("init.mp4", "s0.0.m4s"):
            async with http.get(f"{url}/hls/show/{name}") as media:
                assert media.status == 200, name
                assert media.headers["Content-Type"] == "video/mp4"
                assert media.headers["Cache-Control"] == "public, max-age=31536000, immutable"
                assert await media.read() == feed.blob(name).data  # type: ignore[union-attr]
            async with http.head(f"{url}/hls/show/{name}") as head:
                assert head.status == 200 and await head.read() == b""
                assert head.headers["Cache-Control"].endswith("immutable")


@pytest.mark.parametrize(("path", "status"), [
    ("/hls/show/nothing.m4s", 404), ("/hls/show/.hidden", 404), ("/hls/show/" + "a" * 65, 404),
    ("/hls/show/a%2Fb.m4s", 404), ("/hls/show/..", 404), ("/hls/show/s%C3%A9.m4s", 404),
    ("/hls/quiet/index.m3u8", 404), ("/hls/no-such-room/index.m3u8", 404),
    ("/hls/BAD!/index.m3u8", 404), ("/hls/show/other.m3u8", 404),
    ("/hls/show/index.m3u8?_HLS_part=1", 400), ("/hls/show/index.m3u8?_HLS_msn=x", 400),
    ("/hls/show/index.m3u8?_HLS_msn=-1", 400), ("/hls/show/index.m3u8?_HLS_msn=%EF%BC%91", 400),
    ("/hls/show/index.m3u8?_HLS_msn=99", 400),  # beyond the next two segments
    ("/hls/show/index.m3u8?_HLS_msn=0&_HLS_skip=YES", 200),  # skip is ignored, answered whole
])
async def test_bad_requests_get_a_clear_4xx(pavilion_app: Start, path: str, status: int) -> None:
    feed = ScriptedFeed("show", segments=1)
    url = await _started(pavilion_app, feed)
    async with aiohttp.ClientSession() as http, http.get(url + path) as got:
        text = await got.text()
        assert got.status == status, text
        if status != 200:
            assert got.headers["Content-Type"].startswith("text/plain") and ":" in text


async def test_a_blocking_reload_answers_once_the_part_exists(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show", segments=1)
    url = await _started(pavilion_app, feed)
    async with aiohttp.ClientSession() as http:
        ask = asyncio.ensure_future(_get(http, url + "/hls/show/index.m3u8?_HLS_msn=1&_HLS_part=1"))
        await asyncio.sleep(0.3)
        assert not ask.done(), "answered before part 1 of segment 1 existed"
        await feed.publish_part()  # s1.0
        await asyncio.sleep(0.2)
        assert not ask.done(), "answered with s1.0 only"
        await feed.publish_part()  # s1.1
        status, headers, text = await ask
        assert status == 200 and 's1.1.m4s"' in text
        assert headers["Cache-Control"] == "public, max-age=6"


async def test_a_blocking_reload_that_waits_too_long_is_503(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show", segments=1)
    url = await _started(pavilion_app, feed)
    async with aiohttp.ClientSession() as http:
        status, headers, text = await _get(http, url + "/hls/show/index.m3u8?_HLS_msn=2")
        assert status == 503 and headers["Retry-After"] == "1", text


async def test_a_preload_hint_part_is_sent_once_complete(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show", segments=1)
    url = await _started(pavilion_app, feed)
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/hls/show/index.m3u8") as got:
            assert 'PRELOAD-HINT:TYPE=PART,URI="s1.0.m4s"' in await got.text()
        ask = asyncio.ensure_future(_get(http, url + "/hls/show/s1.0.m4s"))
        await asyncio.sleep(0.3)
        assert not ask.done()
        await feed.publish_part()
        status, _, text = await ask
        assert status == 200 and text == "media:s1.0.m4s"
        status, _, _ = await _get(http, url + "/hls/show/s1.1.m4s")  # never completes
        assert status == 404


async def test_ll0_is_the_standard_latency_playlist_all_the_way(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show", segments=2, parts=1)
    url = await _started(pavilion_app, feed)
    async with aiohttp.ClientSession() as http:
        status, _, text = await _get(http, url + "/hls/show/index.m3u8?ll=0")
    assert status == 200 and "#EXT-X-PART" not in text and "PRELOAD-HINT" not in text
    assert "s1.m4s?ll=0" in text and feed.asked[-1] == ("index.m3u8", False, "ll=0")


async def test_an_ended_broadcast_serves_its_final_playlist(pavilion_app: Start) -> None:
    feed = ScriptedFeed("show", segments=2)
    app = await node_with(pavilion_app, feed, hls=FAST_PARTS)
    await put_rooms(app, room("show", state=RoomState.ENDED))
    await feed.end()
    async with aiohttp.ClientSession() as http:
        status, _, text = await _get(http, app.url + "/hls/show/index.m3u8?_HLS_msn=2")
    assert status == 200 and text.rstrip().endswith("#EXT-X-ENDLIST")


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, str], str]:
    async with http.get(url) as got:
        return got.status, dict(got.headers), await got.text()
