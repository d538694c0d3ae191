"""Depacketizers (issue 15 §1): VP8 (RFC 7741), H264 (RFC 6184), Opus (RFC 7587).

Table tests of hand-built packets for each rule, then round trips: real encoders (PyAV), aiortc's
own packetizers, our depacketizers, and the encoded bytes (or a real decoder) at the end.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from streaming import rtp_header
from streaming.depacketize import (
    H264Depacketizer,
    OpusDepacketizer,
    Vp8Depacketizer,
    avcc,
    for_codec,
    parse_sps,
)
from streaming.depacketize.assembler import FrameAssembler, Piece
from streaming.depacketize.unwrap import Unwrapper
from streaming.frames import Frame
from tests.streaming.depacketize_media import (
    Packet,
    annex_b_units,
    encoded_video,
    feed,
    frame_packets,
    h264_rtp,
    opus_packets,
    rtp,
    vp8_rtp,
)

# -- VP8 ------------------------------------------------------------------------------------

KEY = b"\x50\x01\x00\x9d\x01\x2a" + (64).to_bytes(2, "little") + (48).to_bytes(2, "little")
KEY += bytes(range(30))  # P bit 0: a key frame, 64x48 (RFC 6386 §9.1)
DELTA = b"\x51\x00\x00" + bytes(range(20))  # P bit 1


def vp8_frame(body: bytes, seq: int, ts: int, parts: int = 1, ssrc: int = 1111) -> list[Packet]:
    """``body`` cut into ``parts`` packets, each with a 15-bit PictureID descriptor."""
    cut = -(-len(body) // parts)
    chunks = [body[i : i + cut] for i in range(0, len(body), cut)]
    payloads = [bytes([0x90 if i == 0 else 0x80, 0x80, 0x80, 7]) + c for i, c in enumerate(chunks)]
    return frame_packets(payloads, seq, ts, ssrc)


def test_vp8_keyframe_then_deltas() -> None:
    d = Vp8Depacketizer()
    assert d.want_keyframe, "a stream starts by waiting for a keyframe"
    frames = feed(d, vp8_frame(KEY, 10, 1000, parts=3) + vp8_frame(DELTA, 13, 4000, parts=2))
    assert [(f.data, f.ts, f.keyframe, f.width, f.height, f.after_gap) for f in frames] == [
        (KEY, 1000, True, 64, 48, False),
        (DELTA, 4000, False, 0, 0, False),
    ]
    assert not d.want_keyframe and d.clock_rate == 90000


def test_vp8_deltas_before_the_first_keyframe_are_dropped() -> None:
    d = Vp8Depacketizer()
    assert feed(d, vp8_frame(DELTA, 1, 0) + vp8_frame(DELTA, 2, 3000)) == []
    assert d.want_keyframe
    frames = feed(d, vp8_frame(KEY, 3, 6000, parts=2))
    assert [(f.keyframe, f.after_gap) for f in frames] == [(True, False)]


def test_vp8_partitions_are_joined() -> None:
    """S=1 with partition index 1 continues the frame; only S=1 PID=0 starts one (§4.2)."""
    d = Vp8Depacketizer()
    payloads = [b"\x90\x80\x80\x07" + KEY[:12], b"\x80\x80\x80\x07" + KEY[12:20],
                b"\x91\x80\x80\x07" + KEY[20:]]
    frames = feed(d, frame_packets(payloads, 60000, 5))
    assert [f.data for f in frames] == [KEY]


def test_vp8_descriptor_forms() -> None:
    """Minimal, 7-bit PictureID, TL0PICIDX and TID/KEYIDX descriptors are all stripped."""
    d = Vp8Depacketizer()
    descriptors = [b"\x10", b"\x90\x80\x05", b"\x90\xe0\x85\x02\x07\x40", b"\x90\x70\x07\x40"]
    frames: list[Frame] = []
    for i, descriptor in enumerate(descriptors):
        frames += feed(d, frame_packets([descriptor + KEY], 100 + i, 3000 * i))
    assert [f.data for f in frames] == [KEY] * 4


@pytest.mark.parametrize("lost", [1, 3, 4, 5], ids=["inside the keyframe", "a delta's first",
                                                     "a delta's last", "a whole frame"])
def test_vp8_loss_waits_for_the_next_keyframe(lost: int) -> None:
    d = Vp8Depacketizer()
    packets = vp8_frame(KEY, 0, 0, parts=3) + vp8_frame(DELTA, 3, 3000, parts=2)
    packets += vp8_frame(DELTA, 5, 6000) + vp8_frame(DELTA, 6, 9000)  # after the loss: dropped
    packets += [p for i in range(7, 11) for p in vp8_frame(DELTA, i, 3000 * i - 9000)]
    lost_ts = packets.pop(lost)[1].timestamp
    frames = feed(d, packets)
    assert [f.ts for f in frames] == [0, 3000][: lost_ts // 3000], "nothing from the loss on"
    assert d.want_keyframe
    frames = feed(d, vp8_frame(KEY, 11, 24000, parts=2) + vp8_frame(DELTA, 13, 27000))
    assert [(f.ts, f.keyframe, f.after_gap) for f in frames] == [
        (24000, True, True), (27000, False, False)]
    assert not d.want_keyframe


def test_vp8_a_packet_one_or_two_late_still_fills_its_hole() -> None:
    d = Vp8Depacketizer()
    packets = vp8_frame(KEY, 0, 0, parts=4) + vp8_frame(DELTA, 4, 3000, parts=2)
    order = [0, 2, 1, 3, 5, 4]  # one late inside the key frame, then inside the delta
    late = [packets[i] for i in order]
    late += [*vp8_frame(DELTA, 6, 6000), *vp8_frame(DELTA, 7, 9000)]
    late[7], late[6] = late[6], late[7]  # a whole frame one late
    frames = feed(d, late)
    assert [(f.ts, f.data) for f in frames] == [(0, KEY), (3000, DELTA), (6000, DELTA),
                                                  (9000, DELTA)]
    assert not d.want_keyframe and not any(f.after_gap for f in frames)


def padding(seq: int, ts: int) -> Packet:
    """A packet of padding only (RFC 3550 §5.1 P bit, the last byte counts it): a BWE probe."""
    data, _ = rtp(bytes(4) + b"\x05", seq, ts)
    data = bytes([data[0] | 0x20]) + data[1:]
    return data, rtp_header.parse(data)


def test_padding_between_frames_is_no_loss() -> None:
    vp8, h264 = Vp8Depacketizer(), H264Depacketizer()
    packets = [*vp8_frame(KEY, 0, 0, parts=2), padding(2, 0), padding(3, 0),
               *vp8_frame(DELTA, 4, 3000)]
    assert [f.ts for f in feed(vp8, packets)] == [0, 3000] and not vp8.want_keyframe
    packets = [*frame_packets([SPS, PPS, IDR], 0, 0), padding(3, 0),
               *frame_packets([P_SLICE], 4, 3000)]
    assert [f.ts for f in feed(h264, packets)] == [0, 3000] and not h264.want_keyframe


def test_vp8_duplicates_are_ignored() -> None:
    d = Vp8Depacketizer()
    packets = vp8_frame(KEY, 0, 0, parts=2)
    frames = feed(d, [packets[0], packets[0], packets[1], packets[1], packets[0]])
    assert [f.data for f in frames] == [KEY]


def test_vp8_sequence_and_timestamp_wrap() -> None:
    d = Vp8Depacketizer()
    top = 2**32 - 3000
    packets = vp8_frame(KEY, 65534, top, parts=3)  # sequence 65534, 65535, 0
    packets += vp8_frame(DELTA, 1, top + 3000) + vp8_frame(DELTA, 2, top + 6000)
    assert [f.ts for f in feed(d, packets)] == [top, 2**32, 2**32 + 3000]


def test_vp8_new_ssrc_starts_afresh() -> None:
    d = Vp8Depacketizer()
    assert len(feed(d, vp8_frame(KEY, 500, 90000) + vp8_frame(DELTA, 501, 93000))) == 2
    assert feed(d, vp8_frame(DELTA, 7, 5, ssrc=2222)) == []
    assert d.want_keyframe, "a new encoder: wait for its keyframe"
    frames = feed(d, vp8_frame(KEY, 8, 3005, ssrc=2222))
    assert [(f.ts, f.after_gap) for f in frames] == [(3005, True)]


def test_vp8_numbering_anew_on_the_same_ssrc_restarts() -> None:
    """A sequence number far behind is no retransmission: the sender restarted (RFC 3550 §A.1)."""
    d = Vp8Depacketizer()
    assert len(feed(d, vp8_frame(KEY, 30000, 0) + vp8_frame(DELTA, 30001, 3000))) == 2
    assert feed(d, vp8_frame(DELTA, 29990, 6000)) == [], "a late packet is only dropped"
    assert not d.want_keyframe
    frames = feed(d, vp8_frame(KEY, 10, 9000) + vp8_frame(DELTA, 11, 12000))
    assert [(f.ts, f.keyframe, f.after_gap) for f in frames] == [
        (9000, True, True), (12000, False, False)]


def test_assembler_drops_a_frame_over_its_byte_bound() -> None:
    frames = FrameAssembler(lambda run: Frame(b"".join(p.payload for p in run), run[0].ts, True),
                            max_bytes=1000)
    big = [Piece(0, i == 2, i == 0, i == 0, bytes(400)) for i in range(3)]
    assert [frames.add(i, piece) for i, piece in enumerate(big)] == [[], [], []]
    assert frames.waiting
    small = [Piece(3000, i == 1, i == 0, i == 0, bytes(400)) for i in range(2)]
    out = [f for i, piece in enumerate(small) for f in frames.add(3 + i, piece)]
    assert [(len(f.data), f.after_gap) for f in out] == [(800, True)]


def test_vp8_frame_without_a_marker_ends_at_the_next_timestamp() -> None:
    d = Vp8Depacketizer()
    first = rtp(b"\x90\x80\x80\x07" + KEY, 1, 0, marker=False)
    frames = feed(d, [first, *vp8_frame(DELTA, 2, 3000)])
    assert [f.ts for f in frames] == [0, 3000]


def test_vp8_malformed_and_oversized_frames_are_losses() -> None:
    d = Vp8Depacketizer()
    truncated = rtp(b"\x90\x80", 1, 3000, marker=True)  # the PictureID is missing
    assert len(feed(d, [*vp8_frame(KEY, 0, 0), truncated, *vp8_frame(DELTA, 2, 6000)])) == 1
    assert feed(d, [p for i in range(3, 7) for p in vp8_frame(DELTA, i, 3000 * i)]) == []
    assert d.want_keyframe
    giant = vp8_frame(KEY + bytes(2100), 10, 18000, parts=3000)  # 2140 packets of 1 byte
    assert feed(d, giant) == [] and d.want_keyframe
    bad_key = b"\x50\x01\x00" + bytes(20)  # a key frame without its start code
    assert feed(d, vp8_frame(bad_key, 3000, 21000)) == [] and d.want_keyframe
    assert [f.after_gap for f in feed(d, vp8_frame(KEY, 3001, 24000))] == [True]


# -- H264 -----------------------------------------------------------------------------------

SPS, PPS = annex_b_units(encoded_video("h264")[0])[:2]
IDR = b"\x65\x88\x84" + bytes(range(40))  # first_mb_in_slice = 0
IDR_2 = b"\x65\x40\x84" + bytes(range(30))  # a second slice (first_mb_in_slice != 0)
P_SLICE = b"\x41\x9a\x02" + bytes(range(25))
SEI = b"\x06\x05\x01\x00\x80"


def stap_a(*units: bytes) -> bytes:
    return b"\x78" + b"".join(len(u).to_bytes(2, "big") + u for u in units)


def fu_a(unit: bytes, parts: int) -> list[bytes]:
    body, cut = unit[1:], -(-(len(unit) - 1) // parts)
    chunks = [body[i : i + cut] for i in range(0, len(body), cut)]
    indicator = unit[0] & 0xE0 | 28
    last = len(chunks) - 1
    return [bytes([indicator, (0x80 if i == 0 else 0) | (0x40 if i == last else 0)
                   | unit[0] & 0x1F]) + c for i, c in enumerate(chunks)]


def annex_b(*units: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)


def test_h264_single_nal_units() -> None:
    d = H264Depacketizer()
    frames = feed(d, frame_packets([SPS, PPS, IDR], 1, 0) + frame_packets([P_SLICE], 4, 3000))
    assert [(f.data, f.keyframe, f.width, f.height) for f in frames] == [
        (annex_b(SPS, PPS, IDR), True, 192, 128), (annex_b(P_SLICE), False, 0, 0)]
    assert (d.sps, d.pps) == (SPS, PPS)


def test_h264_stap_a_and_fu_a() -> None:
    d = H264Depacketizer()
    payloads = [stap_a(SPS, PPS, SEI), *fu_a(IDR, 3), *fu_a(IDR_2, 2)]
    frames = feed(d, frame_packets(payloads, 65533, 2**32 - 100))
    assert [(f.data, f.ts, f.keyframe) for f in frames] == [
        (annex_b(SPS, PPS, SEI, IDR, IDR_2), 2**32 - 100, True)]


def test_h264_lost_fu_a_middle_waits_for_the_next_idr() -> None:
    d = H264Depacketizer()
    key = frame_packets([stap_a(SPS, PPS), *fu_a(IDR, 3)], 0, 0)
    deltas = [*frame_packets(fu_a(P_SLICE, 2), 4, 3000), *frame_packets([P_SLICE], 6, 6000)]
    frames = feed(d, key + deltas + frame_packets([P_SLICE], 7, 9000))
    assert [f.ts for f in frames] == [0, 3000, 6000, 9000]
    lossy = frame_packets(fu_a(IDR, 3), 8, 12000) + frame_packets(fu_a(P_SLICE, 3), 11, 15000)
    del lossy[1], lossy[3]  # the middle of each FU-A
    more = [*frame_packets([P_SLICE], 14, 18000), *frame_packets([P_SLICE], 15, 21000)]
    assert feed(d, lossy + more) == [] and d.want_keyframe
    # the next IDR has no parameter sets of its own: the known ones go in front of it
    frames = feed(d, frame_packets([SEI, *fu_a(IDR, 2)], 16, 24000))
    assert [(f.data, f.keyframe, f.after_gap) for f in frames] == [
        (annex_b(SEI, SPS, PPS, IDR), True, True)], "the SEI before the IDR's packets stays"
    assert not d.want_keyframe


def test_h264_resumes_at_the_first_slice_of_an_idr() -> None:
    """A loss inside an IDR's first slice: its second slice is no place to resume."""
    d = H264Depacketizer()
    packets = frame_packets([stap_a(SPS, PPS), *fu_a(IDR, 3), *fu_a(IDR_2, 2)], 0, 0)
    del packets[2]
    assert feed(d, packets + frame_packets([P_SLICE], 6, 3000)) == []
    frames = feed(d, frame_packets([IDR, IDR_2], 7, 6000))
    assert [(f.data, f.after_gap) for f in frames] == [(annex_b(SPS, PPS, IDR, IDR_2), True)]


