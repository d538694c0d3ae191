"""What transcoding a VP8 publisher to H264 for HLS costs (issue 16 §2, §7): Pavilion's
:class:`streaming.hls.transcode.VideoTranscoder` against the ffmpeg CLI doing the same work, in
one run, on one core.

    .venv/bin/python -m bench.hls_transcode [--seconds 10] [--runs 2]

The input is a pre-encoded VP8 clip (bench/clip.py's moving texture, ~2.5 Mbit/s at 720p,
~1 Mbit/s at 360p, 30 fps, one keyframe per 3 s loop), encoded before any timing. Each row
decodes it (FFmpeg's native vp8 decoder, both sides), scales it (bilinear) and encodes it with
libx264 (tune zerolatency, CRF 23 under the rung's VBV cap, 2 s GOP, one thread) to each rung
of the ladder. The Pavilion row feeds the transcoder frame by frame as the packager's thread
does; the baseline row runs ``ffmpeg -threads 1 ... -f null -`` on the same frames in a WebM
file. Both are pinned to one CPU (``sched_setaffinity``); each figure is the best of ``--runs``
of CPU time (process or child, user + system), as a real-time factor: seconds of media per
CPU-second (> 1: keeps up on one core).
"""

from __future__ import annotations

import argparse
import fractions
import os
import resource
import subprocess
import tempfile
from pathlib import Path

import av

from bench.clip import VIDEO_RATE, vp8_clip
from streaming.frames import Frame
from streaming.hls.rung import max_kbps, rung_size
from streaming.hls.transcode import VideoTranscoder

TICKS = 90000 // VIDEO_RATE
CASES: list[tuple[tuple[int, int], list[int]]] = [
    ((1280, 720), [720]),
    ((640, 360), [360]),
    ((1280, 720), [720, 360]),
]
PRESETS = ["ultrafast", "veryfast"]


def cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def clip(size: tuple[int, int], seconds: int) -> list[Frame]:
    """``seconds`` of VP8 at ``size``: a 3 s clip looped (each loop starts with its keyframe)."""
    bitrate = 2_500_000 if size[1] >= 720 else 1_000_000
    loop = vp8_clip(frames=3 * VIDEO_RATE, size=size, bitrate=bitrate)
    return [Frame(loop[i % len(loop)], i * TICKS, i % len(loop) == 0)
            for i in range(seconds * VIDEO_RATE)]


def webm(frames: list[Frame], size: tuple[int, int], path: Path) -> None:
    """The same frames in a WebM file for the ffmpeg CLI (no re-encoding)."""
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("vp8", rate=VIDEO_RATE)
        stream.width, stream.height = size
        stream.time_base = fractions.Fraction(1, 1000)
        for frame in frames:
            packet = av.Packet(frame.data)
            packet.pts = packet.dts = frame.ts // 90
            packet.time_base = stream.time_base
            packet.is_keyframe = frame.keyframe
            packet.stream = stream
            out.mux(packet)


def pavilion(frames: list[Frame], ladder: list[int], preset: str) -> tuple[float, int]:
    """CPU seconds, and the top rung's output bytes."""
    transcoder = VideoTranscoder(ladder, preset, 2.0)
    size = 0
    start = cpu()
    for frame in frames:
        size += sum(len(unit.data) for unit in transcoder.push("p", "vp8", frame, frame.ts / 90)[0])
    size += sum(len(unit.data) for unit in transcoder.close()[0])
    return cpu() - start, size


def ffmpeg_args(size: tuple[int, int], ladder: list[int], preset: str, path: Path) -> list[str]:
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-filter_threads", "1",
            "-threads", "1", "-c:v", "vp8",
            "-i", str(path)]
    for height in ladder:
        rung = rung_size(height, *size)
        cap = max_kbps(rung.height)
        args += ["-map", "0:v", "-sws_flags", "bilinear", "-s", f"{rung.width}x{rung.height}",
                 "-c:v", "libx264", "-threads", "1", "-preset", preset, "-tune", "zerolatency",
                 "-crf", "23", "-force_key_frames", "expr:gte(t,n_forced*2)",
                 "-x264-params", f"scenecut=0:bframes=0:repeat-headers=1:vbv-maxrate={cap}:"
                                 f"vbv-bufsize={cap}", "-f", "null", "-"]
    return args


def ffmpeg(size: tuple[int, int], ladder: list[int], preset: str, path: Path) -> float:
    start = cpu(resource.RUSAGE_CHILDREN)
    subprocess.run(ffmpeg_args(size, ladder, preset, path), check=True)  # inherits the one CPU
    return cpu(resource.RUSAGE_CHILDREN) - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    media = {size: clip(size, args.seconds) for size in {size for size, _ in CASES}}
    print(f"{args.seconds} s of VP8 30 fps, x264 one thread, 2 s GOP, best of {args.runs}, "
          "one CPU; real-time factor = media-s per CPU-s")
    print("| input | ladder | preset | top rung Mbit/s | Pavilion RTF | ffmpeg CLI RTF "
          "| Pavilion / ffmpeg |")
    print("|---|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size, frames in media.items():
            webm(frames, size, Path(tmp, f"{size[1]}.webm"))
        for size, ladder in CASES:
            for preset in PRESETS:
                path = Path(tmp, f"{size[1]}.webm")
                ours, out = min(pavilion(media[size], ladder, preset) for _ in range(args.runs))
                theirs = min(ffmpeg(size, ladder, preset, path) for _ in range(args.runs))
                rung = "+".join(f"{h}p" for h in ladder)
                mbit = out * 8 / args.seconds / 1e6
                print(f"| {size[0]}x{size[1]} | {rung} | {preset} | {mbit:.2f} "
                      f"| {args.seconds / ours:.2f} | "
                      f"{args.seconds / theirs:.2f} | {theirs / ours:.2f} |")


if __name__ == "__main__":
    main()
