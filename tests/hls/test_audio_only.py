"""HLS of a forum whose speakers send only their voices (issue 16, docs/hls.md §3): a real
aiortc Opus publisher into a live forum starts an audio-only feed, served by the node's door:
``index.m3u8`` names one AAC-only variant (no resolution), whose media playlist cuts its own
segments (parsed with the ``m3u8`` library, target duration honoured) and whose init and
segments ffprobe reads as AAC. When a camera joins, a full feed (video + audio) replaces it,
and the voices' feed has become a replay (its VOD playlist, audio only)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import m3u8
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from rooms.room import RoomKind
from tests.hls.door import Start, put_rooms, room
from tests.hls.replayed import HLS, replay_of
from tests.streaming.clients import ToneTrack, publish, until
from tests.streaming.media_probe import codecs, decode_errors
from web.media import MEDIA_KEY


async def _voice(plane: Any, room_id: str, participant: str) -> RTCPeerConnection:
    """An aiortc publisher with a microphone only (a 440 Hz tone)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(ToneTrack(0.3), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    answer = await plane.publish(room_id, participant, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
    return pc


async def _get(http: aiohttp.ClientSession, url: str) -> bytes:
    async with http.get(url) as got:
        assert got.status == 200, (url, got.status)
        return await got.read()


async def test_a_forum_of_voices_has_an_audio_only_hls(pavilion_app: Start,
                                                       tmp_path: Path) -> None:
    app = await pavilion_app(demo=False, hls=HLS)
    await put_rooms(app, room("voices", kind=RoomKind.FORUM))
    plane = app.app[MEDIA_KEY]
    voice = await _voice(plane, "voices", "speaker-1")
    await until(lambda: plane.hls("voices") is not None)
    feed = plane.hls("voices")
    assert feed is not None

    def segments() -> int:
        text = feed.playlist("a0.m3u8", low_latency=False)
        return 0 if text is None else len(m3u8.loads(text).segments)

    await until(lambda: segments() >= 3, within=40)
    base = app.url + "/hls/voices/"
    async with aiohttp.ClientSession() as http:
        master = m3u8.loads((await _get(http, base + "index.m3u8")).decode())
        [variant] = master.playlists
        assert variant.stream_info.codecs == "mp4a.40.2"
        assert variant.stream_info.resolution is None and not master.media
        media_url = urljoin(base, variant.uri)
        media = m3u8.loads((await _get(http, media_url)).decode())
        assert media.segments and media.target_duration == 1
        assert all(0.5 <= s.duration <= 1.5 for s in media.segments), \
            [s.duration for s in media.segments]
        init = media.segments[0].init_section
        assert init is not None
        data = [await _get(http, urljoin(media_url, init.uri))]
        data += [await _get(http, urljoin(media_url, s.uri)) for s in media.segments]
    whole = tmp_path / "voices.mp4"
    whole.write_bytes(b"".join(data))
    assert codecs(whole) == ["aac"] and decode_errors(whole) == ""

    camera = await publish(plane, "voices", "speaker-2", codec="h264", size=(320, 240))
    await until(lambda: feed.ended, within=20)  # the voices' feed ends...

    def full() -> bool:  # ...and a full one, video and the voices mixed, takes its place
        now = plane.hls("voices")
        text = now.playlist("index.m3u8", low_latency=False) if now is not None else None
        return text is not None and "RESOLUTION=" in text

    await until(full, within=40)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while (replay := await replay_of(app, "voices")) is None:
        assert loop.time() < deadline, "the voices' feed left no replay"
        await asyncio.sleep(0.1)
    vod = m3u8.loads((app.settings.recordings_dir / replay.id / "a0.m3u8").read_text())
    assert vod.playlist_type == "vod" and vod.is_endlist and len(vod.segments) >= 3
    assert replay.duration_s > 2
    await camera.close()
    await voice.close()


PLAY = """async () => {
  const { default: Hls } = await import('/static/vendor/hls.min.mjs');
  const video = document.createElement('video');
  video.muted = true; video.autoplay = true; document.body.append(video);
  window.report = { errors: [] };
  const hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, (_, d) => window.report.errors.push(`${d.details}:${d.fatal}`));
  hls.loadSource('/hls/voices/index.m3u8'); hls.attachMedia(video);
  window.hls = hls; window.video = video;
}"""
STATE = """() => ({ t: window.video.currentTime, errors: window.report.errors,
                 width: window.video.videoWidth })"""


@pytest.mark.browser
async def test_hls_js_plays_a_forum_of_voices(pavilion_app: Start, browser: Any) -> None:
    app = await pavilion_app(demo=False, hls=HLS)
    await put_rooms(app, room("voices", kind=RoomKind.FORUM))
    plane = app.app[MEDIA_KEY]
    voice = await _voice(plane, "voices", "speaker-1")

    def ready() -> bool:
        feed = plane.hls("voices")
        return feed is not None and feed.playlist("index.m3u8", low_latency=True) is not None

    await until(ready, within=40)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{app.url}/healthz")  # a page of the same origin as the module
    await page.evaluate(PLAY)

    async def position() -> float:
        return float((await page.evaluate(STATE))["t"])

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await position() < 0.5:
        assert loop.time() < deadline, await page.evaluate(STATE)
        await asyncio.sleep(0.1)
    start = await position()
    await asyncio.sleep(4)
    end = await page.evaluate(STATE)
    assert end["t"] - start > 2.0, (start, end)  # it plays on (loosely: a busy machine)
    assert end["errors"] == [] and errors == [] and end["width"] == 0  # sound, no picture
    await voice.close()
