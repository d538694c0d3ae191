"""The node of the HLS serving benchmark (bench/hls.py): Pavilion's app with one public live
broadcast whose feed publishes stamped parts at real-time pace. Prints its URL, then serves
until terminated.

    .venv/bin/python -m bench.hls_node

:class:`PacedFeed` implements the :class:`~streaming.hls.feed.HlsFeed` port the way the
packager does (playlists from :mod:`streaming.hls.playlist` snapshots, rendered once per
publication; blocking waits woken on the loop when a part is published, never polled), with
bytes of a real rendition's size in place of CMAF fragments: the benchmark measures the door
and its waits, not the segmenter (bench/hls_transcode.py and the packager tests cover those).
"""

from __future__ import annotations

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

from bench.hls import PART_BYTES, PART_S, PARTS_PER_SEGMENT, ROOM
from config import load
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from streaming.hls.feed import MP4, Blob
from streaming.hls.playlist import MediaPlaylist, OpenSegment, Part, Segment, render_media
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


def broadcast() -> Room:
    return Room(id=ROOM, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": "HLS bench"}), exhibitor="bench",
                starts_at=datetime.now(UTC) - timedelta(minutes=1), state=RoomState.LIVE)


async def serve() -> None:
    port = int(os.environ.get("BENCH_PORT", "0")) or _free_port()
    settings = load(env={}, overrides={
        "port": port, "secret": "bench-secret-0123456789abcdef-0123456789",
        "node_id": "bench-node", "demo": False,
        "recordings": {"dir": tempfile.mkdtemp(prefix="pavilion-bench-")}})
    app = create_app(settings)
    feed = PacedFeed()
    app[FEEDS_KEY] = Feeds(feed)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await app[BACKEND_KEY].store.put_room(broadcast())
        task = asyncio.create_task(feed.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(lifetime)
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
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(serve())