def test_h264_idr_without_parameter_sets_is_no_keyframe() -> None:
    d = H264Depacketizer()
    assert feed(d, frame_packets([IDR], 0, 0)) == []
    assert d.want_keyframe
    # parameter sets in an access unit of their own: kept, nothing shown
    assert feed(d, frame_packets([stap_a(SPS, PPS)], 1, 3000)) == []
    frames = feed(d, frame_packets([IDR], 2, 6000))
    assert [(f.data, f.keyframe) for f in frames] == [(annex_b(SPS, PPS, IDR), True)]


@pytest.mark.parametrize(
    ("payloads", "name"),
    [
        ([b"\x7c\x05\x01"], "FU-A middle without a start"),
        ([b"\x7c\x85\x01"], "FU-A start without an end"),
        ([b"\x7c\x85\x01", P_SLICE], "FU-A interrupted"),
        ([b"\x78\x00\x09\x65"], "STAP-A unit past the end"),
        ([b"\x7a\x00\x00\x00"], "STAP-B"),
    ],
)
def test_h264_broken_access_units_are_losses(payloads: list[bytes], name: str) -> None:
    d = H264Depacketizer()
    assert len(feed(d, frame_packets([SPS, PPS, IDR], 0, 0))) == 1
    assert feed(d, frame_packets(payloads, 3, 3000)) == [], name
    assert d.want_keyframe, name
    assert feed(d, frame_packets([P_SLICE], 3 + len(payloads), 6000)) == []


