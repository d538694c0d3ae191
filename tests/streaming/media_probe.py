"""What ffprobe and ffmpeg say about a recorded file (real tools, not our own parser)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's format and streams of ``path`` as JSON."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def codecs(path: Path) -> list[str]:
    return [s["codec_name"] for s in probe(path)["streams"]]


def duration(path: Path) -> float:
    return float(probe(path)["format"]["duration"])


def decode_errors(path: Path, until_s: float | None = None) -> str:
    """What ``ffmpeg -v error -i path -f null -`` prints: empty for a file that decodes.

    ``-enc_time_base:v -1`` keeps a video stream's own time base on the way out: by default
    the CLI re-times video to 1/(average frame rate), so two frames a nudge apart (the muxer's
    17 ms step after a timestamp that did not advance) land on one tick and the null muxer
    reports "non monotonically increasing dts", a complaint about the CLI's output, not the
    file. Audio keeps the CLI's default, 1/sample rate: a WebM's 1/1000 would make the same
    collision of two short decoded frames."""
    limit = ["-t", str(until_s)] if until_s is not None else []
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *limit, "-enc_time_base:v", "-1",
         "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )
    return (out.stderr + ("" if out.returncode == 0 else f"exit {out.returncode}")).strip()


def packet_times(path: Path, stream: str) -> list[float]:
    """The presentation times of ``stream``'s packets (``v`` or ``a``), in seconds."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
         "packet=pts_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return [float(line) for line in out.stdout.split() if line.strip()]


def decoded_seconds(path: Path) -> float:
    """How far ffmpeg decodes ``path`` (the last video frame's time), without errors or not."""
    times = packet_times(path, "v")
    return max(times) if times else 0.0


def frame_sizes(path: Path) -> set[tuple[int, int]]:
    """The sizes of the video frames in ``path``, decoded with PyAV (the test may decode)."""
    import av

    with av.open(str(path)) as container:
        return {(f.width, f.height) for f in container.decode(video=0)}


def video_frames(path: Path) -> list[tuple[float, int, int, bool]]:
    """Each decoded video frame's (time, width, height, keyframe), in order."""
    import av

    with av.open(str(path)) as container:
        return [(float(f.time or 0.0), f.width, f.height, f.key_frame)
                for f in container.decode(video=0)]
