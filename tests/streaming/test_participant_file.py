"""ParticipantFile and Muxer: frames into playable files, checked with ffprobe and ffmpeg."""

from __future__ import annotations

import functools
import math
import struct
from pathlib import Path

import av
import pytest

from streaming.file_ledger import FileLedger
from streaming.frames import Frame
from streaming.muxer import container_for
from streaming.participant_file import HEADER_WAIT_S, ParticipantFile
from tests.streaming.clients import clip
from tests.streaming.media_probe import codecs, decode_errors, duration, probe


@functools.cache
def opus_frames(count: int) -> tuple[bytes, ...]:
    """``count`` 20 ms Opus packets of a 440 Hz tone."""
    ctx = av.CodecContext.create("libopus", "w")
    ctx.sample_rate = 48000
    ctx.layout = "mono"
    ctx.format = "s16"
    out: list[bytes] = []
    for index in range(count):
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        values = (round(8000 * math.sin(2 * math.pi * 440 * (index * 960 + n) / 48000))
                  for n in range(960))
        frame.planes[0].update(struct.pack("<960h", *values))
        frame.sample_rate = 48000
        frame.pts = index * 960
        out.extend(bytes(p) for p in ctx.encode(frame))
    return tuple(out)


def video_frames(codec: str, count: int, size: tuple[int, int] = (160, 120)) -> list[Frame]:
    data = clip(codec, frames=count, gop=30, size=size)
    return [Frame(d, i * 3000, i % 30 == 0) for i, d in enumerate(data)]


def feed(file: ParticipantFile, start_ms: int, video: list[Frame], audio: int,
         codec: str = "vp8") -> None:
    """Interleave ``video`` at 30 fps and ``audio`` Opus frames at 50/s from ``start_ms``."""
    events = [(start_ms + i * 1000 // 30, "video", f) for i, f in enumerate(video)]
    events += [(start_ms + i * 20, "audio", Frame(d, i * 960, True))
               for i, d in enumerate(opus_frames(audio))]
    for ms, kind, frame in sorted(events, key=lambda e: (e[0], e[1])):
        file.add(kind, codec if kind == "video" else "opus", frame, ms, ms / 1000)


def test_vp8_and_opus_make_one_webm(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path)
    file = ParticipantFile("alice", tmp_path, "auto", ledger)
    file.codecs = {"video": "vp8", "audio": "opus"}
    feed(file, 0, video_frames("vp8", 90), 150)
    assert file.muxer is not None and file.muxer.opened_codecs() == []  # no encoder, no decoder
    file.close()
    path = tmp_path / "alice.webm"
    assert codecs(path) == ["vp8", "opus"]
    assert duration(path) == pytest.approx(3.0, rel=0.02)
    assert decode_errors(path) == ""
    assert [(f.name, f.media_type) for f in ledger.files()] == [("alice.webm", "video/webm")]


def test_h264_makes_a_fragmented_mp4(tmp_path: Path) -> None:
    file = ParticipantFile("bob", tmp_path, "auto", FileLedger(tmp_path))
    file.codecs = {"video": "h264", "audio": "opus"}
    feed(file, 0, video_frames("h264", 60), 100, codec="h264")
    assert file.muxer is not None and file.muxer.opened_codecs() == []
    file.close()
    path = tmp_path / "bob.mp4"
    assert codecs(path) == ["h264", "opus"]
    assert probe(path)["streams"][0]["width"] == 160
    assert decode_errors(path) == ""


def test_a_kind_that_comes_late_starts_the_next_part(tmp_path: Path) -> None:
    file = ParticipantFile("carol", tmp_path, "auto", FileLedger(tmp_path))
    file.codecs = {"audio": "opus"}
    feed(file, 0, [], 50)  # audio only: the header is written without waiting
    file.codecs["video"] = "vp8"
    feed(file, 1000, video_frames("vp8", 30), 50)
    file.close()
    assert codecs(tmp_path / "carol.webm") == ["opus"]
    assert codecs(tmp_path / "carol-2.webm") == ["vp8", "opus"]


def test_the_header_waits_for_the_second_kind_only_so_long(tmp_path: Path) -> None:
    file = ParticipantFile("dan", tmp_path, "auto", FileLedger(tmp_path))
    file.codecs = {"video": "vp8", "audio": "opus"}
    feed(file, 0, [], round(HEADER_WAIT_S * 50) - 5)
    assert file.muxer is None  # still waiting for the camera
    feed(file, 2000, [], 20)
    assert file.muxer is not None
    file.close()
    assert codecs(tmp_path / "dan.webm") == ["opus"]


def test_a_resolution_change_and_a_gap_continue_the_file(tmp_path: Path) -> None:
    file = ParticipantFile("eve", tmp_path, "auto", FileLedger(tmp_path))
    file.codecs = {"video": "vp8", "audio": "opus"}
    feed(file, 0, video_frames("vp8", 30), 50)
    feed(file, 3000, video_frames("vp8", 30, size=(320, 240)), 50)  # came back bigger
    file.close()
    path = tmp_path / "eve.webm"
    assert not (tmp_path / "eve-2.webm").exists()
    assert duration(path) == pytest.approx(4.0, abs=0.1)
    assert decode_errors(path) == ""


@pytest.mark.parametrize(("codecs", "forced", "chosen"), [
    (["vp8", "opus"], "auto", "webm"),
    (["h264", "opus"], "auto", "mp4"),
    (["vp8", "opus"], "mp4", "webm"),  # MP4 takes no VP8
    (["h264"], "webm", "mp4"),  # WebM takes no H264
    (["opus"], "mp4", "mp4"),
    (["opus"], "auto", "webm"),
])
def test_the_container_is_forced_only_where_the_codecs_allow(
    codecs: list[str], forced: str, chosen: str
) -> None:
    assert container_for(codecs, forced) == chosen