def test_h264_new_ssrc_forgets_parameter_sets() -> None:
    d = H264Depacketizer()
    feed(d, frame_packets([SPS, PPS, IDR], 0, 0))
    assert feed(d, frame_packets([IDR], 0, 0, ssrc=2)) == [] and d.sps is None
    frames = feed(d, frame_packets([SPS, PPS, IDR], 1, 3000, ssrc=2))
    assert [(f.keyframe, f.after_gap) for f in frames] == [(True, True)]


@pytest.mark.parametrize(
    ("profile", "pix_fmt", "size", "profile_idc", "chroma", "params"),
    [
        ("baseline", "yuv420p", (192, 128), 66, 1, ""),
        ("high", "yuv420p", (200, 90), 100, 1, ""),  # cropped: 208x96 macroblocks
        ("high", "yuv420p", (176, 100), 100, 1, "interlaced=1:weightp=0"),  # field pairs
        ("high422", "yuv422p", (176, 81), 122, 2, ""),  # 4:2:2: vertical crop unit 1
        ("high444", "yuv444p", (171, 83), 244, 3, ""),
    ],
)
def test_sps_size_and_avcc(
    profile: str, pix_fmt: str, size: tuple[int, int], profile_idc: int, chroma: int,
    params: str,
) -> None:
    """The size and avcC record from libx264's SPS; FFmpeg decodes length-prefixed units
    with that record as its only configuration."""
    units = encoded_video("h264", 2, size, profile, pix_fmt, x264_params=params)
    sps, pps = annex_b_units(units[0])[:2]
    info = parse_sps(sps)
    assert (info.profile_idc, info.chroma_format_idc, info.width, info.height) == (
        profile_idc, chroma, *size)
    decoder = av.CodecContext.create("h264", "r")
    decoder.extradata = avcc(sps, pps)
    pictures = []
    for unit in units:
        body = b"".join(len(n).to_bytes(4, "big") + n for n in annex_b_units(unit))
        pictures += decoder.decode(av.Packet(body))
    pictures += decoder.decode(None)
    assert [(p.width, p.height) for p in pictures] == [size] * len(units)


