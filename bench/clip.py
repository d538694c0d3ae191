"""Pre-encoded media for the fan-out benchmark: a ~1 Mbit/s VP8 clip and an Opus tone.

Encoded once per run (outside any measurement) so the publisher never encodes while measured.
"""

from __future__ import annotations

import fractions
import math
import random

import av

VIDEO_RATE = 30
AUDIO_FRAME = 960  # 20 ms at 48 kHz


def vp8_clip(
    frames: int = 90, size: tuple[int, int] = (640, 360), bitrate: int = 1_000_000
) -> list[bytes]:
    """``frames`` VP8 frames of moving texture (about 1 Mbit/s at 30 fps), one keyframe per loop."""
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = fractions.Fraction(1, VIDEO_RATE)
    ctx.framerate = fractions.Fraction(VIDEO_RATE, 1)
    ctx.bit_rate = bitrate
    ctx.gop_size = frames
    ctx.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "noise-sensitivity": "0",
    }
    width, height = size
    noise = random.Random(1).randbytes(width * height * 2)
    packets: list[bytes] = []
    for index in range(frames):
        frame = av.VideoFrame(width, height, "yuv420p")
        stride = frame.planes[0].line_size
        luma = bytearray(frame.planes[0].buffer_size)
        for row in range(height):
            if row % 8:  # blocks of 8 equal rows: texture the encoder can still compress
                luma[row * stride : row * stride + width] = luma[
                    (row - 1) * stride : (row - 1) * stride + width
                ]
                continue
            start = (index * 97 + row * width) % (len(noise) - width)
            luma[row * stride : row * stride + width] = bytes(
                100 + b // 8 for b in noise[start : start + width]
            )
        frame.planes[0].update(bytes(luma))
        frame.pts = index
        packets.extend(bytes(p) for p in ctx.encode(frame))
    packets.extend(bytes(p) for p in ctx.encode(None))
    return packets


def opus_clip(packets: int = 50) -> list[bytes]:
    """``packets`` 20 ms Opus packets of a 440 Hz tone (about 48 kbit/s)."""
    ctx = av.CodecContext.create("libopus", "w")
    ctx.sample_rate = 48000
    ctx.layout = "stereo"
    ctx.format = "s16"
    ctx.bit_rate = 48000
    out: list[bytes] = []
    for index in range(packets):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_FRAME)
        samples = bytearray()
        for n in range(AUDIO_FRAME):
            value = int(8000 * math.sin(2 * math.pi * 440 * (index * AUDIO_FRAME + n) / 48000))
            samples += value.to_bytes(2, "little", signed=True) * 2
        frame.planes[0].update(bytes(samples))
        frame.sample_rate = 48000
        frame.pts = index * AUDIO_FRAME
        out.extend(bytes(p) for p in ctx.encode(frame))
    return out
