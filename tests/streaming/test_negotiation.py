"""Codec choice on real captured offers (Chromium, GStreamer/OBS-like) and on refusals."""

from __future__ import annotations

import pytest

from streaming.negotiation import (
    CodecMismatch,
    Description,
    NegotiationError,
    NoUsableCodec,
    narrow,
    plan_publish,
    plan_view,
    restore,
)
from tests.data import SDP_DIR

SDP = SDP_DIR


def offer(name: str) -> Description:
    return Description.parse((SDP / name).read_text())


def test_chromium_publish_offer_forwards_opus_and_vp8() -> None:
    plan = plan_publish(offer("chromium-156-publish-offer.sdp"))
    assert [(c.mime, c.payload_type) for c in plan.codecs.values()] == [
        ("audio/opus", 111),
        ("video/VP8", 96),
    ]
    assert plan.relabelled == {}


def test_gstreamer_whip_offer_forwards_h264_and_opus() -> None:
    plan = plan_publish(offer("gstreamer-1.22-webrtcbin-whip-h264-offer.sdp"))
    assert [c.mime for c in plan.codecs.values()] == ["audio/OPUS", "video/H264"]
    assert plan.codecs[1].h264_profile == "42e01f"


def test_narrow_keeps_one_payload_type_per_mline() -> None:
    description = offer("chromium-156-publish-offer.sdp")
    plan = plan_publish(description)
    narrowed = Description.parse(narrow(description, plan))
    assert [s.payload_types() for s in narrowed.media] == [[111], [96]]
    assert not any(line.startswith("a=ssrc-group:") for s in narrowed.media for line in s.lines)


OBS_LIKE = """v=0\r
o=- 1 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
a=mid:0\r
a=sendonly\r
a=rtpmap:111 opus/48000/2\r
m=video 9 UDP/TLS/RTP/SAVPF 102\r
a=mid:1\r
a=sendonly\r
a=rtpmap:102 H264/90000\r
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r
a=rtcp-fb:102 nack pli\r
"""


def test_high_profile_is_aliased_for_aiortc_and_restored_in_the_answer() -> None:
    description = Description.parse(OBS_LIKE)
    plan = plan_publish(description)
    assert plan.relabelled == {1: "640c1f"}
    narrowed = narrow(description, plan)
    assert "profile-level-id=42e01f" in narrowed and "640c1f" not in narrowed
    answer = narrowed.replace("a=sendonly", "a=recvonly")
    assert "profile-level-id=640c1f" in restore(answer, plan)


def test_offer_with_only_unforwardable_codecs_is_refused() -> None:
    text = OBS_LIKE.replace("H264/90000", "VP9/90000")
    with pytest.raises(NoUsableCodec, match=r"^no usable video codec \(offered: VP9\)$"):
        plan_publish(Description.parse(text))


def test_h264_without_packetization_mode_1_is_not_forwardable() -> None:
    text = OBS_LIKE.replace("packetization-mode=1", "packetization-mode=0")
    with pytest.raises(NoUsableCodec):
        plan_publish(Description.parse(text))


def test_whep_viewer_gets_the_publishers_codec() -> None:
    source = plan_publish(offer("gstreamer-1.22-webrtcbin-whip-h264-offer.sdp")).codecs
    viewer = offer("chromium-156-whep-recvonly-offer.sdp")
    plan = plan_view(viewer, {"audio": source[0], "video": source[1]})
    video = plan.codecs[1]
    assert video.name == "h264" and video.fmtp["packetization-mode"] == "1"
    assert video.h264_profile[:2] == "42"


def test_viewer_that_cannot_decode_the_codec_gets_a_clear_error() -> None:
    source = plan_publish(Description.parse(OBS_LIKE)).codecs[1]
    vp8_only = OBS_LIKE.replace("H264/90000", "VP8/90000").replace("a=sendonly", "a=recvonly")
    with pytest.raises(
        CodecMismatch, match=r"^this player cannot receive H264 video \(it offered: VP8\)$"
    ):
        plan_view(Description.parse(vp8_only), {"video": source})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "SDP must start with a v= line"),
        ("hello", "SDP must start with a v= line"),
        ("v=0\r\nnonsense\r\n", "malformed SDP line: 'nonsense'"),
        ("v=0\r\nm=video\r\n", "malformed m-line: 'm=video'"),
        (
            "v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:x VP8/90000\r\n",
            "expected a number in SDP, got 'x'",
        ),
    ],
)
def test_malformed_sdp_is_a_negotiation_error(text: str, message: str) -> None:
    with pytest.raises(NegotiationError) as info:
        plan_publish(Description.parse(text))
    assert str(info.value) == message
