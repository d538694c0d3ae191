"""What the recording's CPU work costs (issue 15 §1): depacketizing per packet, mixing per frame.

    .venv/bin/python -m bench.depacketize [--packets 20000] [--runs 3]

Real media (libvpx and libx264 at 640x360 ~1 Mbit/s, libopus 20 ms), packetized by aiortc's own
packetizers, is looped with continuing sequence numbers and timestamps. Depacketizer rows are
the best of ``--runs`` loops, in µs per packet: ``push`` alone (the header parsed beforehand)
and ``parse + push`` (what a tap pays from the packet bytes). The mix rows are the cost of one
20 ms output frame (every track's decode, the mix, the encode) and what that is of one core.
Times are this process's CPU time (the machine is shared: wall time would count the others).
"""

from __future__ import annotations

import argparse
import fractions
import random
import struct
import time

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder

from bench.clip import opus_clip, vp8_clip
from streaming import rtp_header
from streaming.audio_mix import AudioMix
from streaming.depacketize import for_codec
from streaming.rtp_header import RtpHeader


def h264_clip(frames: int = 90, size: tuple[int, int] = (640, 360)) -> list[bytes]:
    """``frames`` H264 access units (Annex B) of moving noise, about 1 Mbit/s, one IDR."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.bit_rate = 1_000_000
    ctx.gop_size = frames
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline"}
    noise = random.Random(1).randbytes(size[0] * size[1] * 2)
    out: list[bytes] = []
    for index in range(frames):
        frame = av.VideoFrame(size[0], size[1], "yuv420p")
        luma = frame.planes[0]
        start = index * 997 % (len(noise) - luma.buffer_size)
        luma.update(noise[start : start + luma.buffer_size])
        frame.pts = index
        out += [bytes(p) for p in ctx.encode(frame)]
    return out + [bytes(p) for p in ctx.encode(None)]


def payloads(codec: str) -> list[tuple[list[bytes], int]]:
    """Per frame: its RTP payloads (aiortc's packetizers) and its RTP timestamp step."""
    if codec == "vp8":
        return [(Vp8Encoder._packetize(f, i % 32768), 3000) for i, f in enumerate(vp8_clip())]
    if codec == "h264":
        split = H264Encoder._split_bitstream
        return [(H264Encoder._packetize(split(f)), 3000) for f in h264_clip()]
    return [([p], 960) for p in opus_clip(250)]


def rtp_stream(codec: str, count: int) -> list[tuple[bytes, RtpHeader]]:
    """``count`` packets of the clip looped, numbers continuing (and wrapping) as a sender's."""
    frames = payloads(codec)
    out: list[tuple[bytes, RtpHeader]] = []
    seq, ts = 60000, 2**32 - 90000
    while len(out) < count:
        for parts, step in frames:
            for index, part in enumerate(parts):
                marker = 0x80 if index == len(parts) - 1 else 0
                head = struct.pack("!BBHII", 0x80, marker | 96, seq & 0xFFFF, ts % 2**32, 7)
                data = head + part
                out.append((data, rtp_header.parse(data)))
                seq += 1
            ts += step
    return out[:count]


def depacketize_row(codec: str, count: int, runs: int) -> str:
    packets = rtp_stream(codec, count)
    push_best = parse_best = float("inf")
    frames = 0
    for _ in range(runs):
        d = for_codec(codec)
        start = time.process_time_ns()
        frames = sum(len(d.push(data, h)) for data, h in packets)
        push_best = min(push_best, (time.process_time_ns() - start) / count / 1000)
        d = for_codec(codec)
        start = time.process_time_ns()
        for data, _ in packets:
            d.push(data, rtp_header.parse(data))
        parse_best = min(parse_best, (time.process_time_ns() - start) / count / 1000)
    return f"| {codec} | {count} | {frames} | {push_best:.2f} | {parse_best:.2f} |"


def mix_row(tracks: int, seconds: float) -> str:
    packets = opus_clip(round(seconds * 50))
    audio = AudioMix()
    start = time.process_time_ns()
    frames = 0
    for index, packet in enumerate(packets):
        for track in range(tracks):
            frames += len(audio.push(f"t{track}", packet, index * 0.02))
    frames += len(audio.close())
    per_frame = (time.process_time_ns() - start) / max(frames, 1) / 1000
    return f"| {tracks} | {frames} | {per_frame:.0f} | {per_frame / 20_000:.1%} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| codec | packets | frames | push µs/packet | parse + push µs/packet |")
    print("|---|---:|---:|---:|---:|")
    for codec in ("vp8", "h264", "opus"):
        print(depacketize_row(codec, args.packets, args.runs), flush=True)
    print()
    print("| mixed tracks | output frames | µs per 20 ms frame | of one core |")
    print("|---:|---:|---:|---:|")
    for tracks in (1, 2, 4, 8):
        print(mix_row(tracks, 5.0), flush=True)


if __name__ == "__main__":
    main()
