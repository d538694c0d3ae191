"""The H264 SPS reader against libx264's own streams (sizes that need cropping, all profiles)."""

from __future__ import annotations

import pytest

from streaming.codec_header import H264_SPS, nal_units
from streaming.h264_sps import picture_size
from tests.streaming.clients import clip


@pytest.mark.parametrize("profile", ["baseline", "main", "high"])
@pytest.mark.parametrize("size", [(160, 120), (640, 360), (1280, 720), (854, 480)])
def test_picture_size_reads_what_x264_wrote(profile: str, size: tuple[int, int]) -> None:
    first = clip("h264", frames=1, gop=30, size=size, h264_profile=profile)[0]
    sps = next(u for u in nal_units(first) if u[0] & 0x1F == H264_SPS)
    assert picture_size(sps) == size


def test_a_truncated_sps_is_a_clear_error() -> None:
    first = clip("h264", frames=1, gop=30, size=(160, 120))[0]
    sps = next(u for u in nal_units(first) if u[0] & 0x1F == H264_SPS)
    with pytest.raises(ValueError, match="H264 SPS is truncated"):
        picture_size(sps[:5])
