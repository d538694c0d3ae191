"""A node that records and is then killed with SIGKILL by test_recording_crash.py: a plane,
a publisher of its own (video codec argv[2], and Opus) and one recording into argv[1];
prints ``recording`` once the file has its first bytes, then runs until killed."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from config import MediaLimits
from streaming import MediaPlane, RecordingSpec
from tests.streaming.clients import publish, until


async def main(directory: Path, codec: str) -> None:
    plane = MediaPlane(MediaLimits(allow_loopback_candidates=True,
                                   allow_private_candidates=True))
    await publish(plane, "r", "alice", codec=codec)
    plane.start_recording(RecordingSpec("rec_1", "r", directory))
    await until(lambda: any(f.bytes > 0 for f in plane.recording_files("rec_1")))
    print("recording", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
