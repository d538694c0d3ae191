"""Issue 17 §7: a recording keeps each interpretation channel as its own file (its own audio
track), and the program (the floor mixed, issue 15 §4) never carries an interpreter. A real
floor publisher sending 440 Hz and a real interpreter sending 660 Hz into the zh channel; the
files are decoded and their tones measured (tests/interpretation/peers.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from streaming import MediaPlane, RecordingSpec
from tests.interpretation.peers import SineTrack, Talker, loudest
from tests.streaming.clients import publish, until

pytestmark = pytest.mark.timeout(60)


def tones(path: Path) -> list[int | None]:
    """The tone of each decoded audio frame of ``path`` (mono s16 at 48 kHz)."""
    found: list[int | None] = []
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for mono in resampler.resample(frame):
                data = bytes(mono.planes[0])[: mono.samples * 2]
                samples = [int.from_bytes(data[i:i + 2], "little", signed=True)
                           for i in range(0, len(data), 2)]
                found.append(loudest(samples))
    return found


async def test_a_channel_is_its_own_file_and_never_in_the_program(
    plane: MediaPlane, tmp_path: Path
) -> None:
    floor = await publish(plane, "hall", "ann", audio_track=SineTrack(440))
    voice = Talker(660)
    answer = await plane.publish("hall", "booth-zh", await voice.offer(), "zh")
    await voice.accept(answer.sdp)
    await until(lambda: "channel:zh" in plane.sources.get("hall", {})
                and plane.sources["hall"]["channel:zh"].packets > 20)
    plane.start_recording(RecordingSpec("rec_i", "hall", tmp_path / "rec_i", program=True))
    await asyncio.sleep(3)
    ended = await plane.stop_recording("rec_i")
    await voice.close()
    await floor.close()
    assert sorted((f.name, f.kind) for f in ended.files) == [
        ("ann.webm", "participant"), ("channel_zh.webm", "participant"),
        ("program.webm", "program")]
    folder = tmp_path / "rec_i"
    channel, program = tones(folder / "channel_zh.webm"), tones(folder / "program.webm")
    assert channel.count(660) > 0.8 * len(channel) > 50, channel
    assert 660 not in program and program.count(440) > 0.8 * len(program) > 50, program
