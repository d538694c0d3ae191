"""The HLS packager thread on hand-built RTP (issue 16; docs/hls.md §1): bad media is dropped
and the room goes on being packaged; a batch the loop had to drop (a ``Gap``) is a
discontinuity in every rendition; the end finishes every playlist."""

from __future__ import annotations

import logging
import threading

import pytest

from streaming.depacketize import for_codec
from streaming.hls.playlist import MediaPlaylist
from streaming.hls.segmenter import Published
from streaming.hls.spec import HlsSpec
from streaming.hls.worker import Batch, Gap, Item, PackagerWorker, RenditionInfo
from streaming.recording_writer import Tapped, TrackOpened
from tests.streaming.depacketize_media import encoded_video, h264_rtp, opus_packets, rtp

SPEC = HlsSpec("r", segment_s=1.0, part_s=0.25)
BOGUS_KEYFRAME = (b"\x00\x00\x00\x01\x67\x42"  # an SPS cut short
                  + b"\x00\x00\x00\x01\x68\xce\x3c\x80"
                  + b"\x00\x00\x00\x01\x65\x88\x84\x21\xa0")


class Heard:
    """What the worker told the loop (called on the worker's thread here)."""

    def __init__(self) -> None:
        self.playlists: dict[str, MediaPlaylist] = {}
        self.blobs: dict[str, bytes] = {}
        self.infos: list[RenditionInfo] = []
        self.keyframes = 0
        self.done = threading.Event()

    def published(self, rendition: str, published: Published) -> None:
        self.playlists[rendition] = published.playlist
        self.blobs.update(published.blobs)

    def described(self, info: RenditionInfo) -> None:
        self.infos.append(info)

    def want_keyframe(self, track: int) -> None:
        self.keyframes += 1

    def finished(self) -> None:
        self.done.set()


def media_items(seconds: int, start_s: float = 0.0, seq: int = 0) -> list[Item]:
    """``seconds`` of 30 fps H264 (a keyframe a second) and 20 ms Opus, in arrival order."""
    video = h264_rtp(encoded_video("h264", count=30 * seconds, gop=30), seq, 90_000)
    audio = [rtp(p, seq + i, 48_000 + 960 * i, ssrc=2222)
             for i, p in enumerate(opus_packets(440, 50 * seconds))]
    items: list[tuple[float, Item]] = []
    for data, header in video:
        at = start_s + (header.timestamp - 90_000) / 90_000
        items.append((at, Tapped(0, at, data, header)))
    for data, header in audio:
        at = start_s + (header.timestamp - 48_000) / 48_000
        items.append((at, Tapped(1, at, data, header)))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def run(items: list[Item]) -> Heard:
    heard = Heard()
    worker = PackagerWorker(SPEC, 0.0, for_codec, heard, lambda call, *args: call(*args))
    worker.start()
    opened: list[Item] = [TrackOpened(0, "host", "video", "h264", 90_000),
                          TrackOpened(1, "host", "audio", "opus", 48_000)]
    worker.put(Batch(0.0, opened + items))
    worker.finish()
    assert heard.done.wait(60)
    worker.thread.join(5)
    return heard


def test_bad_media_is_dropped_and_the_rest_is_packaged(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    caplog.set_level(logging.INFO, "streaming.hls.worker")
    bogus = h264_rtp((BOGUS_KEYFRAME,), 60_000, 80_000)
    garbage_opus = [rtp(b"\xff" * 40, 50_000, 47_040, ssrc=2222)]
    bad: list[Item] = [Tapped(0, 0.0, d, h) for d, h in bogus]
    bad += [Tapped(1, 0.0, d, h) for d, h in garbage_opus]
    heard = run(bad + media_items(4, start_s=0.1))
    video, audio = heard.playlists["v0"], heard.playlists["a0"]
    assert video.ended and audio.ended
    assert len(video.segments) >= 3 and len(audio.segments) >= 3
    assert [i.name for i in heard.infos if i.kind == "video"] == ["v0"]  # one init: the real
    assert heard.infos[0].width == 192 and heard.infos[0].height == 128
    refused = [r.getMessage() for r in caplog.records if "dropped bad media" in r.getMessage()]
    assert any("sequence parameter set" in m for m in refused)  # the bogus SPS
    assert any("Invalid data" in m for m in refused)  # the garbage Opus


def test_a_dropped_batch_is_a_discontinuity_everywhere() -> None:
    first = media_items(3)
    second = media_items(3, start_s=3.5, seq=20_000)
    heard = run([*first, Gap(), *second])
    for rendition in ("v0", "a0"):
        playlist = heard.playlists[rendition]
        marked = [s for s in playlist.segments if s.discontinuity]
        assert len(marked) == 1, rendition
        assert marked[0].init == f"{rendition}-init1.mp4"
        assert f"{rendition}-init1.mp4" in heard.blobs
    video_msns = [s.msn for s in heard.playlists["v0"].segments if s.discontinuity]
    audio_msns = [s.msn for s in heard.playlists["a0"].segments if s.discontinuity]
    assert video_msns == audio_msns  # the same segment breaks in both renditions


def test_another_audio_source_is_an_extra_rendition_cut_like_the_video() -> None:
    items = media_items(4)
    extra: list[Item] = [TrackOpened(2, "interpreter", "audio", "opus", 48_000)]
    for index, packet in enumerate(opus_packets(660, 50 * 4)):
        data, header = rtp(packet, index, 48_000 + 960 * index, ssrc=3333)
        extra.append(Tapped(2, index * 0.02, data, header))
    merged = sorted(items + extra[1:], key=lambda i: i.arrival if isinstance(i, Tapped) else 0)
    heard = run([extra[0], *merged])
    labels = {i.name: i.label for i in heard.infos if i.kind == "audio"}
    assert labels == {"a0": "host", "a1": "interpreter"}
    video, main, other = (heard.playlists[n] for n in ("v0", "a0", "a1"))
    assert [s.msn for s in other.segments] == [s.msn for s in main.segments]
    for segment, cut in zip(other.segments[1:], video.segments[1:], strict=False):
        assert segment.msn == cut.msn and abs(segment.start - cut.start) < 0.03
