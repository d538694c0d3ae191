"""Real live HLS from Debian's ffmpeg, served through the door's HlsFeed port (issue 16 §4).

The page tests need a stream hls.js really plays (CMAF with H264 + AAC, a sliding window, a
program date time) while the packager (streaming/hls/) is another branch's work: ffmpeg's own
HLS muxer writes fragmented-MP4 segments of a test pattern in real time into a folder and this
feed serves that folder. It has no LL-HLS parts (ffmpeg 5.1 writes none), so ``ready`` only
waits for whole segments. Test code: it polls the folder, which product code never does.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

from streaming.hls.feed import MP4, Blob

SEQUENCE = re.compile(r"#EXT-X-MEDIA-SEQUENCE:(\d+)")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
POLL_S = 0.1


class FfmpegFeed:
    def __init__(self, room: str, folder: Path) -> None:
        self.room = room
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
             "-f", "hls", "-hls_time", "1", "-hls_list_size", "6",
             "-hls_flags", "delete_segments+program_date_time+independent_segments",
             "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
             str(self.folder / "index.m3u8")], stdin=subprocess.DEVNULL)

    async def until_playing(self, segments: int = 3, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while self._sequence_end() < segments:
            assert time.monotonic() < deadline, "ffmpeg wrote no HLS"
            await asyncio.sleep(POLL_S)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    @property
    def ended(self) -> bool:
        return False

    def _text(self, name: str) -> str | None:
        try:
            return (self.folder / name).read_text()
        except OSError:
            return None

    def _sequence_end(self) -> int:
        text = self._text("index.m3u8") or ""
        found = SEQUENCE.search(text)
        return (int(found.group(1)) if found else 0) + text.count("#EXTINF")

    def playlist(self, name: str, *, low_latency: bool, query: str = "") -> str | None:
        text = self._text(name) if name == "index.m3u8" else None
        if text is None or not query:
            return text
        text = text.replace('URI="init.mp4"', f'URI="init.mp4?{query}"')
        return "\n".join(line if line.startswith("#") or not line else f"{line}?{query}"
                         for line in text.splitlines()) + "\n"

    def blob(self, name: str) -> Blob | None:
        if NAME.fullmatch(name) is None or name.endswith(".m3u8"):
            return None
        try:
            return Blob((self.folder / name).read_bytes(), MP4)
        except OSError:
            return None

    async def ready(self, name: str, msn: int, part: int | None,
                    timeout: float) -> bool:  # noqa: ASYNC109 -- the HlsFeed port's signature
        if msn > self._sequence_end() + 2:
            return False
        deadline = time.monotonic() + timeout
        while self._sequence_end() <= msn and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        return self._sequence_end() > msn

    async def wait_blob(self, name: str,
                        timeout: float) -> Blob | None:  # noqa: ASYNC109 -- the port's
        return self.blob(name)


