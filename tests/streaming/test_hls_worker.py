"""The HLS packager thread on hand-built RTP (issue 16; docs/hls.md §1): bad media is dropped
and the room goes on being packaged; a batch the loop had to drop (a ``Gap``) is a
discontinuity in every rendition; the end finishes every playlist."""

from __future__ import annotations

import itertools
import logging
import threading
from fractions import Fraction
from pathlib import Path

import av
import pytest
from aiortc.codecs.h264 import H264Encoder

from streaming import rtp_header
from streaming.depacketize import for_codec
from streaming.hls.playlist import MediaPlaylist
from streaming.hls.segmenter import Published
from streaming.hls.spec import HlsSpec
from streaming.hls.worker import Batch, Gap, Item, PackagerWorker, RenditionInfo
from streaming.recording_writer import Tapped, TrackOpened
from tests.streaming.depacketize_media import (
    encoded_video,
    frame_packets,
    h264_rtp,
    opus_packets,
    rtp,
)
from tests.streaming.media_probe import decode_errors

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


def with_ssrc(items: list[Item], track: int, ssrc: int) -> list[Item]:
    """``items`` with ``track``'s packets re-sent from another SSRC (a publisher that
    republished and took over its Sources: same tracks, a new RTP stream)."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, Tapped) and item.track == track:
            data = item.data[:8] + ssrc.to_bytes(4, "big") + item.data[12:]
            item = Tapped(track, item.arrival, data, rtp_header.parse(data))
        out.append(item)
    return out


def test_a_new_rtp_stream_on_the_same_track_is_a_discontinuity() -> None:
    first = media_items(3)
    second = with_ssrc(with_ssrc(media_items(3, start_s=3.5, seq=20_000), 0, 7777), 1, 8888)
    heard = run([*first, *second])
    for rendition in ("v0", "a0"):
        marked = [s for s in heard.playlists[rendition].segments if s.discontinuity]
        assert [s.init for s in marked] == [f"{rendition}-init1.mp4"], rendition


def b_frame_items(seconds: int) -> list[Item]:
    """x264 Main profile with B-frames, in decode order, each RTP timestamp its presentation
    time (RFC 6184 §5.1): what an RTMP encoder's stream looks like once ingested."""
    context = av.CodecContext.create("libx264", "w")
    context.width, context.height, context.pix_fmt = 192, 128, "yuv420p"
    context.time_base = Fraction(1, 30)
    context.framerate = Fraction(30, 1)
    context.gop_size = 30
    context.options = {"profile": "main", "preset": "veryfast", "x264-params": "bframes=2"}
    packets: list[av.Packet] = []
    for index in range(30 * seconds):
        picture = av.VideoFrame(192, 128, "yuv420p")
        for plane in picture.planes:
            plane.update(bytes([(index * 5 + plane.line_size) % 256]) * plane.buffer_size)
        picture.pts = index
        packets += context.encode(picture)
    packets += context.encode(None)
    items: list[Item] = []
    seq = 0
    for order, packet in enumerate(packets):
        assert packet.pts is not None
        payloads = H264Encoder._packetize(H264Encoder._split_bitstream(bytes(packet)))
        for data, header in frame_packets(payloads, seq, 90_000 + 3000 * packet.pts):
            items.append(Tapped(0, order / 30, data, header))
        seq += len(payloads)
    return items


def test_h264_with_b_frames_is_transcoded_not_passed_through(
        caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.WARNING, "streaming.hls.worker")
    items = b_frame_items(4)
    assert any(b.header.timestamp < a.header.timestamp for a, b in itertools.pairwise(
        i for i in items if isinstance(i, Tapped))), "the clip has B-frames"
    heard = run(items)
    assert "carries B-frames" in caplog.text
    video = heard.playlists["v0"]
    after = [s for s in video.segments if s.init != "v0-init0.mp4"]
    assert len(after) >= 2 and after[0].discontinuity  # the transcoder's stream, after a break
    for segment in after:
        path = tmp_path / f"{segment.name}.mp4"
        path.write_bytes(heard.blobs[segment.init] + heard.blobs[segment.name])
        assert decode_errors(path) == ""