class BitWriter:
    """The writing side of H.264 §9.1, for SPS syntax no encoder here emits."""

    def __init__(self) -> None:
        self.bits = ""

    def u(self, count: int, value: int) -> BitWriter:
        self.bits += format(value, f"0{count}b") if count else ""
        return self

    def ue(self, value: int) -> BitWriter:
        code = format(value + 1, "b")
        return self.u(len(code) - 1, 0).u(len(code), value + 1)

    def se(self, value: int) -> BitWriter:
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def rbsp(self) -> bytes:
        bits = self.bits + "1"  # rbsp_stop_one_bit
        bits += "0" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_sps_with_scaling_lists_and_picture_order_type_1() -> None:
    """High profile SPS with 8 scaling lists (one of 64 entries) and POC type 1, field coded
    (frame_mbs_only_flag 0) and cropped: 1920x1080 as broadcasters send it."""
    w = BitWriter().ue(0).ue(1).ue(0).ue(0).u(1, 0).u(1, 1)  # id, 4:2:0, 8 bit, 8 bit, matrix
    for index in range(8):
        present = index in (0, 6)
        w.u(1, int(present))
        for _ in range((16 if index < 6 else 64) if present else 0):
            w.se(3)  # delta_scale: never 0, so each list is read to its end
    w.ue(0).ue(1).u(1, 0).se(-2).se(5).ue(2).se(1).se(-1)  # frame_num, POC type 1 and cycle
    w.ue(4).u(1, 0).ue(119).ue(33).u(1, 0).u(1, 1).u(1, 1)  # refs, gaps, 120x34 MBs, fields
    w.u(1, 1).ue(0).ue(0).ue(0).ue(2).u(1, 0)  # crop bottom 2 units of 4 rows; no VUI
    sps = bytes([0x67, 100, 0, 40]) + w.rbsp()
    info = parse_sps(sps)
    assert (info.width, info.height, info.chroma_format_idc) == (1920, 1080, 1)
    assert avcc(sps, PPS)[-4:] == bytes([0xFD, 0xF8, 0xF8, 0])


