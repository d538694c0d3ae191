"""The HLS packager's pure parts (issue 16 §1): CMAF boxes probed with ffprobe, segments and
parts out of the segmenter, playlists parsed with the ``m3u8`` library and held to RFC 8216bis's
rules (target duration, part target, consecutive numbers, independent first parts, a new map
after a discontinuity)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import m3u8
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streaming.hls.aac import OpusToAac
from streaming.hls.fmp4 import (
    AUDIO_TIMESCALE,
    VIDEO_TIMESCALE,
    AudioTrack,
    Sample,
    VideoTrack,
    avcc_sample,
    codec_string,
    fragment,
    init_segment,
    nal_units,
    parameter_sets,
)
from streaming.hls.playlist import (
    AudioRendition,
    VideoRendition,
    render_master,
    render_media,
)
from streaming.hls.segmenter import Cut, Published, Segmenter, SegmenterConfig, TimedSample
from tests.streaming.clients import clip
from tests.streaming.media_probe import decode_errors, packet_times, probe

FRAME = VIDEO_TIMESCALE // 30


def h264_clip(frames: int = 90, gop: int = 30, size: tuple[int, int] = (160, 120)
              ) -> tuple[VideoTrack, list[tuple[bytes, bool]]]:
    """An x264 clip as (AVCC sample, keyframe) pairs and its track."""
    units = [nal_units(au) for au in clip("h264", frames=frames, gop=gop, size=size)]
    sets = parameter_sets(units[0])
    assert sets is not None
    track = VideoTrack(sets[0], sets[1], *size)
    return track, [(avcc_sample(u), parameter_sets(u) is not None) for u in units]


def opus_packets(count: int) -> list[bytes]:
    import array
    from fractions import Fraction

    import av

    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = Fraction(1, 48_000)
    encoder.open()
    packets: list[bytes] = []
    tone = array.array("h", [int(3000 * math.sin(k / 9)) for k in range(1920)]).tobytes()
    for index in range(count):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
        frame.sample_rate, frame.pts = 48_000, index * 960
        frame.planes[0].update(tone)
        packets += [bytes(p) for p in encoder.encode(frame)]
    return packets


# -- fmp4 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_fragment", [1, 15, 90])
def test_h264_init_and_fragments_probe_as_the_clip(tmp_path: Path, per_fragment: int) -> None:
    track, samples = h264_clip()
    data = [init_segment(track)]
    for seq, start in enumerate(range(0, len(samples), per_fragment), 1):
        chunk = samples[start:start + per_fragment]
        data.append(fragment(seq, 1, start * FRAME,
                             [Sample(s, FRAME, key) for s, key in chunk]))
    path = tmp_path / "v.mp4"
    path.write_bytes(b"".join(data))
    [stream] = probe(path)["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 160, 120)
    assert decode_errors(path) == ""
    times = packet_times(path, "v")
    assert len(times) == 90
    assert times == pytest.approx([i / 30 for i in range(90)], abs=1e-3)


def test_aac_init_and_fragments_probe_as_aac(tmp_path: Path) -> None:
    encoder = OpusToAac()
    frames = [f for i, p in enumerate(opus_packets(100)) for f in encoder.push(p, i * 20.0)]
    track = AudioTrack(encoder.config)
    body = fragment(1, 1, 0, [Sample(f.data, 1024) for f in frames])
    path = tmp_path / "a.mp4"
    path.write_bytes(init_segment(track) + body)
    [stream] = probe(path)["streams"]
    assert (stream["codec_name"], stream["profile"], stream["sample_rate"],
            stream["channels"]) == ("aac", "LC", "48000", 2)
    assert decode_errors(path) == ""
    assert len(packet_times(path, "a")) == len(frames) > 90


def test_annex_b_becomes_avcc_without_parameter_sets() -> None:
    sps, pps, idr = b"\x67\x42\xc0\x1f\xaa", b"\x68\xce\x3c\x80", b"\x65\x88\x84\x00"
    annex_b = b"\x00\x00\x00\x01\x09\xf0" + b"\x00\x00\x00\x01" + sps + b"\x00\x00\x01" + pps \
        + b"\x00\x00\x01" + idr
    units = nal_units(annex_b)
    assert units == [b"\x09\xf0", sps, pps, idr]
    assert parameter_sets(units) == (sps, pps)
    assert avcc_sample(units) == b"\x00\x00\x00\x04" + idr
    assert codec_string(sps) == "avc1.42c01f"


# -- the segmenter -------------------------------------------------------------------------


def config(prefix: str = "v0", timescale: int = VIDEO_TIMESCALE, leader: bool = True,
           window: int = 6) -> SegmenterConfig:
    return SegmenterConfig(prefix, timescale, part_s=0.5, segment_s=2.0, window=window,
                           epoch0=1_700_000_000.0, leader=leader)


def feed_video(segmenter: Segmenter, samples: list[tuple[bytes, bool]], start: int,
               loops: int = 1) -> list[Published]:
    out: list[Published] = []
    for index in range(len(samples) * loops):
        data, key = samples[index % len(samples)]
        published = segmenter.push(TimedSample(data, start + index * FRAME, key))
        if published is not None:
            out.append(published)
    return out


def check_media_playlist(text: str, part_target: float) -> m3u8.M3U8:
    """RFC 8216bis rules a player relies on."""
    parsed = m3u8.loads(text)
    target = parsed.target_duration
    done = [s for s in parsed.segments if s.uri]  # the last may be parts of the open one
    assert all(not s.uri for s in parsed.segments[len(done):])
    assert all(math.floor(s.duration + 0.5) <= target for s in done)
    msns = [parsed.media_sequence + i for i in range(len(parsed.segments))]
    for msn, segment in zip(msns, parsed.segments, strict=True):
        if segment.uri:
            assert re.fullmatch(rf"[va]\d-{msn}\.m4s(\?.*)?", segment.uri)
        for index, part in enumerate(segment.parts):
            assert part.duration <= part_target + 1e-6
            assert re.fullmatch(rf"[va]\d-{msn}\.{index}\.m4s(\?.*)?", part.uri)
        if segment.parts:
            assert segment.parts[0].independent == "YES"
    return parsed


def test_video_segments_start_with_keyframes_and_parts_fit_the_target() -> None:
    track, samples = h264_clip(gop=30)
    segmenter = Segmenter(config())
    segmenter.set_init(init_segment(track))
    published = feed_video(segmenter, samples, 0, loops=8)  # 24 s, a keyframe every second
    last = published[-1]
    assert [s.duration for s in last.playlist.segments] == pytest.approx([2.0] * 6)
    assert last.playlist.media_sequence == 5  # a window of six
    text = render_media(last.playlist, low_latency=True)
    parsed = check_media_playlist(text, 0.5)
    assert parsed.target_duration == 2 and parsed.version == 9
    assert "#EXT-X-PRELOAD-HINT:TYPE=PART" in text and "CAN-BLOCK-RELOAD=YES" in text
    assert text.count("#EXT-X-MAP") == 1 and "#EXT-X-DISCONTINUITY\n" not in text
    done = [s for s in parsed.segments if s.uri]
    assert [len(s.parts) for s in done[-3:]] == [4, 4, 4]
    assert all(not s.parts for s in done[:-3])
    assert parsed.segments[-1].parts and not parsed.segments[-1].uri  # the one being built
    standard = render_media(last.playlist, low_latency=False)
    assert "EXT-X-PART" not in standard and "PRELOAD" not in standard
    assert m3u8.loads(standard).version == 7


def test_blobs_in_the_window_are_kept_and_older_ones_dropped() -> None:
    track, samples = h264_clip(gop=30)
    segmenter = Segmenter(config())
    blobs: dict[str, bytes] = dict(segmenter.set_init(init_segment(track)).blobs)
    for published in feed_video(segmenter, samples, 0, loops=8):
        blobs.update(published.blobs)
        for name in published.dropped:
            blobs.pop(name, None)
    playlist = segmenter.playlist()
    listed = {s.name for s in playlist.segments}
    assert listed <= set(blobs)
    assert "v0-0.m4s" not in blobs and "v0-init0.mp4" in blobs
    segment = playlist.segments[-1]
    assert blobs[segment.name] == b"".join(blobs[p.name] for p in segment.parts)
    assert all(p.name in blobs for p in playlist.segments[-1].parts)
    assert not any(p.name in blobs for p in playlist.segments[0].parts)


def test_a_segment_waits_for_a_keyframe() -> None:
    track, samples = h264_clip(frames=90, gop=75)  # keyframes 2.5 s apart
    segmenter = Segmenter(config())
    segmenter.set_init(init_segment(track))
    feed_video(segmenter, samples[:75], 0, loops=4)
    durations = [s.duration for s in segmenter.playlist().segments]
    assert durations == pytest.approx([2.5, 2.5, 2.5])
    parsed = check_media_playlist(render_media(segmenter.playlist(), low_latency=True), 0.5)
    assert parsed.target_duration == 3  # round(2.5) = 3 under the target


def test_a_restart_is_a_discontinuity_with_a_new_map() -> None:
    track, samples = h264_clip(gop=30)
    segmenter = Segmenter(config(window=10))
    segmenter.set_init(init_segment(track))
    feed_video(segmenter, samples, 0, loops=2)
    other, again = h264_clip(gop=30, size=(320, 240))  # the publisher came back bigger
    segmenter.set_init(init_segment(other))
    feed_video(segmenter, again, 10 * VIDEO_TIMESCALE, loops=2)  # after a 4 s gap
    ended = segmenter.finish()
    text = render_media(ended.playlist, low_latency=True)
    parsed = check_media_playlist(text, 0.5)
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert [s.init_section.uri for s in parsed.segments if s.discontinuity] == ["v0-init1.mp4"]
    assert text.rstrip().endswith("#EXT-X-ENDLIST") and "PRELOAD-HINT" not in text
    assert max(s.duration for s in parsed.segments) <= 2.0 + 1e-6  # the gap is not a sample


def test_audio_cuts_where_video_cut() -> None:
    track, samples = h264_clip(gop=30)
    video = Segmenter(config())
    video.set_init(init_segment(track))
    audio = Segmenter(config("a0", AUDIO_TIMESCALE, leader=False))
    audio.set_init(b"init")
    cuts: list[Cut] = []
    for index in range(30 * 9):
        data, key = samples[index % len(samples)]
        published = video.push(TimedSample(data, index * FRAME, key))
        if published is not None and published.cut is not None:
            cuts.append(published.cut)
            audio.cut(published.cut)
        start = index * 1600  # the AAC frames (1024 samples at 48 kHz) of this video frame
        first = -(-start // 1024) * 1024
        for tick in range(first, start + 1600, 1024):
            audio.push(TimedSample(b"\x21\x10", tick, True))
    vlist, alist = video.playlist(), audio.playlist()
    assert [s.msn for s in alist.segments] == [s.msn for s in vlist.segments]
    for a, v in zip(alist.segments, vlist.segments, strict=True):
        assert a.start == pytest.approx(v.start, abs=1024 / AUDIO_TIMESCALE)
        assert a.duration == pytest.approx(v.duration, abs=2 * 1024 / AUDIO_TIMESCALE)
    check_media_playlist(render_media(alist, low_latency=True), 0.5)


def test_master_playlist_groups_audio_and_carries_codecs() -> None:
    text = render_master(
        [VideoRendition("v0.m3u8", 1_200_000, 900_000, "avc1.42c01f", 1280, 720, 30.0)],
        [AudioRendition("a0.m3u8", "main", default=True, bandwidth=130_000),
         AudioRendition("a1.m3u8", "bob", language="ja", bandwidth=130_000)],
        query="sig=abc&exp=9")
    parsed = m3u8.loads(text)
    assert parsed.is_variant
    [variant] = parsed.playlists
    info = variant.stream_info
    assert (info.bandwidth, info.codecs, info.resolution, info.audio) == (
        1_330_000, "avc1.42c01f,mp4a.40.2", (1280, 720), "aud")
    assert variant.uri == "v0.m3u8?sig=abc&exp=9"
    assert [(m.group_id, m.name, m.default, m.language) for m in parsed.media] == [
        ("aud", "main", "YES", None), ("aud", "bob", "NO", "ja")]
    assert all(m.uri.endswith("?sig=abc&exp=9") for m in parsed.media)


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[int, bool, bool]]:
    """(frames since the last sample, keyframe, a restart before it): mostly 30 fps with
    keyframes now and then, with holes (lost frames) and reconnects."""
    steps = draw(st.lists(st.tuples(
        st.one_of(st.just(1), st.just(1), st.just(1), st.integers(2, 45)),
        st.integers(0, 9).map(lambda n: n < 3),
        st.integers(0, 60).map(lambda n: n == 0)), min_size=60, max_size=400))
    return [(1, True, False), *steps]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_any_stream_makes_playlists_that_keep_the_rules(steps: list[tuple[int, bool, bool]]
                                                        ) -> None:
    """RFC 8216bis rules for whatever arrives: every segment starts with an independent part,
    parts fit the part target, numbers run on, a break is a discontinuity with a new map."""
    track, _ = h264_clip(frames=1)
    segmenter = Segmenter(config(window=1000))
    segmenter.set_init(init_segment(track))
    dts, breaks = 0, 0
    for gap, key, restart in steps:
        if restart and segmenter.restart() is not None:
            breaks += 1
        dts += gap * FRAME
        segmenter.push(TimedSample(b"\x00\x00\x00\x01\x65", dts, key))
    playlist = segmenter.finish().playlist
    text = render_media(playlist, low_latency=True)
    parsed = check_media_playlist(text, 0.5)
    for segment in playlist.segments:
        assert segment.parts and segment.parts[0].independent
        assert sum(p.duration for p in segment.parts) == pytest.approx(segment.duration)
    msns = [s.msn for s in playlist.segments]
    assert msns == list(range(len(msns)))
    marked = [s for s in parsed.segments if s.discontinuity]
    assert len(marked) <= breaks
    assert all(s.init_section is not None for s in marked)
    maps = [s.init_section.uri for s in marked]
    assert len(set(maps)) == len(maps) and "v0-init0.mp4" not in maps
