"""The program file (issue 15 §4): two real aiortc publishers, the active speaker changes from
one to the other, and the program's video follows, switching at a keyframe of the new
speaker; the audio of both is mixed into one track."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streaming import MediaPlane, RecordingSpec, SpeakerChanged
from tests.streaming.clients import ToneTrack, publish, until
from tests.streaming.media_probe import codecs, decode_errors, video_frames

pytestmark = pytest.mark.timeout(60)
ANN, BOB = (160, 120), (320, 240)  # told apart by size in the decoded program


async def test_the_program_follows_the_speaker_at_a_keyframe(
    plane: MediaPlane, tmp_path: Path
) -> None:
    speakers: list[str | None] = []
    plane.listen(lambda e: speakers.append(e.participant)
                 if isinstance(e, SpeakerChanged) else None)
    ann_voice, bob_voice = ToneTrack(0.5), ToneTrack(0.0)
    ann = await publish(plane, "hall", "ann", size=ANN, audio_track=ann_voice)
    bob = await publish(plane, "hall", "bob", size=BOB, audio_track=bob_voice)
    plane.start_recording(RecordingSpec("rec_p", "hall", tmp_path / "rec_p", program=True))
    await until(lambda: speakers[-1:] == ["ann"])
    await asyncio.sleep(1.5)
    ann_voice.amplitude, bob_voice.amplitude = 0.0, 0.4
    await until(lambda: speakers[-1:] == ["bob"])
    await asyncio.sleep(2)
    ended = await plane.stop_recording("rec_p")
    await ann.close()
    await bob.close()
    assert sorted((f.name, f.kind) for f in ended.files) == [
        ("ann.webm", "participant"), ("bob.webm", "participant"), ("program.webm", "program")]
    path = tmp_path / "rec_p" / "program.webm"
    assert codecs(path) == ["vp8", "opus"]
    assert decode_errors(path) == ""
    frames = video_frames(path)
    sizes = [(w, h) for _, w, h, _ in frames]
    assert sizes[0] == ANN
    switch = sizes.index(BOB)
    assert set(sizes[:switch]) == {ANN} and set(sizes[switch:]) == {BOB}  # one switch
    assert frames[switch][3]  # at a keyframe of the new speaker
    times = [t for t, *_ in frames]
    assert times == sorted(times)
