"""The node of the HLS serving benchmark (bench/hls.py): Pavilion's app with one public live
broadcast. Prints its URL once the broadcast has a segment, then serves until terminated.

    .venv/bin/python -m bench.hls_node [--feed paced|packager]

``packager``: the real thing: a :class:`~streaming.MediaPlane` in this process, a real aiortc
publisher (in this process too, over loopback) replaying a pre-encoded 720p H264 clip (~2.5
Mbit/s, a keyframe every 2 s; nothing is encoded while measured), and the plane's
:class:`~streaming.hls.packager.HlsPackager` (``MediaPlane.start_hls``) as the door's feed.

``paced`` (the default, the exact delay):
:class:`PacedFeed` implements the :class:`~streaming.hls.feed.HlsFeed` port the way the
packager does (playlists from :mod:`streaming.hls.playlist` snapshots, rendered once per
publication; blocking waits woken on the loop when a part is published, never polled), with
bytes of a real rendition's size in place of CMAF fragments: the benchmark measures the door
and its waits, not the segmenter (bench/hls_transcode.py and the packager tests cover those).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import struct
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bench.clip import vp8_clip
from bench.hls import PART_BYTES, PART_S, PARTS_PER_SEGMENT, ROOM
from config import MediaLimits, load
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from streaming import MediaPlane
from streaming.frames import Frame
from streaming.hls.feed import MP4, Blob, HlsFeed
from streaming.hls.playlist import MediaPlaylist, OpenSegment, Part, Segment, render_media
from streaming.hls.spec import HlsSpec
from streaming.hls.transcode import VideoTranscoder
from tests.streaming import clients
from web.app import create_app
from web.hls import FEEDS_KEY
from web.keys import BACKEND_KEY

WINDOW = 6
INIT = "v0-init0.mp4"


class PacedFeed:
    """One rendition, ``index.m3u8``, a part every ``PART_S`` (see the module docstring)."""

    def __init__(self) -> None:
        self.room = ROOM
        self._segments: list[Segment] = []
        self._parts: list[Part] = []
        self._msn = 0
        self._start = time.time()
        self._blobs: dict[str, Blob] = {INIT: Blob(b"\0" * 700, MP4)}
        self._texts: dict[tuple[bool, str], str] = {}
        self._playlist = self._snapshot()
        self._published = asyncio.Event()

    @property
    def ended(self) -> bool:
        return False

    def playlist(self, name: str, *, low_latency: bool, query: str = "") -> str | None:
        if name != "index.m3u8":
            return None
        key = (low_latency, query)
        if key not in self._texts:
            self._texts[key] = render_media(self._playlist, low_latency=low_latency, query=query)
        return self._texts[key]

    def blob(self, name: str) -> Blob | None:
        return self._blobs.get(name)

    async def ready(self, name: str, msn: int, part: int | None,
                    timeout: float) -> bool:  # noqa: ASYNC109 (the HlsFeed port's signature)
        deadline = time.monotonic() + timeout
        while not self._playlist.has(msn, part):
            if msn > self._playlist.last_msn + 2:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published.wait(), left)
        return True

    async def wait_blob(self, name: str,
                        timeout: float) -> Blob | None:  # noqa: ASYNC109 (the port's)
        deadline = time.monotonic() + timeout
        while name not in self._blobs and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published.wait(), deadline - time.monotonic())
        return self._blobs.get(name)

    async def run(self) -> None:
        """Publish a part every ``PART_S`` on the wall clock (no drift), forever."""
        origin = time.monotonic()
        while True:
            await asyncio.sleep(max(0.0, origin + PART_S * (len(self._parts) + 1
                                                            + PARTS_PER_SEGMENT * self._msn)
                                    - time.monotonic()))
            self.publish()

    def publish(self) -> None:
        name = f"v0-{self._msn}.{len(self._parts)}.m4s"
        stamp = struct.pack("!d", time.monotonic())
        self._blobs[name] = Blob(stamp + os.urandom(16) * (PART_BYTES // 16), MP4)
        self._parts.append(Part(name, PART_S, independent=not self._parts))
        if len(self._parts) == PARTS_PER_SEGMENT:
            self._close_segment()
        self._playlist, self._texts = self._snapshot(), {}
        self._published.set()
        self._published = asyncio.Event()

    def _close_segment(self) -> None:
        name = f"v0-{self._msn}.m4s"
        self._blobs[name] = Blob(b"".join(self._blobs[p.name].data for p in self._parts), MP4)
        self._segments.append(Segment(self._msn, name, PART_S * len(self._parts),
                                      self._start + self._msn * 2.0, INIT, False,
                                      tuple(self._parts)))
        self._msn, self._parts = self._msn + 1, []
        while len(self._segments) > WINDOW:
            gone = self._segments.pop(0)
            self._blobs.pop(gone.name, None)
            for part in gone.parts:
                self._blobs.pop(part.name, None)

    def _snapshot(self) -> MediaPlaylist:
        opened = OpenSegment(self._msn, self._start + self._msn * 2.0, INIT, False,
                             tuple(self._parts), f"v0-{self._msn}.{len(self._parts)}.m4s")
        return MediaPlaylist(tuple(self._segments), opened, 2, PART_S, 0, False)


class Feeds:
    def __init__(self, feed: PacedFeed) -> None:
        self.feed = feed

    def hls(self, room: str) -> PacedFeed | None:
        return self.feed if room == self.feed.room else None


class PlaneFeeds:
    """The door's feeds: the bench plane's packagers."""

    def __init__(self, plane: MediaPlane) -> None:
        self.plane = plane

    def hls(self, room: str) -> HlsFeed | None:
        return self.plane.hls(room)


def h264_clip() -> tuple[bytes, ...]:
    """6 s of 720p H264 (bench/clip.py's texture through the transcoder: 2 s GOPs)."""
    vp8 = vp8_clip(frames=90, size=(1280, 720), bitrate=2_500_000)
    transcoder = VideoTranscoder([720], "ultrafast", PART_S * PARTS_PER_SEGMENT)
    out: list[bytes] = []
    for index in range(180):
        frame = Frame(vp8[index % len(vp8)], index * 3000, index % len(vp8) == 0)
        out += [unit.data for unit in transcoder.push("clip", "vp8", frame, index * 100 / 3)[0]]
    return tuple(out)


async def packaged(app: web.Application) -> AsyncIterator[None]:
    """A plane, a publisher and the room's packager for the app's lifetime."""
    feeds = app[FEEDS_KEY]
    assert isinstance(feeds, PlaneFeeds)
    plane = feeds.plane
    packets = h264_clip()
    # the test publisher replays clients.clip(...): this clip instead of its flat one
    clients.clip = lambda *args, **kwargs: packets  # type: ignore[assignment]
    publisher = await clients.publish(plane, ROOM, "camera", codec="h264", audio=True)
    plane.start_hls(HlsSpec(ROOM, segment_s=PART_S * PARTS_PER_SEGMENT, part_s=PART_S))
    feed = plane.hls(ROOM)
    assert feed is not None
    await feed.ready("v0.m3u8", 1, None, 30.0)
    yield
    await publisher.close()
    await plane.aclose()


async def room(app: web.Application) -> AsyncIterator[None]:
    await app[BACKEND_KEY].store.put_room(broadcast())
    yield


async def paced(app: web.Application) -> AsyncIterator[None]:
    feeds = app[FEEDS_KEY]
    assert isinstance(feeds, Feeds)
    task = asyncio.create_task(feeds.feed.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def broadcast() -> Room:
    return Room(id=ROOM, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": "HLS bench"}), exhibitor="bench",
                starts_at=datetime.now(UTC) - timedelta(minutes=1), state=RoomState.LIVE)


async def serve(mode: str) -> None:
    port = int(os.environ.get("BENCH_PORT", "0")) or _free_port()
    settings = load(env={}, overrides={
        "port": port, "secret": "bench-secret-0123456789abcdef-0123456789",
        "node_id": "bench-node", "demo": False,
        "recordings": {"dir": tempfile.mkdtemp(prefix="pavilion-bench-")}})
    app = create_app(settings)
    app.cleanup_ctx.append(room)
    if mode == "packager":
        app[FEEDS_KEY] = PlaneFeeds(MediaPlane(MediaLimits(
            allow_loopback_candidates=True, allow_private_candidates=True)))
        app.cleanup_ctx.append(packaged)
    else:
        app[FEEDS_KEY] = Feeds(PacedFeed())
        app.cleanup_ctx.append(paced)
    runner = web.AppRunner(app, handle_signals=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"http://127.0.0.1:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        shutil.rmtree(settings.recordings_dir, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feed", choices=["paced", "packager"], default="paced")
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(serve(parser.parse_args().feed))
