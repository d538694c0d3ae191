"""Depacketizers: whole coded frames out of a Source's RTP, for recordings (issue 15 §1).

``for_codec("vp8" | "h264" | "opus")`` gives a fresh :class:`streaming.frames.Depacketizer`.
They are pure (no I/O, no clock): a recorder may run them wherever its frames are wanted.
"""

from __future__ import annotations

from collections.abc import Callable

from streaming.depacketize.h264 import H264Depacketizer
from streaming.depacketize.opus import OpusDepacketizer
from streaming.depacketize.parameter_sets import Sps, avcc, parse_sps
from streaming.depacketize.vp8 import Vp8Depacketizer
from streaming.frames import Depacketizer

__all__ = [
    "H264Depacketizer",
    "OpusDepacketizer",
    "Sps",
    "Vp8Depacketizer",
    "avcc",
    "for_codec",
    "parse_sps",
]

FACTORIES: dict[str, Callable[[], Depacketizer]] = {
    "vp8": Vp8Depacketizer,
    "h264": H264Depacketizer,
    "opus": OpusDepacketizer,
}


def for_codec(name: str) -> Depacketizer:
    """A new depacketizer for codec ``name``: ``vp8``, ``h264`` or ``opus``, in any case, or
    as a MIME type (``video/VP8``, as aiortc's ``RTCRtpCodecParameters.mimeType`` says)."""
    factory = FACTORIES.get(name.lower().rpartition("/")[2])
    if factory is None:
        raise ValueError(f"no depacketizer for codec {name!r}")
    return factory()
