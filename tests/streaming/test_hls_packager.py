"""Live HLS out of a real aiortc H264 publisher through the plane (issue 16 §1, §2, §5): the
playlists parse with ``m3u8``, every init + segment probes with ffprobe as H264 / AAC, the
video passes through (no video encoder is opened), a reconnect is a discontinuity, the end is
``EXT-X-ENDLIST``, and a blocking reload returns when its part appears, not before."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest

from streaming import MediaPlane
from streaming.hls.feed import HlsFeed
from streaming.hls.spec import HlsSpec
from tests.streaming.clients import publish, until
from tests.streaming.media_probe import decode_errors, packet_times, probe
from tests.streaming.test_hls_segments import check_media_playlist

pytestmark = pytest.mark.timeout(90)
SPEC = HlsSpec("r", segment_s=1.0, part_s=0.25, window_segments=6)


@pytest.fixture
def opened_codecs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str]]]:
    """Every PyAV codec context created: (codec, mode, thread name)."""
    opened: list[tuple[str, str, str]] = []
    create: Callable[..., Any] = av.CodecContext.create

    def spy(codec: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened.append((str(codec), mode, threading.current_thread().name))
        return create(codec, mode, *args, **kwargs)

    monkeypatch.setattr(av.CodecContext, "create", spy)
    yield opened


def feed_of(plane: MediaPlane, room: str = "r") -> HlsFeed:
    feed = plane.hls(room)
    assert feed is not None
    return feed


def media(feed: HlsFeed, name: str, low_latency: bool = True) -> m3u8.M3U8:
    text = feed.playlist(name, low_latency=low_latency)
    assert text is not None
    return check_media_playlist(text, SPEC.part_s)


def segments(feed: HlsFeed, name: str) -> list[str]:
    """The complete segments of ``name`` (none while it does not exist yet)."""
    if feed.playlist(name, low_latency=True) is None:
        return []
    return [s.uri for s in media(feed, name).segments if s.uri]


def write_segment(feed: HlsFeed, playlist: m3u8.M3U8, uri: str, path: Path) -> Path:
    [segment] = [s for s in playlist.segments if s.uri == uri]
    init, body = feed.blob(segment.init_section.uri), feed.blob(uri)
    assert init is not None and body is not None
    path.write_bytes(init.data + body.data)
    return path


def dump(feed: HlsFeed, directory: Path) -> Path:
    """The feed as files (standard-latency playlists and the blobs they name)."""
    directory.mkdir()
    names = ["index.m3u8"]
    for name in names:
        text = feed.playlist(name, low_latency=False)
        assert text is not None
        (directory / name).write_text(text)
        parsed = m3u8.loads(text)
        names += [p.uri for p in parsed.playlists] + [m.uri for m in parsed.media]
        for segment in parsed.segments:
            for uri in (segment.init_section.uri, segment.uri):
                blob = feed.blob(uri)
                assert blob is not None, uri
                (directory / uri).write_bytes(blob.data)
    return directory / "index.m3u8"


async def test_an_h264_broadcast_becomes_ll_hls_without_a_video_encoder(
    plane: MediaPlane, tmp_path: Path, opened_codecs: list[tuple[str, str, str]]
) -> None:
    publisher = await publish(plane, "r", "host", codec="h264", size=(320, 240))
    plane.start_hls(SPEC)
    feed = feed_of(plane)
    await until(lambda: feed.playlist("index.m3u8", low_latency=True) is not None)
    await until(lambda: len(segments(feed, "v0.m3u8")) >= 3 and
                len(segments(feed, "a0.m3u8")) >= 3, within=20)
    master = m3u8.loads(feed.playlist("index.m3u8", low_latency=True, query="t=1") or "")
    [variant] = master.playlists
    assert variant.uri == "v0.m3u8?t=1"
    assert variant.stream_info.codecs.startswith("avc1.42") and variant.stream_info.audio == "aud"
    assert variant.stream_info.resolution == (320, 240)
    assert [(m.uri, m.default) for m in master.media] == [("a0.m3u8?t=1", "YES")]
    video, audio = media(feed, "v0.m3u8"), media(feed, "a0.m3u8")
    # each LL playlist reports the other rendition's newest part (RFC 8216bis §4.4.5.4)
    [report] = video.rendition_reports
    assert report.uri == "a0.m3u8" and report.last_part is not None
    last_video = video.media_sequence + len(video.segments) - 1
    assert abs(report.last_msn - last_video) <= 1
    assert [r.uri for r in audio.rendition_reports] == ["v0.m3u8"]
    assert "RENDITION-REPORT" not in (feed.playlist("v0.m3u8", low_latency=False) or "")
    for index, uri in enumerate(s.uri for s in video.segments if s.uri):
        path = write_segment(feed, video, uri, tmp_path / f"v{index}.mp4")
        [stream] = probe(path)["streams"]
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 320, 240)
        assert decode_errors(path) == ""
        times = packet_times(path, "v")
        # the publisher's ~30 fps; a loaded machine's aiortc publisher sends some frames late
        # (measured 1.966 s for 57 frames in CI), so the rate is checked loosely
        span = times[-1] - times[0]
        interval = span / (len(times) - 1)
        assert interval == pytest.approx(1 / 30, abs=0.01)  # a time-base error is off by far more
        # EXTINF is the segment's samples' durations; frames lost or late on a loaded machine
        # leave a hole that the frames' times span and EXTINF does not (the sample before it is
        # cut at the part target, streaming/hls/segmenter.py): 1.239 s of frames in a 1.117 s
        # segment, seen in CI. Without holes the two agree to a frame.
        extinf = video.segments[index].duration
        assert extinf - 0.04 <= span + interval <= extinf + 0.5
    audio_done = [s for s in audio.segments if s.uri]
    for index, segment in enumerate(audio_done):
        path = write_segment(feed, audio, segment.uri, tmp_path / f"a{index}.mp4")
        [stream] = probe(path)["streams"]
        assert (stream["codec_name"], stream["sample_rate"]) == ("aac", "48000")
        assert decode_errors(path) == ""
        assert len(packet_times(path, "a")) * 1024 / 48_000 == pytest.approx(
            segment.duration, abs=0.03)
    # the same msn covers the same time in both renditions (a player switching lines up)
    starts = {s.uri.split("-")[1]: s.current_program_date_time for s in video.segments if s.uri}
    for segment in audio_done[1:]:
        msn = segment.uri.split("-")[1]
        if msn in starts:
            delta = (segment.current_program_date_time - starts[msn]).total_seconds()
            assert abs(delta) < 0.05
    hls_threads = [c for c in opened_codecs if c[2].startswith("hls-")]
    assert ("aac", "w", "hls-r") in hls_threads  # the spy sees the packager's encoders...
    assert not [c for c in hls_threads if c[1] == "w" and c[0] != "aac"]  # ...and no video one
    await plane.stop_hls("r")
    await publisher.close()
    ended = feed_of(plane)
    assert ended is feed and feed.ended
    text = feed.playlist("v0.m3u8", low_latency=True) or ""
    assert text.rstrip().endswith("#EXT-X-ENDLIST") and "PRELOAD-HINT" not in text
    # a player's view: ffmpeg's HLS demuxer follows index.m3u8 to the renditions and plays
    # them through, init segments and all
    index = dump(feed, tmp_path / "hls")
    assert sorted(s["codec_name"] for s in probe(index)["streams"]) == ["aac", "h264"]
    assert decode_errors(index) == ""


async def test_a_reconnect_is_a_discontinuity_and_the_end_an_endlist(plane: MediaPlane) -> None:
    first = await publish(plane, "r", "host", codec="h264", size=(320, 240))
    plane.start_hls(SPEC)
    feed = feed_of(plane)
    await until(lambda: len(segments(feed, "v0.m3u8")) >= 2, within=20)
    await plane.close(first.peer_id)  # it left: its Sources end
    await first.close()
    await asyncio.sleep(0.5)
    second = await publish(plane, "r", "host", codec="h264", size=(320, 240))
    await until(lambda: "#EXT-X-DISCONTINUITY\n" in (
        feed.playlist("v0.m3u8", low_latency=False) or ""), within=20)
    await until(lambda: "#EXT-X-DISCONTINUITY\n" in (
        feed.playlist("a0.m3u8", low_latency=False) or ""), within=20)
    text = feed.playlist("v0.m3u8", low_latency=False) or ""
    parsed = check_media_playlist(text, SPEC.part_s)
    after = [s for s in parsed.segments if s.discontinuity]
    assert after[0].init_section.uri == "v0-init1.mp4"  # a new map after the break
    await plane.close(second.peer_id)
    await second.close()
    # no video for 3 segment lengths: the broadcast ended by itself
    await until(lambda: feed.ended, within=3 * SPEC.segment_s + 5)
    assert plane.hls("r") is feed
    assert (feed.playlist("v0.m3u8", low_latency=True) or "").rstrip().endswith(
        "#EXT-X-ENDLIST")
    assert (feed.playlist("a0.m3u8", low_latency=True) or "").rstrip().endswith(
        "#EXT-X-ENDLIST")


async def test_a_blocking_reload_returns_when_the_part_appears(plane: MediaPlane) -> None:
    publisher = await publish(plane, "r", "host", codec="h264", size=(320, 240))
    plane.start_hls(SPEC)
    feed = feed_of(plane)
    await until(lambda: len(segments(feed, "v0.m3u8")) >= 1, within=20)
    now = media(feed, "v0.m3u8")
    hint = now.preload_hint.uri  # the next part: not there yet
    named = re.fullmatch(r"v0-(\d+)\.(\d+)\.m4s", hint)
    assert named is not None
    msn, part = int(named.group(1)), int(named.group(2))
    assert msn >= now.media_sequence and feed.blob(hint) is None
    assert f'URI="{hint}",' not in (feed.playlist("v0.m3u8", low_latency=True) or "")
    waiting = asyncio.ensure_future(feed.wait_blob(hint, 5.0))
    assert await feed.ready("v0.m3u8", msn, part, 5.0)
    after = media(feed, "v0.m3u8")
    uris = [p.uri for s in after.segments for p in s.parts]
    assert hint in uris
    blob = await waiting
    assert blob is not None and blob == feed.blob(hint)
    # far ahead (more than two segments): refused at once; unknown names: nothing to wait for
    assert not await feed.ready("v0.m3u8", msn + 5, None, 5.0)
    assert not await feed.ready("v9.m3u8", 0, None, 5.0)
    assert await feed.wait_blob("v0-0.99.m4s", 5.0) is None
    assert feed.playlist("nope.m3u8", low_latency=True) is None
    await publisher.close()


async def test_a_vp8_broadcast_is_transcoded_to_h264(plane: MediaPlane, tmp_path: Path) -> None:
    pytest.importorskip("streaming.hls.transcode")  # helper D's transcoder (issue 16 §2)
    publisher = await publish(plane, "r", "host", codec="vp8", size=(320, 240))
    plane.start_hls(HlsSpec("r", segment_s=1.0, part_s=0.25, ladder=(240, 120)))
    feed = feed_of(plane)
    await until(lambda: len(segments(feed, "v1.m3u8")) >= 2 and
                len(segments(feed, "v0.m3u8")) >= 2, within=30)
    master = m3u8.loads(feed.playlist("index.m3u8", low_latency=True) or "")
    assert [p.uri for p in master.playlists] == ["v0.m3u8", "v1.m3u8"]
    assert [p.stream_info.resolution[1] for p in master.playlists] == [240, 120]
    for name in ("v0.m3u8", "v1.m3u8"):
        video = media(feed, name)
        uri = next(s.uri for s in video.segments if s.uri)
        path = write_segment(feed, video, uri, tmp_path / f"{name}.mp4")
        assert [s["codec_name"] for s in probe(path)["streams"]] == ["h264"]
        assert decode_errors(path) == ""
    await publisher.close()


async def test_a_forum_program_is_transcoded_and_its_speakers_mixed(
        plane: MediaPlane, tmp_path: Path) -> None:
    pytest.importorskip("streaming.hls.transcode")
    first = await publish(plane, "f", "ann", codec="vp8", size=(320, 240))
    second = await publish(plane, "f", "bat", codec="h264", size=(320, 240))
    plane.start_hls(HlsSpec("f", program=True, segment_s=1.0, part_s=0.25, ladder=(240,)))
    feed = feed_of(plane, "f")
    await until(lambda: len(segments(feed, "v0.m3u8")) >= 2 and
                len(segments(feed, "a0.m3u8")) >= 2, within=30)
    master = m3u8.loads(feed.playlist("index.m3u8", low_latency=True) or "")
    assert [(m.uri, m.name) for m in master.media] == [("a0.m3u8", "program")]
    audio = media(feed, "a0.m3u8")
    uri = next(s.uri for s in audio.segments if s.uri)
    path = write_segment(feed, audio, uri, tmp_path / "a.mp4")
    assert [s["codec_name"] for s in probe(path)["streams"]] == ["aac"]
    for publisher in (first, second):
        await publisher.close()
