"""A node killed mid-recording (issue 15 §3): the file it leaves plays up to ~2 s before the
kill, and ``finalise`` makes it whole (duration, cues) - twice over, the same."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from streaming.recovery import finalise
from tests.streaming.media_probe import codecs, decode_errors, duration, packet_times

pytestmark = pytest.mark.timeout(90)
RECORDED_S = 5.0
LOST_AT_MOST_S = 2.5


@pytest.mark.parametrize(("codec", "name"), [("vp8", "alice.webm"), ("h264", "alice.mp4")])
async def test_a_killed_recording_plays_and_finalises(
    tmp_path: Path, codec: str, name: str
) -> None:
    directory = tmp_path / "rec_1"
    victim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.streaming.recording_victim", str(directory), codec,
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).parents[2],
    )
    assert victim.stdout is not None
    try:
        line = await asyncio.wait_for(victim.stdout.readline(), 60)
        assert line == b"recording\n"
        await asyncio.sleep(RECORDED_S)
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        await victim.wait()
    path = directory / name
    kept = max(packet_times(path, "v"))
    assert kept >= RECORDED_S - LOST_AT_MOST_S
    assert decode_errors(path, until_s=kept - 0.1) == ""

    [file] = await finalise(directory)
    assert (file.name, file.kind, file.participant, file.media_type) == (
        name, "participant", "alice", f"video/{path.suffix[1:]}")
    assert codecs(path) == [codec, "opus"]
    assert decode_errors(path) == ""
    assert duration(path) == pytest.approx(max(packet_times(path, "v")), abs=0.1)
    assert file.duration_s == pytest.approx(duration(path), abs=0.05)
    again = await finalise(directory)
    assert [(f.name, f.duration_s) for f in again] == [(file.name, file.duration_s)]
    assert max(packet_times(path, "v")) >= kept - 0.05
