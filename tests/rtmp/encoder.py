"""Debian's ffmpeg as the venue's RTMP encoder (issue 16 §8), and a viewer that keeps the size
of every picture it decodes."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tests.streaming.clients import Viewer

ZERO_LATENCY = ("-tune", "zerolatency")  # what the docs recommend: no B-frames
B_FRAMES = ("-bf", "2")  # an encoder left at its defaults: pts after dts
RATE = ("-b:v", "800k", "-maxrate", "800k", "-bufsize", "800k")  # CBR, as docs/hls.md asks


async def ffmpeg_publish(url: str, seconds: float = 30.0,
                         tuning: tuple[str, ...] = ZERO_LATENCY) -> asyncio.subprocess.Process:
    """The brief's encoder: test picture 640x360 at 30 fps (x264, GOP 30) and a 440 Hz tone
    (AAC) in real time (``-re``) to ``url``."""
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", *tuning, "-g", "30", *RATE,
        "-c:a", "aac", "-f", "flv", url,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.terminate()
    return await asyncio.wait_for(process.wait(), 15)


class SizingViewer(Viewer):
    """A viewer that also notes each decoded video frame's size."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: set[tuple[int, int]] = set()

    async def _play(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame: Any = await track.recv()
                self.frames[track.kind] += 1
                if track.kind == "video":
                    self.sizes.add((frame.width, frame.height))
        except MediaStreamError:
            self.ended[track.kind].set()
