"""The HLS transcoder (issue 16 §2) with real codecs: libvpx / libx264 make the input, PyAV's
h264 decoder reads the output back. The ladder arithmetic is table-tested first."""

from __future__ import annotations

from collections.abc import Sequence

import av
import pytest
from av.video.frame import VideoFrame

from streaming.frames import Frame
from streaming.hls.rung import KeyClock, RungSize, max_kbps, rung_size
from streaming.hls.transcode import Encoded, VideoTranscoder
from tests.streaming.coded_video import encode

# ---- ladder arithmetic ---------------------------------------------------------------------

@pytest.mark.parametrize(("height", "width_in", "height_in", "expected"), [
    (720, 1280, 720, RungSize(1280, 720)),
    (360, 1280, 720, RungSize(640, 360)),
    (720, 640, 360, RungSize(640, 360)),     # never upscale
    (360, 640, 480, RungSize(480, 360)),     # 4:3 keeps its aspect
    (360, 1920, 1080, RungSize(640, 360)),
    (240, 854, 480, RungSize(428, 240)),     # 427 rounds to even
    (720, 720, 1280, RungSize(404, 720)),    # portrait phone: the rung is its height
    (360, 720, 1280, RungSize(202, 360)),
])
def test_rung_size(height: int, width_in: int, height_in: int, expected: RungSize) -> None:
    assert rung_size(height, width_in, height_in) == expected


def test_rung_size_refuses_empty_pictures() -> None:
    with pytest.raises(ValueError, match="picture size must be positive"):
        rung_size(720, 0, 720)


@pytest.mark.parametrize(("height", "kbps"), [
    (1080, 4500), (720, 2500), (719, 1400), (540, 1400), (360, 800), (240, 400),
])
def test_max_kbps(height: int, kbps: int) -> None:
    assert max_kbps(height) == kbps


@pytest.mark.parametrize(("times", "due"), [
    ([0, 33, 1999, 2000, 2033, 4000], [True, False, False, True, False, True]),
    ([100, 2099.6, 2133], [True, True, False]),                   # half a ms early counts
    ([0, 1000, 4500, 5999, 6000], [True, False, True, False, True]),  # a gap skips boundaries
    ([0, 2010, 3990, 4001], [True, True, False, True]),           # late keys do not drift
])
def test_key_clock(times: list[float], due: list[bool]) -> None:
    clock = KeyClock(2000)
    assert [clock.due(t) for t in times] == due


# ---- media helpers -------------------------------------------------------------------------

def run(transcoder: VideoTranscoder, inputs: Sequence[tuple[str, str, Frame]]
        ) -> list[list[Encoded]]:
    """Push every (source, codec, frame), then close; all access units per rung."""
    rungs: list[list[Encoded]] = []
    for source, codec, frame in inputs:
        out = transcoder.push(source, codec, frame, frame.ts / 90)
        rungs = rungs or [[] for _ in out]
        for rung, units in zip(rungs, out, strict=True):
            rung.extend(units)
    for rung, units in zip(rungs, transcoder.close(), strict=True):
        rung.extend(units)
    return rungs


def decode(units: list[Encoded]) -> list[VideoFrame]:
    """The output read back by a fresh H264 decoder, one picture per access unit expected."""
    decoder = av.CodecContext.create("h264", "r")
    pictures: list[VideoFrame] = []
    for unit in units:
        packet = av.Packet(unit.data)
        pictures.extend(p for p in decoder.decode(packet) if isinstance(p, VideoFrame))
    pictures.extend(p for p in decoder.decode(None) if isinstance(p, VideoFrame))
    return pictures


