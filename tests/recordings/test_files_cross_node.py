"""A recording's file fetched from a node that does not hold it (issue 15 §5): that node asks
the holder (its URL from the cluster's reports), passes Range, and streams the answer back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import m3u8
import pytest

from rooms.recording import FileKind, RecordingFile
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.recordings.helpers import recorded, room, write_file
from web import file_signature
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]


@pytest.mark.redis
async def test_a_node_without_the_file_streams_it_from_its_holder(
        pavilion_app: Start, redis_url: str, tmp_path: Path) -> None:
    holder = await pavilion_app(redis_url=redis_url, node_id="node-a",
                                recordings={"dir": str(tmp_path / "a")})
    other = await pavilion_app(redis_url=redis_url, node_id="node-b",
                               recordings={"dir": str(tmp_path / "b")})
    data = write_file(tmp_path / "a", "rec_far00000000", "gobi.webm", 300_000)
    store = other.app[BACKEND_KEY].store
    await store.put_room(room("show"))
    await store.put_recording(recorded("rec_far00000000", "show", node="node-a"))
    url = file_signature.signed_url(TEST_SECRET, "rec_far00000000", "gobi.webm",
                                    now=time.time())
    async with aiohttp.ClientSession() as http:
        await _until_listed(other, "node-a")
        async with http.get(other.url + url, headers={"Range": "bytes=1000-"}) as part:
            assert part.status == 206, await part.text()
            assert part.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
            assert await part.read() == data[1000:]
            etag = part.headers["ETag"]
        async with http.get(other.url + url, headers={"If-None-Match": etag}) as same:
            assert same.status == 304
        async with http.head(other.url + url) as head:
            assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
        async with http.get(holder.url + url) as direct:
            assert direct.status == 200 and await direct.read() == data
        gone = file_signature.signed_url(TEST_SECRET, "rec_far00000000", "gobi.webm",
                                         now=time.time())
        await holder.app[BACKEND_KEY].store.put_recording(
            recorded("rec_far00000000", "show", node="node-z"))
        async with http.get(other.url + gone) as lost:
            assert lost.status == 503, "the holder is not running: try later, not a 5xx bug"
            assert (await lost.json())["error"]["code"] == "recording_unavailable"


async def _until_listed(node: RunningApp, node_id: str, within: float = 15) -> None:
    cluster = node.app[BACKEND_KEY].cluster
    deadline = time.monotonic() + within
    while node_id not in {n.node_id for n in await cluster.nodes()}:
        assert time.monotonic() < deadline, f"{node_id} never reported"
        await asyncio.sleep(0.1)


@pytest.mark.redis
async def test_an_hls_replay_plays_through_a_node_that_does_not_hold_it(
        pavilion_app: Start, redis_url: str, tmp_path: Path) -> None:
    """Issue 16 §5: the other node fetches the playlist from the holder and signs what it lists
    itself, for the caller's expiry; the segments it names then stream through it too."""
    await pavilion_app(redis_url=redis_url, node_id="node-a",
                       recordings={"dir": str(tmp_path / "a")})
    other = await pavilion_app(redis_url=redis_url, node_id="node-b",
                               recordings={"dir": str(tmp_path / "b")})
    rec_id = "rec_hlsfar000000"
    segment = write_file(tmp_path / "a", rec_id, "v0-0.m4s", 5_000)
    write_file(tmp_path / "a", rec_id, "v0-init0.mp4", 700)
    (tmp_path / "a" / rec_id / "v0.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:2\n"
        '#EXT-X-MAP:URI="v0-init0.mp4"\n#EXTINF:2.00000,\nv0-0.m4s\n#EXT-X-ENDLIST\n')
    store = other.app[BACKEND_KEY].store
    await store.put_room(room("show"))
    hls = RecordingFile("index.m3u8", FileKind.HLS, "application/vnd.apple.mpegurl")
    await store.put_recording(replace(recorded(rec_id, "show", node="node-a"), files=(hls,)))
    url = file_signature.signed_url(TEST_SECRET, rec_id, "v0.m3u8", now=time.time())
    async with aiohttp.ClientSession() as http:
        await _until_listed(other, "node-a")
        async with http.get(other.url + url) as got:
            assert got.status == 200, await got.text()
            assert got.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
            vod = m3u8.loads(await got.text())
        exp = url.split("exp=")[1].split("&")[0]
        assert vod.segments[0].uri.startswith(f"v0-0.m4s?exp={exp}&sig=")  # the caller's expiry
        base = other.url + url.split("?")[0].rsplit("/", 1)[0] + "/"
        async with http.get(base + vod.segments[0].uri) as got:
            assert got.status == 200 and await got.read() == segment
        async with http.get(base + vod.segments[0].init_section.uri) as got:
            assert got.status == 200
        async with http.get(base + "v0-0.m4s") as got:
            assert got.status == 403  # unsigned, unpublished
