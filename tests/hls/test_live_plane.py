"""The whole HLS path on one node (issue 16 §1, §3): a real aiortc H264 publisher into a live
broadcast, the plane's packager started by the signalling (its first video), and the real
door under ``/hls/`` serving it: master playlist, media playlists, a blocking reload that
returns with the part asked for, a blocking preload hint, and blobs byte for byte what the
packager made."""

from __future__ import annotations

import asyncio

import aiohttp
import m3u8

from tests.hls.door import Start, put_rooms, room
from tests.streaming.clients import publish, until
from web.media import MEDIA_KEY

HLS = {"segment_s": 1.0, "part_s": 0.25}


async def test_a_live_broadcast_is_served_over_http_from_its_packager(
        pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, hls=HLS)
    await put_rooms(app, room("show"))
    plane = app.app[MEDIA_KEY]
    publisher = await publish(plane, "show", "exhibitor-co", codec="h264", size=(320, 240))
    await until(lambda: plane.hls("show") is not None)
    feed = plane.hls("show")
    assert feed is not None
    await until(lambda: feed.playlist("index.m3u8", low_latency=True) is not None, within=20)
    base = app.url + "/hls/show/"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "index.m3u8") as got:
            assert got.status == 200, await got.text()
            master = m3u8.loads(await got.text())
        assert [p.uri for p in master.playlists] == ["v0.m3u8"]
        assert [m.uri for m in master.media] == ["a0.m3u8"]
        async with http.get(base + "v0.m3u8") as got:
            assert got.status == 200
            video = m3u8.loads(await got.text())
        hint = video.preload_hint.uri
        msn, part = (int(n) for n in hint.removeprefix("v0-").removesuffix(".m4s").split("."))
        hinted = asyncio.ensure_future(http.get(base + hint))  # a blocking preload hint
        blocked = f"{base}v0.m3u8?_HLS_msn={msn}&_HLS_part={part}"
        async with http.get(blocked) as got:  # a blocking playlist reload
            assert got.status == 200
            text = await got.text()
        assert f'URI="{hint}"' in text and '#EXT-X-PART:' in text
        async with await hinted as got:
            assert got.status == 200
            assert await got.read() == feed.blob(hint).data  # type: ignore[union-attr]
        done = [s for s in m3u8.loads(text).segments if s.uri]
        for name in (done[-1].init_section.uri, done[-1].uri):
            async with http.get(base + name) as got:
                assert got.status == 200 and got.headers["Content-Type"] == "video/mp4"
                assert await got.read() == feed.blob(name).data  # type: ignore[union-attr]
        async with http.get(f"{base}v0.m3u8?_HLS_msn={msn + 9}") as got:
            assert got.status == 400  # too far ahead (RFC 8216bis §6.2.5.2)
    await publisher.close()