def mean_luma(frame: VideoFrame) -> float:
    plane, stride = bytes(frame.planes[0]), frame.planes[0].line_size
    rows = [plane[r * stride: r * stride + frame.width // 2] for r in range(1, frame.height, 2)]
    return sum(sum(row) for row in rows) / sum(len(row) for row in rows)


def nal_types(data: bytes) -> list[int]:
    """The NAL unit types of an Annex B access unit, in order."""
    parts = data.split(b"\x00\x00\x01")
    return [part[0] & 0x1F for part in parts[1:] if part]


@pytest.fixture(scope="module")
def vp8_720() -> list[Frame]:
    return encode("vp8", (1280, 720), 150, gop=60)


# ---- the transcoder ------------------------------------------------------------------------

def test_vp8_ladder_sizes_counts_and_times(vp8_720: list[Frame]) -> None:
    transcoder = VideoTranscoder([720, 360], "ultrafast", 2.0)
    rungs = run(transcoder, [("alice", "vp8", f) for f in vp8_720])
    assert transcoder.sizes == [RungSize(1280, 720), RungSize(640, 360)]
    for rung, (width, height) in zip(rungs, [(1280, 720), (640, 360)], strict=True):
        assert len(rung) == len(vp8_720)
        times = [unit.t_ms for unit in rung]
        assert times == sorted(set(times))
        assert times == [f.ts / 90 for f in vp8_720]
        pictures = decode(rung)
        assert len(pictures) == len(rung)
        assert {(p.width, p.height) for p in pictures} == {(width, height)}
        assert {(u.width, u.height) for u in rung} == {(width, height)}


def test_keyframes_on_the_keyint_clock_on_every_rung(vp8_720: list[Frame]) -> None:
    # the input keys every 2 s at 0, 2, 4 s; the output must key at 0, 1, 2, 3, 4 s (keyint 1 s)
    rungs = run(VideoTranscoder([720, 360], "veryfast", 1.0), [("a", "vp8", f) for f in vp8_720])
    keys = [[unit.t_ms for unit in rung if unit.keyframe] for rung in rungs]
    assert keys[0] == keys[1] == [0.0, 1000.0, 2000.0, 3000.0, 4000.0]
    for rung in rungs:
        for unit in rung:
            types = nal_types(unit.data)
            assert (5 in types) == unit.keyframe
            if unit.keyframe:  # SPS and PPS before each IDR, in band
                assert types.index(7) < types.index(8) < types.index(5)
            else:
                assert 7 not in types


def test_h264_input_is_never_upscaled() -> None:
    frames = encode("h264", (640, 360), 40, gop=30)
    transcoder = VideoTranscoder([720, 360], "ultrafast", 2.0)
    rungs = run(transcoder, [("cam", "h264", f) for f in frames])
    assert transcoder.sizes == [RungSize(640, 360), RungSize(640, 360)]
    assert rungs[0] == rungs[1]  # one encoder serves both rungs
    assert len(rungs[0]) == len(frames)
    assert {(p.width, p.height) for p in decode(rungs[0])} == {(640, 360)}


def test_a_corrupt_frame_drops_frames_until_the_next_keyframe(vp8_720: list[Frame]) -> None:
    frames = list(vp8_720[:90])
    broken = 40
    frames[broken] = Frame(frames[broken].data[:12], frames[broken].ts, False)
    rungs = run(VideoTranscoder([360], "ultrafast", 2.0), [("a", "vp8", f) for f in frames])
    times = [unit.t_ms for unit in rungs[0]]
    assert times == [f.ts / 90 for f in frames[:broken] + frames[60:]]
    assert rungs[0][broken].keyframe  # the input's keyframe at 2 s restarts the output
    assert len(decode(rungs[0])) == len(times)


def test_frames_before_the_first_keyframe_are_ignored(vp8_720: list[Frame]) -> None:
    rungs = run(VideoTranscoder([360], "ultrafast", 2.0), [("a", "vp8", f) for f in vp8_720[5:70]])
    assert [u.t_ms for u in rungs[0]] == [f.ts / 90 for f in vp8_720[60:70]]
    assert rungs[0][0].keyframe


def test_input_resolution_change_keeps_the_rung_size() -> None:
    big = encode("vp8", (1280, 720), 30, gop=30)
    small = encode("vp8", (640, 360), 30, gop=30, first=30)  # a simulcast layer switch
    transcoder = VideoTranscoder([720, 360], "ultrafast", 2.0)
    rungs = run(transcoder, [("a", "vp8", f) for f in big + small])
    assert [len(rung) for rung in rungs] == [60, 60]
    assert {(p.width, p.height) for p in decode(rungs[0])} == {(1280, 720)}
    assert {(p.width, p.height) for p in decode(rungs[1])} == {(640, 360)}


def test_times_that_go_back_are_dropped(vp8_720: list[Frame]) -> None:
    frames = [*vp8_720[:10], Frame(vp8_720[10].data, vp8_720[5].ts, False), *vp8_720[11:20]]
    rungs = run(VideoTranscoder([360], "ultrafast", 2.0), [("a", "vp8", f) for f in frames])
    times = [u.t_ms for u in rungs[0]]
    assert times == sorted(set(times)) and len(times) == 19


def test_select_switches_the_picture_at_the_next_keyframe() -> None:
    # two speakers on one timeline: dark VP8 and bright H264, both keying each second
    dark = encode("vp8", (640, 360), 90, gop=30, luma=40)
    bright = encode("h264", (1280, 720), 90, gop=30, luma=200)
    transcoder = VideoTranscoder([360], "ultrafast", 2.0)
    transcoder.select("dark")  # else the first source pushed (bright) would be on air
    inputs: list[tuple[str, str, Frame]] = []
    for index in range(90):
        inputs += [("bright", "h264", bright[index]), ("dark", "vp8", dark[index])]
    pushed: list[Encoded] = []
    for number, (source, codec, frame) in enumerate(inputs):
        if number == 2 * 40:  # the active speaker changes at 1.33 s; bright keys at 2 s
            transcoder.select("bright")
        pushed.extend(transcoder.push(source, codec, frame, frame.ts / 90)[0])
    times = [u.t_ms for u in pushed]
    assert times == [f.ts / 90 for f in dark]  # one picture per frame time, no gap, no double
    lumas = [mean_luma(p) for p in decode(pushed)]
    assert all(abs(luma - 40) < 12 for luma in lumas[:60])
    assert all(abs(luma - 200) < 12 for luma in lumas[60:])
    assert [u.t_ms for u in pushed if u.keyframe] == [0.0, 2000.0]  # one stream, one SPS


def test_select_of_the_program_itself_cancels_a_pending_switch(vp8_720: list[Frame]) -> None:
    transcoder = VideoTranscoder([360], "ultrafast", 2.0)
    transcoder.select("a")
    transcoder.select("b")
    transcoder.select("a")
    rungs = run(transcoder, [("a", "vp8", f) for f in vp8_720[:3]]
                + [("b", "vp8", f) for f in vp8_720[:3]])
    assert len(rungs[0]) == 3


def test_push_after_close_and_unknown_codecs() -> None:
    transcoder = VideoTranscoder([360], "ultrafast", 2.0)
    with pytest.raises(ValueError, match="cannot transcode 'av1' video"):
        transcoder.push("a", "av1", Frame(b"\x00", 0, True), 0.0)
    assert transcoder.close() == [[]]
    assert transcoder.push("a", "vp8", Frame(b"\x00", 0, True), 0.0) == [[]]


def test_wants_keyframe_names_who_must_send_one(vp8_720: list[Frame]) -> None:
    transcoder = VideoTranscoder([360], "ultrafast", 2.0)
    transcoder.push("a", "vp8", vp8_720[1], vp8_720[1].ts / 90)  # not a keyframe: waits
    assert transcoder.wants_keyframe("a")
    transcoder.push("a", "vp8", vp8_720[0], vp8_720[0].ts / 90)
    assert not transcoder.wants_keyframe("a")
    transcoder.select("b")  # the new speaker must key before it is on air
    assert transcoder.wants_keyframe("b") and not transcoder.wants_keyframe("a")
    transcoder.push("b", "vp8", vp8_720[0], vp8_720[0].ts / 90 + 100)
    assert not transcoder.wants_keyframe("b")
    broken = Frame(vp8_720[1].data[:12], vp8_720[1].ts + 9000, False)
    transcoder.push("b", "vp8", broken, broken.ts / 90 + 100)  # a decoding error
    assert transcoder.wants_keyframe("b") and not transcoder.wants_keyframe("a")
