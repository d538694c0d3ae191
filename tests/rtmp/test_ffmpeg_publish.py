"""End to end (issue 16 §8): Debian's ffmpeg publishes RTMP into a broadcast on a real node; an
aiortc viewer over WHEP decodes its pictures and its sound; refused keys publish nothing."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from streaming.plane import SpeakerChanged
from tests.fixtures.pavilion import TEST_SECRET
from tests.fixtures.ports import free_port
from tests.rtmp.encoder import B_FRAMES, ZERO_LATENCY, SizingViewer, ffmpeg_publish, stop
from tests.streaming.clients import contiguous, until
from tests.streaming.media_probe import codecs, frame_sizes
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

pytestmark = pytest.mark.slow


def token(room: str = "expo", *grants: Grant, identity: str = "hall-camera",
          ttl: int = 3600, secret: str = TEST_SECRET) -> str:
    return mint(secret, identity=identity, room=room, grants=grants or (Grant.PUBLISH,),
                ttl_s=ttl)


@pytest.fixture
async def node(pavilion_app: Callable[..., Awaitable[Any]]) -> AsyncIterator[Any]:
    running = await pavilion_app(demo=True, rtmp_port=free_port(), hls={})
    for room in ("expo", "other"):
        await running.app[BACKEND_KEY].store.create_room(
            Room(id=room, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                 title=LocalizedText({"en": room}), state=RoomState.LIVE))
    running.rtmp = f"rtmp://127.0.0.1:{running.settings.rtmp_port}/live"
    async with aiohttp.ClientSession(running.url) as http:
        running.http = http
        yield running


async def whep_watch(node: Any, viewer: SizingViewer) -> None:
    headers = {"Content-Type": "application/sdp",
               "Authorization": f"Bearer {token('expo', Grant.SUBSCRIBE, identity='player')}"}
    response = await node.http.post("/whep/expo", data=await viewer.offer(), headers=headers)
    assert response.status == 201, await response.text()
    await viewer.accept(await response.text())


@pytest.mark.parametrize(("tuning", "profile"), [(ZERO_LATENCY, "42"), (B_FRAMES, "4d")],
                         ids=["zerolatency", "bframes"])
async def test_ffmpeg_rtmp_is_watched_over_webrtc(node: Any, tuning: tuple[str, ...],
                                                  profile: str, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """x264 ultrafast: constrained baseline (42) without B-frames, main (4d) with them; the
    Source's profile-level-id is the SPS's, whatever viewers negotiate."""
    plane = node.app[MEDIA_KEY]
    speakers: list[str | None] = []
    plane.listen(lambda e: speakers.append(e.participant) if isinstance(e, SpeakerChanged)
                 else None)
    encoder = await ffmpeg_publish(f"{node.rtmp}/{token()}", tuning=tuning)
    try:
        await until(lambda: {"audio", "video"} <= set(plane.live_sources("expo")), 20)
        video = plane.live_sources("expo")["video"]
        assert video.codec.name == "h264"
        assert video.codec.fmtp["packetization-mode"] == "1"
        assert video.codec.h264_profile[:2] == profile
        assert plane.live_sources("expo")["audio"].codec.name == "opus"
        viewer = SizingViewer()
        await whep_watch(node, viewer)
        await until(lambda: viewer.frames.get("video", 0) >= 30
                    and viewer.frames.get("audio", 0) >= 50, 30)
        assert viewer.sizes == {(640, 360)}
        assert contiguous(viewer.received["video"].sequences)  # every packet forwarded
        # the tone's level (-24 dBov) makes the venue feed the room's active speaker
        await until(lambda: "hall-camera" in speakers, 10)
        # the operator is told that browsers will not play B-frames (docs/hls.md §8)
        assert ("carries B-frames" in caplog.text) == (tuning == B_FRAMES)
        assert viewer.sender_reports, "the ingest's sender reports reach the viewer"
        # issue 16: watched over HLS too: the first segment of each rendition, probed
        await until(lambda: hls_segment(plane, "a") is not None, 20)
        for rendition, codec in (("v", "h264"), ("a", "aac")):
            path = tmp_path / f"{rendition}.mp4"
            path.write_bytes(hls_segment(plane, rendition) or b"")
            assert codecs(path) == [codec]
        assert frame_sizes(tmp_path / "v.mp4") == {(640, 360)}
        # ...and served by the HLS door to anyone (a live public broadcast, docs/hls.md)
        async with node.http.get("/hls/expo/index.m3u8") as answer:
            assert answer.status == 200, await answer.text()
            master = await answer.text()
        assert "#EXT-X-STREAM-INF" in master and "RESOLUTION=640x360" in master, master
    finally:
        code = await stop(encoder)
    assert code in (0, 255, -15), code  # ffmpeg on SIGTERM
    await until(lambda: not plane.live_sources("expo") and not plane.locals, 10)
    await until(lambda: viewer.ended["video"].is_set(), 10)  # the BYE of an ended Source
    await viewer.close()


def hls_segment(plane: Any, rendition: str) -> bytes | None:
    """Init and first complete segment of room expo's HLS rendition ``v…`` (video) or ``a…``
    (audio), or None before there is one."""
    feed = plane.hls("expo")
    master = feed.playlist("index.m3u8", low_latency=False) if feed is not None else None
    if master is None:
        return None
    media = [line for line in master.splitlines() if line.endswith(".m3u8")]
    media += re.findall(r'URI="([^"]+\.m3u8)"', master)
    chosen = next((name for name in media if name.startswith(rendition)), None)
    text = feed.playlist(chosen, low_latency=False) if chosen is not None else None
    init = re.search(r'EXT-X-MAP:URI="([^"]+)"', text or "")
    names = [line for line in (text or "").splitlines() if line and not line.startswith("#")]
    if init is None or not names:
        return None
    return bytes(feed.blob(init.group(1)).data + feed.blob(names[0]).data)


@pytest.mark.parametrize("case", ["forged", "expired", "no_publish_grant", "garbage"])
async def test_a_refused_key_publishes_nothing(node: Any, case: str) -> None:
    key = {
        "forged": token(secret="another-secret-0123456789abcdef-012345"),
        "expired": mint(TEST_SECRET, identity="cam", room="expo", grants=(Grant.PUBLISH,),
                        ttl_s=60, now=time.time() - 3600),
        "no_publish_grant": token("expo", Grant.JOIN, Grant.SUBSCRIBE),
        "garbage": "not-a-token",
    }[case]
    encoder = await ffmpeg_publish(f"{node.rtmp}/{key}", seconds=5)
    code = await stop_when_done(encoder)
    assert code != 0
    said = (await encoder.stderr.read()).decode(errors="replace")
    expected = "no_publish_grant" if case == "no_publish_grant" else "no valid token"
    assert expected in said, said  # ffmpeg prints the onStatus description
    plane = node.app[MEDIA_KEY]
    assert not plane.live_sources("expo") and not plane.locals


async def stop_when_done(process: Any) -> int:
    import asyncio

    try:
        return int(await asyncio.wait_for(process.wait(), 20))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
