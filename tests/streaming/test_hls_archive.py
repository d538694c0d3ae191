"""The HLS archive's own rules (issue 16 §5, docs/hls.md §9), on a real segmenter's output (an
x264 clip): every segment and init lands on disk under its live name, parts do not; the VOD
playlist lists every segment from the first (``EXT-X-PLAYLIST-TYPE:VOD``, ``EXT-X-ENDLIST``)
with the live segments' durations; a thread too far behind loses what it is offered
(``slow_disk``) and the VOD marks the hole with ``EXT-X-DISCONTINUITY``; the concatenated
segments decode with ffmpeg."""

from __future__ import annotations

import time
from pathlib import Path

import m3u8

from streaming.hls.archive import HlsArchive
from streaming.hls.fmp4 import VIDEO_TIMESCALE, init_segment
from streaming.hls.segmenter import Published, Segmenter, SegmenterConfig, TimedSample
from streaming.hls.spec import ArchiveSpec
from tests.streaming.media_probe import decode_errors
from tests.streaming.test_hls_segments import FRAME, h264_clip


def _published(frames: int = 150) -> list[Published]:
    """What a segmenter publishes for a 5 s clip (1 s segments, keyframe every 15 frames)."""
    track, samples = h264_clip(frames=frames, gop=15)
    config = SegmenterConfig("v0", VIDEO_TIMESCALE, 0.25, 1.0, 3, time.time())
    segmenter = Segmenter(config)
    out = [segmenter.set_init(init_segment(track))]
    for index, (data, key) in enumerate(samples):
        published = segmenter.push(TimedSample(data, index * FRAME, key))
        if published is not None:
            out.append(published)
    out.append(segmenter.finish())
    return out


def _archive(tmp_path: Path, published: list[Published], lose: frozenset[int] = frozenset()
             ) -> tuple[HlsArchive, m3u8.M3U8]:
    archive = HlsArchive(ArchiveSpec("rec_test000001", tmp_path, min_free_bytes=0), "show")
    queued = 0
    for index, one in enumerate(published):
        if index in lose:  # as if the thread were a full queue behind: the offer is lost
            archive.sent = archive.done + archive.spec.queue_items
        else:
            queued += 1
        archive.offer("v0", one)
        deadline = time.monotonic() + 10
        while archive.done < queued:  # the thread has taken it
            assert time.monotonic() < deadline, "the archive thread took nothing"
            time.sleep(0.001)
        archive.sent = archive.done
    archive.finish("#EXTM3U\n")
    archive.thread.join(10)
    return archive, m3u8.loads((tmp_path / "v0.m3u8").read_text())


def test_every_segment_is_kept_and_listed_from_the_first(tmp_path: Path) -> None:
    published = _published()
    archive, vod = _archive(tmp_path, published)
    assert archive.result is not None and archive.result.reason == ""
    assert vod.playlist_type == "vod" and vod.is_endlist and vod.media_sequence == 0
    live = {s.msn: s for p in published for s in p.playlist.segments}
    assert [s.uri for s in vod.segments] == [f"v0-{n}.m4s" for n in sorted(live)]
    assert len(vod.segments) >= 4  # more than the live window of 3
    assert [round(s.duration, 3) for s in vod.segments] == [
        round(live[n].duration, 3) for n in sorted(live)]
    assert not list(tmp_path.glob("v0-*.*.m4s"))  # parts are not kept
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(b"".join((tmp_path / n).read_bytes()
                               for n in ["v0-init0.mp4", *[s.uri for s in vod.segments]]))
    assert decode_errors(whole) == ""
    assert archive.result.playable and archive.result.duration_s > 3


def test_a_slow_disk_leaves_a_hole_that_the_vod_marks(tmp_path: Path) -> None:
    published = _published()
    carries = [i for i, p in enumerate(published)
               if any(n.count("-") == 1 and n.count(".") == 1 and "init" not in n
                      for n, _ in p.blobs)]
    lost = carries[1]  # the publication that carries the second segment
    archive, vod = _archive(tmp_path, published, lose=frozenset({lost}))
    assert archive.result is not None and archive.result.reason == "slow_disk"
    numbers = [int(s.uri.split("-")[1].split(".")[0]) for s in vod.segments]
    missing = sorted(set(range(numbers[-1] + 1)) - set(numbers))
    assert missing, numbers
    after = numbers.index(missing[0] + 1)
    assert vod.segments[after].discontinuity and not vod.segments[0].discontinuity
