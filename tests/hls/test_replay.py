"""A stopped broadcast's HLS becomes its replay at once (issue 16 §5, docs/hls.md §5).

A real aiortc H264 publisher goes live in a broadcast with HLS; it stops; the feed ends and
its archive (every segment written while live) gets VOD playlists; the node registers a
replay record. Then over real HTTP: the exhibitor's replay API lists it, its signed playlists
parse with the ``m3u8`` library (``EXT-X-PLAYLIST-TYPE:VOD``, ``EXT-X-ENDLIST``, every segment
listed from the first and fetchable), ffprobe and ffmpeg read the segments; a visitor, an
anonymous caller and an altered link are refused; and once the room's recording of the same
time is final, the listing shows the recording instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
import m3u8

from rooms.recording import Recording, RecordingState
from tests.hls.door import Start, put_rooms, room
from tests.hls.replayed import EXHIBITOR, HLS, broadcast_and_stop, replay_of
from tests.recordings.helpers import bearer, recorded
from tests.streaming.clients import publish, until
from tests.streaming.media_probe import codecs, decode_errors, duration
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY


async def test_a_stopped_broadcast_is_a_replay_at_once(pavilion_app: Start,
                                                        tmp_path: Path) -> None:
    app, replay, live_first = await broadcast_and_stop(pavilion_app)
    assert replay.state is RecordingState.DONE
    assert replay.started_by == "hls" and not replay.published
    async with aiohttp.ClientSession() as http:
        listed = await _listed(http, app.url, bearer(EXHIBITOR, "show"))
        assert [r["id"] for r in listed] == [replay.id]
        files = listed[0]["files"]
        assert isinstance(files, list) and [f["kind"] for f in files] == ["hls"]
        master_url = app.url + files[0]["url"]
        await _check_vod(http, master_url, tmp_path, live_first=live_first)
        await _refusals(http, app.url, replay, master_url)
        # the room's own recording of the same time, once final, is what the listing shows
        store = app.app[BACKEND_KEY].store
        recording = replace(recorded("rec_recorded0001", "show", node="n", at=replay.started_at),
                            ended_at=replay.ended_at)
        await store.put_recording(recording)
        listed = await _listed(http, app.url, bearer(EXHIBITOR, "show"))
        assert [r["id"] for r in listed] == [recording.id]
        await store.put_recording(replace(recording, state=RecordingState.RECORDING))
        listed = await _listed(http, app.url, bearer(EXHIBITOR, "show"))
        assert {r["id"] for r in listed} == {recording.id, replay.id}  # the fallback


async def _listed(http: aiohttp.ClientSession, base: str,
                  headers: dict[str, str]) -> list[dict[str, object]]:
    async with http.get(base + "/api/pages/recordings?room=show", headers=headers) as got:
        assert got.status == 200, await got.text()
        body = await got.json()
    return list(body["recordings"])


async def _get(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as got:
        assert got.status == 200, (url, await got.text())
        return await got.read()


async def _check_vod(http: aiohttp.ClientSession, master_url: str, tmp: Path, *,
                     live_first: int) -> None:
    master = m3u8.loads((await _get(http, master_url)).decode())
    assert master.is_variant and len(master.playlists) == 1
    assert [m.type for m in master.media] == ["AUDIO"]
    for uri, kind in ((master.playlists[0].uri, "video"), (master.media[0].uri, "audio")):
        url = urljoin(master_url, uri)
        vod = m3u8.loads((await _get(http, url)).decode())
        assert vod.playlist_type == "vod" and vod.is_endlist
        assert vod.media_sequence == 0  # from the first segment, not the live window
        numbers = [int(s.uri.partition("?")[0].split("-")[1].split(".")[0])
                   for s in vod.segments]
        assert numbers == list(range(len(numbers))) and len(numbers) > live_first + 2
        assert all(s.duration <= vod.target_duration + 0.5 for s in vod.segments)
        init = vod.segments[0].init_section
        assert init is not None and all(s.init_section.uri == init.uri for s in vod.segments)
        data = [await _get(http, urljoin(url, init.uri))]
        data += [await _get(http, urljoin(url, s.uri)) for s in vod.segments]
        whole = tmp / f"{kind}.mp4"
        whole.write_bytes(b"".join(data))
        assert codecs(whole) == (["h264"] if kind == "video" else ["aac"])
        assert decode_errors(whole) == ""
        listed = sum(s.duration for s in vod.segments)
        assert abs(duration(whole) - listed) < 1.0, (duration(whole), listed)


async def _refusals(http: aiohttp.ClientSession, base: str, replay: Recording,
                    master_url: str) -> None:
    async with http.get(f"{base}/api/pages/recordings/{replay.id}",
                        headers=bearer("visitor-1", "show")) as got:
        assert got.status == 403  # a viewer of the room may not open an unpublished replay
    assert await _listed(http, base, bearer("visitor-1", "show")) == []
    for name in ("index.m3u8", "v0.m3u8", "v0-0.m4s"):
        async with http.get(f"{base}/recordings/{replay.id}/files/{name}") as got:
            assert got.status == 403, name  # no link, not published
    forged = master_url.replace("sig=", "sig=A")[: len(master_url)]
    async with http.get(forged) as got:
        assert got.status == 403
    async with http.get(f"{base}/recordings/{replay.id}/files/..%2Fsecret") as got:
        assert got.status in (403, 404)


async def test_a_full_disk_stops_the_archive_not_the_live_room(pavilion_app: Start) -> None:
    """Below ``recordings.min_free_mb`` free (here: more than any disk has) the archive writes
    nothing, says why once in the log, and leaves no replay; the live HLS goes on."""
    app = await pavilion_app(demo=False, hls=HLS, recordings={"min_free_mb": 10_000_000})
    await put_rooms(app, room("show"))
    plane = app.app[MEDIA_KEY]
    publisher = await publish(plane, "show", EXHIBITOR, codec="h264", size=(320, 240))
    await until(lambda: plane.hls("show") is not None)
    feed = plane.hls("show")
    assert feed is not None

    def segments() -> int:
        text = feed.playlist("v0.m3u8", low_latency=False)
        return 0 if text is None else len(m3u8.loads(text).segments)

    await until(lambda: segments() >= 4, within=40)  # live, while the archive is stopped
    packager = plane.packagers["show"]
    assert packager.archive is not None and packager.archive.reason == "disk_full"
    await publisher.close()
    await until(lambda: packager.archived is not None, within=20)  # after ENDLIST
    assert feed.ended and packager.archived is not None and not packager.archived.playable
    await asyncio.sleep(0.5)  # the link's task has heard the end by now
    assert await replay_of(app, "show") is None