def test_sps_rejects_what_is_not_one() -> None:
    for nal in (PPS, SPS[:3], SPS[:5]):
        with pytest.raises(ValueError, match="H264"):
            parse_sps(nal)
    with pytest.raises(ValueError, match="picture parameter set"):
        avcc(SPS, SPS)


# -- Opus -----------------------------------------------------------------------------------


def test_opus_one_packet_one_frame_and_gaps() -> None:
    d = OpusDepacketizer()
    packets = [rtp(bytes([0xF8, i]), 65534 + i, 2**32 - 960 + 960 * i) for i in range(4)]
    del packets[2]  # lost: its 20 ms stay empty
    packets.insert(2, packets[0])  # a duplicate
    frames = feed(d, packets)
    assert [(f.data[1], f.ts, f.keyframe, f.after_gap) for f in frames] == [
        (0, 2**32 - 960, True, False), (1, 2**32, True, False), (3, 2**32 + 1920, True, True)]
    assert feed(d, [rtp(b"\xf8\x02", 0, 960)]) == [], "too late: the next frame was taken"
    restarted = feed(d, [rtp(b"\xf8\x09", 60000, 5000)])  # numbered anew, far behind
    assert [(f.ts, f.after_gap) for f in restarted] == [(5000, True)]
    assert not d.want_keyframe and d.clock_rate == 48000


