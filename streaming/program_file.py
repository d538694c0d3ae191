"""ProgramFile: the program recording of a forum or meeting (issue 15 §4), in the writer thread.

Video: the active speaker's (the plane's ``SpeakerChanged``); without one, the first
participant publishing video, then the next in order of appearance when that one leaves. A
switch happens only at a keyframe of the new speaker's video (one is asked for when the
speaker changes), so the file never shows a broken picture; until it comes, the previous
speaker goes on. Video is never decoded, so every speaker must send the program's codec: a
speaker in another codec is skipped (logged once). Times are the recording's clock, so they
stay continuous across switches.

Audio: every audio track is decoded, mixed and encoded again (:mod:`streaming.audio_mix`).
The result goes through a :class:`ParticipantFile` named ``program`` (the same header wait,
parts and crash safety as any participant's file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from streaming.audio_mix import AudioMix
from streaming.file_ledger import FileLedger
from streaming.frames import Frame
from streaming.participant_file import ParticipantFile
from streaming.pcm_mixer import SAMPLE_RATE

logger = logging.getLogger(__name__)
PROGRAM = "program"
ASK_AGAIN_S = 0.5  # a publisher may drop a PLI that came soon after another


class ProgramFile:
    """``ask_keyframe(participant)``: request a keyframe of that participant's video."""

    def __init__(self, directory: Path, container: str, ledger: FileLedger,
                 ask_keyframe: Callable[[str], None]) -> None:
        self.file = ParticipantFile(PROGRAM, directory, container, ledger, kind=PROGRAM)
        self.ask_keyframe = ask_keyframe
        self.mix = AudioMix()
        self.speaker: str | None = None
        self.current: str | None = None  # whose video the program shows
        self.video_codec = ""
        self._videos: list[str] = []  # participants with live video, in order of appearance
        self._audios: set[str] = set()  # audio track keys
        self._skipped: set[str] = set()
        self._now = 0.0
        self._asked_at = -1e9

    # -- tracks and speakers ------------------------------------------------------------------

    def track_opened(self, participant: str, kind: str, codec: str, key: str) -> None:
        if kind == "video":
            if participant not in self._videos:
                self._videos.append(participant)
            self.video_codec = self.video_codec or codec
        else:
            self._audios.add(key)
        self._update_codecs()
        self._aim()

    def track_closed(self, participant: str, kind: str, key: str, still_live: bool) -> None:
        if kind == "video" and not still_live and participant in self._videos:
            self._videos.remove(participant)
            if self.current == participant:
                self.current = None  # the next one starts at its keyframe
        elif kind == "audio":
            self._audios.discard(key)
            self._write_audio(self.mix.end_track(key))
        self._update_codecs()
        self._aim()

    def speaker_changed(self, participant: str | None) -> None:
        self.speaker = participant
        self._aim()

    def wanted(self) -> str | None:
        """Whose video the program should show: the speaker if it has video, else the first
        participant with video in order of appearance."""
        if self.speaker in self._videos and self.speaker not in self._skipped:
            return self.speaker
        return next((p for p in self._videos if p not in self._skipped), None)

    def _aim(self, now: float | None = None) -> None:
        """Ask for the wanted video's keyframe (again every ``ASK_AGAIN_S`` while it waits)."""
        wanted = self.wanted()
        if wanted is None or wanted == self.current:
            return
        if now is None or now - self._asked_at >= ASK_AGAIN_S:
            self._asked_at = self._now if now is None else now
            self.ask_keyframe(wanted)

    def _update_codecs(self) -> None:
        codecs = {"video": self.video_codec} if self._videos else {}
        if self._audios:
            codecs["audio"] = "opus"
        self.file.codecs = codecs

    # -- frames -------------------------------------------------------------------------------

    def video(self, participant: str, codec: str, frame: Frame, ms: float, now: float) -> None:
        self._now = now
        if codec != self.video_codec:
            if participant not in self._skipped:
                logger.warning("program: %s sends %s, the program is %s: not shown",
                               participant, codec, self.video_codec)
                self._skipped.add(participant)
            return
        wanted = self.wanted()
        if participant != self.current:
            if participant != wanted or not frame.keyframe:
                return  # switch only at the new speaker's keyframe
            logger.info("program: video of %s from %.0f ms", participant, ms)
            self.current = participant
        self.file.add("video", codec, frame, ms, now)

    def audio(self, key: str, frame: Frame, ms: float, now: float) -> None:
        self._now = now
        self._write_audio(self.mix.push(key, frame.data, ms / 1000))

    def _write_audio(self, frames: list[Frame]) -> None:
        for mixed in frames:
            ms = mixed.ts * 1000 / SAMPLE_RATE
            self.file.add("audio", "opus", mixed, ms, self._now)

    def tick(self, now: float) -> None:
        self._aim(now)
        self.file.tick(now)

    def refresh(self) -> None:
        self.file.refresh()

    def close(self) -> None:
        self._write_audio(self.mix.close())
        self.file.close()
