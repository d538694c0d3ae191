"""A transcoded ladder through the segmenter (issue 16 §2): every rung's segments cut at the
same times, start with an independent part, and play in ffprobe/ffmpeg (real tools).

The transcoder's keyframe clock is what makes this hold; the segmenter cuts each rung on its
own (leader) and must arrive at the same segment list."""

from __future__ import annotations

from pathlib import Path

from streaming.hls.fmp4 import VideoTrack, avcc_sample, init_segment, nal_units, parameter_sets
from streaming.hls.segmenter import Segmenter, SegmenterConfig, TimedSample
from streaming.hls.transcode import Encoded, VideoTranscoder
from tests.streaming.coded_video import encode
from tests.streaming.media_probe import decode_errors, frame_sizes, probe, video_frames

SEGMENT_S, PART_S = 2.0, 0.5


def segmented(prefix: str, units: list[Encoded]) -> tuple[Segmenter, dict[str, bytes]]:
    """``units`` of one rung through a leader segmenter, as the packager's worker does."""
    segmenter = Segmenter(SegmenterConfig(prefix, 90000, PART_S, SEGMENT_S, 10, 0.0))
    blobs: dict[str, bytes] = {}
    for unit in units:
        nals = nal_units(unit.data)
        if unit.keyframe and not blobs:
            sets = parameter_sets(nals)
            assert sets is not None  # SPS/PPS in band before the IDR
            track = VideoTrack(sets[0], sets[1], unit.width, unit.height)
            blobs.update(segmenter.set_init(init_segment(track)).blobs)
        published = segmenter.push(TimedSample(avcc_sample(nals), round(unit.t_ms * 90),
                                               unit.keyframe))
        if published is not None:
            blobs.update(published.blobs)
    blobs.update(segmenter.finish().blobs)
    return segmenter, blobs


def test_a_transcoded_ladder_segments_aligned_and_plays(tmp_path: Path) -> None:
    vp8 = encode("vp8", (1280, 720), 200, gop=90)  # the publisher keys every 3 s, not 2
    transcoder = VideoTranscoder([720, 360], "ultrafast", SEGMENT_S)
    rungs: list[list[Encoded]] = [[], []]
    for frame in vp8:
        for rung, units in zip(rungs, transcoder.push("p", "vp8", frame, frame.ts / 90),
                               strict=True):
            rung.extend(units)
    lists = []
    for index, (rung, size) in enumerate(zip(rungs, [(1280, 720), (640, 360)], strict=True)):
        segmenter, blobs = segmented(f"v{index}", rung)
        playlist = segmenter.playlist()
        lists.append([(s.msn, round(s.duration, 3)) for s in playlist.segments])
        assert all(s.parts[0].independent for s in playlist.segments)
        whole = tmp_path / f"v{index}.mp4"
        whole.write_bytes(blobs[f"v{index}-init0.mp4"] + b"".join(
            blobs[s.name] for s in playlist.segments))
        assert decode_errors(whole) == ""
        assert frame_sizes(whole) == {size}
        assert len(video_frames(whole)) == len(vp8)
        assert probe(whole)["streams"][0]["codec_name"] == "h264"
    assert lists[0] == lists[1]
    assert [d for _, d in lists[0][:-1]] == [SEGMENT_S] * (len(lists[0]) - 1)