def test_opus_new_ssrc_and_empty_packets() -> None:
    d = OpusDepacketizer()
    assert len(feed(d, [rtp(b"\xf8\x00", 9, 0)])) == 1
    assert feed(d, [rtp(b"", 10, 960)]) == []
    assert [f.after_gap for f in feed(d, [rtp(b"\xf8\x01", 11, 1920)])] == [False]
    frames = feed(d, [rtp(b"\xf8\x02", 4000, 77, ssrc=5)])
    assert [(f.ts, f.after_gap) for f in frames] == [(77, True)]


# -- shared ---------------------------------------------------------------------------------


def test_unwrapper() -> None:
    u = Unwrapper(16)
    values = [65530, 65535, 3, 65534, 20000, 50000, 2, 60000]
    assert [u.unwrap(v) for v in values] == [
        65530, 65535, 65539, 65534, 85536, 115536, 131074, 125536]


def test_for_codec() -> None:
    assert isinstance(for_codec("VP8"), Vp8Depacketizer)
    assert isinstance(for_codec("h264"), H264Depacketizer)
    assert isinstance(for_codec("opus"), OpusDepacketizer)
    assert isinstance(for_codec("video/H264"), H264Depacketizer)
    assert isinstance(for_codec("audio/opus"), OpusDepacketizer)
    with pytest.raises(ValueError, match="no depacketizer for codec 'g722'"):
        for_codec("g722")


# -- round trips through aiortc's packetizers ------------------------------------------------


def test_vp8_round_trip() -> None:
    encoded = encoded_video("vp8")
    packets = vp8_rtp(encoded, 65500, 2**32 - 9000)  # both numbers wrap on the way
    assert len(packets) > 4 * len(encoded), "frames span several packets"
    frames = feed(for_codec("vp8"), packets)
    assert [f.data for f in frames] == list(encoded)
    assert [f.ts for f in frames] == [2**32 - 9000 + 3000 * i for i in range(len(encoded))]
    assert [(f.keyframe, f.width, f.height) for f in frames[:2]] == [(True, 192, 128),
                                                                      (False, 0, 0)]


