"""Coded video for the HLS transcoder tests: flat pictures with a moving bar, encoded with the
real libvpx / libx264 encoders into :class:`~streaming.frames.Frame` objects (90 kHz times)."""

from __future__ import annotations

from fractions import Fraction

import av
from av.video.frame import VideoFrame

from streaming.frames import Frame

TICKS = 3000  # 90 kHz ticks per frame at 30 fps


def picture(width: int, height: int, luma: int, index: int) -> VideoFrame:
    """A flat picture of ``luma`` with a moving bright bar (so inter frames carry motion)."""
    frame = VideoFrame(width, height, "yuv420p")
    stride = frame.planes[0].line_size
    rows = bytearray([luma]) * (stride * height)
    bar = (index * 8) % max(1, width - 16)
    for row in range(0, height, 2):
        rows[row * stride + bar: row * stride + bar + 16] = b"\xf0" * 16
    frame.planes[0].update(bytes(rows))
    for plane in frame.planes[1:]:
        plane.update(bytes([128]) * plane.buffer_size)
    frame.pts = index
    return frame


def encode(codec: str, size: tuple[int, int], count: int, gop: int, luma: int = 90,
           first: int = 0) -> list[Frame]:
    """``count`` frames of ``codec`` ("vp8" or "h264") with a keyframe every ``gop``."""
    context = av.CodecContext.create("libvpx" if codec == "vp8" else "libx264", "w")
    assert isinstance(context, av.video.codeccontext.VideoCodecContext)
    context.width, context.height = size
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, 30)
    context.gop_size = gop
    context.bit_rate = 800_000
    context.options = ({"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
                       if codec == "vp8" else
                       {"preset": "ultrafast", "tune": "zerolatency",
                        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"})
    frames: list[Frame] = []
    for index in range(count):
        for packet in context.encode(picture(*size, luma, index)):
            pts = packet.pts or 0
            frames.append(Frame(bytes(packet), (first + pts) * TICKS, packet.is_keyframe))
    return frames
