"""Recordings of real aiortc publishers through the plane (issue 15 §1), checked with ffprobe
and ffmpeg: the files play, their times are right, reconnects and resolution changes continue
one file, H264 goes to MP4."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from config import MediaLimits
from streaming import (
    Capacity,
    MediaEvent,
    MediaPlane,
    RecordingEnded,
    RecordingSpec,
    UnknownRecording,
)
from tests.streaming.clients import publish, until
from tests.streaming.media_probe import (
    codecs,
    decode_errors,
    duration,
    frame_sizes,
    packet_times,
)

pytestmark = pytest.mark.timeout(60)


def spec(tmp_path: Path, room: str = "r", **kwargs: object) -> RecordingSpec:
    return RecordingSpec(f"rec_{room}", room, tmp_path / f"rec_{room}", **kwargs)  # type: ignore[arg-type]


def ended_events(plane: MediaPlane) -> list[RecordingEnded]:
    events: list[RecordingEnded] = []

    def heard(event: MediaEvent) -> None:
        if isinstance(event, RecordingEnded):
            events.append(event)

    plane.listen(heard)
    return events


def span(times: list[float]) -> float:
    return max(times) - min(times)


async def test_a_vp8_publisher_is_recorded_to_a_webm_that_plays(
    plane: MediaPlane, tmp_path: Path
) -> None:
    events = ended_events(plane)
    publisher = await publish(plane, "r", "alice")
    plane.start_recording(spec(tmp_path))
    assert plane.recording_of("r") == "rec_r"
    await until(lambda: any(f.bytes > 0 for f in plane.recording_files("rec_r")))
    await asyncio.sleep(4)
    ended = await plane.stop_recording("rec_r")
    await publisher.close()
    assert events == [ended]
    assert ended.reason == "" and plane.recording_of("r") is None
    [file] = ended.files
    assert (file.name, file.kind, file.participant, file.media_type) == (
        "alice.webm", "participant", "alice", "video/webm")
    path = tmp_path / "rec_r" / "alice.webm"
    assert file.bytes == path.stat().st_size
    assert codecs(path) == ["vp8", "opus"]
    assert decode_errors(path) == ""
    video, audio = packet_times(path, "v"), packet_times(path, "a")
    assert span(video) > 3
    # the times are the publisher's: 30 frames and 50 Opus packets a second, no drift
    assert span(video) == pytest.approx((len(video) - 1) / 30, rel=0.02)
    assert span(audio) == pytest.approx((len(audio) - 1) / 50, rel=0.02)
    assert duration(path) == pytest.approx(max(video + audio), rel=0.02)
    assert file.duration_s == pytest.approx(span(video + audio), abs=0.1)


async def test_a_publisher_that_comes_back_bigger_continues_its_file(
    plane: MediaPlane, tmp_path: Path
) -> None:
    first = await publish(plane, "r", "alice", size=(160, 120))
    plane.start_recording(spec(tmp_path))
    await until(lambda: any(f.bytes > 0 for f in plane.recording_files("rec_r")))
    await asyncio.sleep(1.5)
    await plane.close(first.peer_id)  # left: its Sources end
    await first.close()
    await asyncio.sleep(1)
    second = await publish(plane, "r", "alice", size=(320, 240))  # new Sources, same id
    await asyncio.sleep(1.5)
    ended = await plane.stop_recording("rec_r")
    await second.close()
    assert [f.name for f in ended.files] == ["alice.webm"]
    path = tmp_path / "rec_r" / "alice.webm"
    assert decode_errors(path) == ""
    video = packet_times(path, "v")
    gaps = [b - a for a, b in itertools.pairwise(video)]
    assert max(gaps) >= 0.9  # away for a second: the gap stays a gap in time
    assert span(video) > 3
    assert frame_sizes(path) == {(160, 120), (320, 240)}


async def test_an_h264_publisher_is_recorded_to_a_fragmented_mp4(
    plane: MediaPlane, tmp_path: Path
) -> None:
    publisher = await publish(plane, "r", "bob", codec="h264", size=(320, 240))
    plane.start_recording(spec(tmp_path))
    await until(lambda: any(f.bytes > 0 for f in plane.recording_files("rec_r")))
    await asyncio.sleep(2)
    ended = await plane.stop_recording("rec_r")
    await publisher.close()
    [file] = ended.files
    assert (file.name, file.media_type) == ("bob.mp4", "video/mp4")
    path = tmp_path / "rec_r" / "bob.mp4"
    assert codecs(path) == ["h264", "opus"]
    assert decode_errors(path) == ""
    assert span(packet_times(path, "v")) > 1.5


async def test_a_publisher_that_publishes_again_continues_its_file(
    plane: MediaPlane, tmp_path: Path
) -> None:
    first = await publish(plane, "r", "alice")
    plane.start_recording(spec(tmp_path))
    await until(lambda: any(f.duration_s > 1 for f in plane.recording_files("rec_r")))
    second = await publish(plane, "r", "alice")  # takes over the same Sources: a new SSRC
    await first.close()
    await asyncio.sleep(1.5)
    ended = await plane.stop_recording("rec_r")
    await second.close()
    assert [f.name for f in ended.files] == ["alice.webm"]
    path = tmp_path / "rec_r" / "alice.webm"
    assert decode_errors(path) == ""
    assert span(packet_times(path, "v")) > 1.4  # the second leg's 1.5 s, after the first's


async def test_the_plane_refuses_what_it_cannot_record(plane: MediaPlane, tmp_path: Path) -> None:
    plane.max_recordings = 1
    plane.start_recording(spec(tmp_path, "a"))
    with pytest.raises(ValueError, match="running already"):
        plane.start_recording(spec(tmp_path, "a"))
    with pytest.raises(Capacity, match="records 1 rooms already"):
        plane.start_recording(spec(tmp_path, "b"))
    with pytest.raises(UnknownRecording):
        await plane.stop_recording("rec_b")
    ended = await plane.stop_recording("rec_a")
    assert (ended.reason, ended.files) == ("", ())
    with pytest.raises(UnknownRecording):
        plane.recording_files("rec_a")


async def test_closing_the_plane_closes_its_recordings_whole(tmp_path: Path) -> None:
    plane = MediaPlane(MediaLimits(allow_loopback_candidates=True,
                                   allow_private_candidates=True))
    events = ended_events(plane)
    publisher = await publish(plane, "r", "alice")
    plane.start_recording(spec(tmp_path))
    await until(lambda: any(f.bytes > 0 for f in plane.recording_files("rec_r")))
    await asyncio.sleep(1)
    await plane.aclose()
    await publisher.close()
    assert [e.reason for e in events] == ["plane_closed"]
    path = tmp_path / "rec_r" / "alice.webm"
    assert decode_errors(path) == ""
    assert duration(path) == pytest.approx(max(packet_times(path, "v")), abs=0.1)  # trailer