@pytest.mark.parametrize("profile", ["baseline", "high"])
def test_h264_round_trip_decodes(profile: str) -> None:
    encoded = encoded_video("h264", profile=profile)
    frames = feed(for_codec("h264"), h264_rtp(encoded, 1000, 0))
    assert [f.data for f in frames] == [annex_b(*annex_b_units(u)) for u in encoded]
    assert [f.keyframe for f in frames] == [True] + [False] * (len(encoded) - 1)
    decoder = av.CodecContext.create("h264", "r")
    pictures = [p for f in frames for p in decoder.decode(av.Packet(f.data))]
    pictures += decoder.decode(None)
    assert [(p.width, p.height) for p in pictures] == [(192, 128)] * len(encoded)


def test_opus_round_trip() -> None:
    encoded = opus_packets(440, 25)
    packets = [rtp(p, 100 + i, 960 * i) for i, p in enumerate(encoded)]
    frames = feed(for_codec("opus"), packets)
    assert [(f.data, f.ts) for f in frames] == [(p, 960 * i) for i, p in enumerate(encoded)]


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_round_trip_with_a_loss_resumes_at_the_next_keyframe(codec: str) -> None:
    """A packet lost inside frame 5 of a 4-frame GOP: frames 5-7 are dropped, 8 resumes."""
    encoded = encoded_video(codec, count=12, gop=4)
    packets = vp8_rtp(encoded, 0, 0) if codec == "vp8" else h264_rtp(encoded, 0, 0)
    in_frame_5 = [i for i, (_, h) in enumerate(packets) if h.timestamp == 5 * 3000]
    del packets[in_frame_5[len(in_frame_5) // 2]]
    d = for_codec(codec)
    frames = feed(d, packets)
    expected = [u if codec == "vp8" else annex_b(*annex_b_units(u)) for u in encoded]
    assert [f.data for f in frames] == expected[:5] + expected[8:]
    assert [f.after_gap for f in frames] == [False] * 5 + [True, False, False, False]
    assert not d.want_keyframe
    decoder = av.CodecContext.create("libvpx" if codec == "vp8" else "h264", "r")
    pictures = [p for f in frames for p in decoder.decode(av.Packet(f.data))]
    pictures += decoder.decode(None)
    assert len(pictures) == len(frames)


@pytest.mark.parametrize(("codec", "profile", "suffix"), [
    ("vp8", "", "webm"), ("h264", "baseline", "mp4"), ("h264", "high", "mp4")])
def test_frames_mux_as_they_come(codec: str, profile: str, suffix: str, tmp_path: Path) -> None:
    """Frames go into a file without a decoder: WebM, or fragmented MP4 whose avcC PyAV takes
    from the first keyframe (which always carries its SPS/PPS); ffprobe reads every frame."""
    encoded = encoded_video(codec, count=12, gop=4, profile=profile or "baseline")
    packets = vp8_rtp(encoded, 0, 0) if codec == "vp8" else h264_rtp(encoded, 0, 0)
    frames = feed(for_codec(codec), packets)
    path = tmp_path / f"out.{suffix}"
    options = {"movflags": "empty_moov+frag_keyframe+default_base_moof"} if suffix == "mp4" else {}
    with av.open(str(path), "w", options=options) as out:
        stream = out.add_mux_stream(codec, rate=30, width=192, height=128)
        stream.time_base = Fraction(1, 90000)
        for frame in frames:
            packet = av.Packet(frame.data)
            packet.pts = packet.dts = frame.ts
            packet.time_base, packet.stream = stream.time_base, stream
            packet.is_keyframe = frame.keyframe
            out.mux(packet)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60)
    (info,) = json.loads(probe.stdout)["streams"]
    assert (info["codec_name"], info["width"], info["height"], info["nb_read_frames"]) == (
        codec, 192, 128, "12")
    if profile:
        assert info["profile"] == {"baseline": "Constrained Baseline", "high": "High"}[profile]
