"""Hand-built RTP and real encoders for the depacketizer and mixer tests.

Encoded media comes from PyAV (libvpx, libx264, libopus) and is packetized by aiortc's own
packetizers, so the depacketizers are checked against an independent sender.
"""

from __future__ import annotations

import fractions
import functools
import math
import random
import struct

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder

from streaming import rtp_header
from streaming.frames import Depacketizer, Frame
from streaming.rtp_header import RtpHeader

Packet = tuple[bytes, RtpHeader]


def rtp(payload: bytes, seq: int, ts: int, marker: bool = False, ssrc: int = 1111) -> Packet:
    """One RTP packet (RFC 3550 §5.1, no CSRC, no extension) and its parsed header."""
    head = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | 96, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc)
    data = head + payload
    return data, rtp_header.parse(data)


def frame_packets(payloads: list[bytes], seq: int, ts: int, ssrc: int = 1111) -> list[Packet]:
    """One frame's payloads as consecutive packets, the marker on the last (RFC 3550 §5.1)."""
    last = len(payloads) - 1
    return [rtp(p, seq + i, ts, i == last, ssrc) for i, p in enumerate(payloads)]


def feed(depacketizer: Depacketizer, packets: list[Packet]) -> list[Frame]:
    frames: list[Frame] = []
    for data, h in packets:
        frames += depacketizer.push(data, h)
    return frames


def _noisy_frames(count: int, size: tuple[int, int], pix_fmt: str) -> list[av.VideoFrame]:
    """Random pictures: they compress badly, so each frame spans several packets."""
    rng = random.Random(15)
    frames = []
    for index in range(count):
        frame = av.VideoFrame(size[0], size[1], pix_fmt)
        for plane in frame.planes:
            plane.update(rng.randbytes(plane.buffer_size))
        frame.pts = index
        frames.append(frame)
    return frames


@functools.cache
def encoded_video(
    codec: str, count: int = 8, size: tuple[int, int] = (192, 128),
    profile: str = "baseline", pix_fmt: str = "yuv420p", gop: int = 600, x264_params: str = "",
) -> tuple[bytes, ...]:
    """``count`` frames of random pictures (a keyframe every ``gop``), each a packet."""
    ctx = av.CodecContext.create("libvpx" if codec == "vp8" else "libx264", "w")
    ctx.width, ctx.height = size
    ctx.pix_fmt = pix_fmt
    ctx.time_base = fractions.Fraction(1, 30)
    ctx.framerate = fractions.Fraction(30, 1)
    ctx.bit_rate = 2_000_000
    ctx.gop_size = gop
    if codec == "vp8":
        ctx.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    else:
        preset = "ultrafast" if profile == "baseline" else "veryfast"
        ctx.options = {"profile": profile, "tune": "zerolatency", "preset": preset}
        if x264_params:
            ctx.options = {**ctx.options, "x264-params": x264_params}
    pictures = _noisy_frames(count, size, pix_fmt)
    kinds = av.video.frame.PictureType
    for index, picture in enumerate(pictures):
        picture.pict_type = kinds.I if index % gop == 0 else kinds.NONE
    out = [bytes(p) for f in pictures for p in ctx.encode(f)]
    out += [bytes(p) for p in ctx.encode(None)]
    return tuple(out)


def vp8_rtp(frames: tuple[bytes, ...], seq: int, ts: int, ssrc: int = 1111) -> list[Packet]:
    """aiortc's VP8 packetizer (RFC 7741, 15-bit PictureID) over ``frames``, 3000 ticks apart."""
    packets: list[Packet] = []
    for index, frame in enumerate(frames):
        payloads = Vp8Encoder._packetize(frame, index % 32768)
        packets += frame_packets(payloads, seq + len(packets), ts + 3000 * index, ssrc)
    return packets


def h264_rtp(access_units: tuple[bytes, ...], seq: int, ts: int) -> list[Packet]:
    """aiortc's H264 packetizer (STAP-A for small units, FU-A for large) over Annex B units."""
    packets: list[Packet] = []
    for index, unit in enumerate(access_units):
        payloads = H264Encoder._packetize(H264Encoder._split_bitstream(unit))
        packets += frame_packets(payloads, seq + len(packets), ts + 3000 * index)
    return packets


def annex_b_units(unit: bytes) -> list[bytes]:
    return list(H264Encoder._split_bitstream(unit))


def tone(hz: float, samples: int, peak: float = 0.3, start: int = 0) -> bytes:
    """Mono s16 samples of a sine at ``hz`` (48 kHz), from sample ``start``."""
    values = (round(peak * 32767 * math.sin(2 * math.pi * hz * (start + n) / 48000))
              for n in range(samples))
    return struct.pack(f"<{samples}h", *values)


def opus_packets(hz: float, count: int) -> list[bytes]:
    """``count`` 20 ms Opus packets of a tone, encoded by libopus (48 kHz mono)."""
    ctx = av.CodecContext.create("libopus", "w")
    ctx.sample_rate = 48000
    ctx.layout = "mono"
    ctx.format = "s16"
    ctx.bit_rate = 64000
    ctx.time_base = fractions.Fraction(1, 48000)
    out: list[bytes] = []
    for index in range(count):
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(tone(hz, 960, start=960 * index))
        frame.sample_rate = 48000
        frame.pts = 960 * index
        out += [bytes(p) for p in ctx.encode(frame)]
    out += [bytes(p) for p in ctx.encode(None)]
    return out
