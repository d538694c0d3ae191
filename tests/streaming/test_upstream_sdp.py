"""The edge's H264 labels (streaming/upstream.py): its offer adds Main and High payload types so
the origin answers a Source's own profile, and the answer aiortc applies maps such a payload
type back to aiortc's own 42e01f one. Pure SDP text, no peers."""

from __future__ import annotations

from streaming.negotiation import Description
from streaming.upstream import for_aiortc, with_h264_profiles

OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=mid:0", "a=rtpmap:111 opus/48000/2",
    "m=video 9 UDP/TLS/RTP/SAVPF 97 99 100", "a=mid:1", "a=rtpmap:97 VP8/90000",
    "a=rtpmap:99 H264/90000",
    "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    "a=rtcp-fb:99 nack", "a=rtcp-fb:99 nack pli", "a=rtpmap:100 rtx/90000", "a=fmtp:100 apt=99",
]) + "\r\n"


def test_the_edge_offers_main_and_high_with_the_same_feedback() -> None:
    video = Description.parse(with_h264_profiles(OFFER)).media[1]
    added = [c for c in video.codecs() if c.payload_type not in (97, 99, 100)]
    assert [(c.payload_type, c.h264_profile) for c in added] == [(96, "4d001f"), (98, "640c1f")]
    assert all(c.fmtp["packetization-mode"] == "1" for c in added)
    assert "a=rtcp-fb:98 nack pli" in video.lines


def test_a_high_profile_answer_is_mapped_to_aiortc_s_own_payload_type() -> None:
    answer = OFFER.replace("97 99 100", "98").replace("a=rtpmap:99 H264", "a=rtpmap:98 H264")
    answer = answer.replace("a=fmtp:99 ", "a=fmtp:98 ").replace("42e01f", "640c1f")
    answer = answer.replace("a=rtcp-fb:99", "a=rtcp-fb:98")
    video = Description.parse(for_aiortc(answer, 99)).media[1]
    assert video.lines[0].endswith("SAVPF 99")
    (codec,) = video.codecs()
    assert (codec.payload_type, codec.h264_profile) == (99, "42e01f")
    assert "a=rtcp-fb:99 nack pli" in video.lines


def test_a_baseline_or_vp8_answer_passes_unchanged() -> None:
    assert for_aiortc(OFFER, 99) == str(Description.parse(OFFER))
