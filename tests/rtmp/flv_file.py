"""FLV files (FLV spec 10.1 annex E.2–E.3) read into (tag type, timestamp ms, body): what an
encoder sends over RTMP, captured from Debian's ffmpeg for the pure tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

AUDIO, VIDEO, SCRIPT = 8, 9, 18


def tags(data: bytes) -> list[tuple[int, int, bytes]]:
    assert data[:3] == b"FLV", "not an FLV file"
    pos = int.from_bytes(data[5:9], "big") + 4  # header, then PreviousTagSize0
    out = []
    while pos + 11 <= len(data):
        kind = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | data[pos + 7] << 24
        out.append((kind, ts, data[pos + 11:pos + 11 + size]))
        pos += 11 + size + 4
    return out


def make_flv(path: Path, seconds: float = 2.0, extra: tuple[str, ...] = ()) -> bytes:
    """An FLV of ffmpeg's test picture (640x360, 30 fps, H.264, GOP 30) and a 440 Hz tone (AAC)."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=640x360:rate=30:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
         "-g", "30", "-c:a", "aac", *extra, "-f", "flv", str(path)],
        check=True,
    )
    return path.read_bytes()
