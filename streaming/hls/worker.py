"""PackagerWorker: one room's HLS packager thread (issue 16 §1, §2; docs/hls.md §1).

The loop hands it batches of what the taps heard (:mod:`streaming.hls.packager`); here each
packet goes through its track's depacketizer, each frame gets its time through the
publisher's sender reports (one :class:`~streaming.media_clock.ParticipantClock` per
participant, so audio and video stay aligned), and then:

* H264 video of the room's video publisher passes through: Annex B → AVCC samples, SPS/PPS
  into the init segment (a change of them is a new init and a discontinuity). No encoder.
* VP8 video (and a forum's program) goes through the transcoder (streaming/hls/transcode.py)
  when it is there; until then such a room has no HLS video.
* Opus becomes AAC-LC (:mod:`streaming.hls.aac`), one rendition per audio Source: the video
  publisher's is ``a0`` (the default), everyone else's the next index.

Finished parts and segments go back to the loop through ``call_soon_threadsafe``; nothing here
touches the loop's objects. A failing frame (a corrupt packet PyAV refuses) is logged and
skipped: one room's bad input never stops the thread.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import av

from streaming.audio_mix import AudioMix
from streaming.channels import channel_language
from streaming.depacketize.parameter_sets import parse_sps
from streaming.frames import Depacketizer, Frame
from streaming.hls.aac import OpusToAac
from streaming.hls.fmp4 import (
    AUDIO_TIMESCALE,
    VIDEO_TIMESCALE,
    AudioTrack,
    VideoTrack,
    avcc_sample,
    codec_string,
    init_segment,
    nal_units,
    parameter_sets,
)
from streaming.hls.segmenter import Published, Segmenter, SegmenterConfig, TimedSample
from streaming.hls.spec import HlsSpec
from streaming.media_clock import ParticipantClock, TrackClock
from streaming.recording_writer import Report, Speaker, Tapped, TrackClosed, TrackOpened

logger = logging.getLogger(__name__)
KEYFRAME_ASK_S = 0.5  # a video track waiting for a keyframe asks again this often
REORDER_STEPS = 3  # H264 whose times go back this often in REORDER_WINDOW frames has B-frames
REORDER_WINDOW = 30  # (a clock re-anchored backwards once, a reconnect, is not B-frames)
TRANSCODER = "streaming.hls.transcode"  # issue 16 §2: VP8 and a forum's program → H264
PROGRAM_AUDIO = ""  # the key of a forum's mixed audio among the audio renditions
# An interpretation channel's audio (issue 17) is never mixed into the program: its own
# rendition, which the master playlist tags with its LANGUAGE (streaming/hls/packager.py).


class Gap(NamedTuple):
    """The loop dropped a batch (the queue was full): every rendition breaks here."""


Item = TrackOpened | TrackClosed | Tapped | Report | Speaker | Gap


class Batch(NamedTuple):
    now: float
    items: list[Item]


@dataclass(frozen=True, slots=True)
class RenditionInfo:
    """What the master playlist says of a rendition (sent when its init segment changes)."""

    name: str  # "v0", "a1"
    kind: str
    codec: str
    label: str = ""  # audio: NAME (the participant for now)
    width: int = 0
    height: int = 0


class WorkerEvents(Protocol):
    """What the worker tells the loop (each called through ``call_soon_threadsafe``)."""

    def published(self, rendition: str, published: Published) -> None: ...
    def described(self, info: RenditionInfo) -> None: ...
    def want_keyframe(self, track: int) -> None: ...
    def finished(self) -> None: ...


@dataclass(slots=True)
class _Track:
    opened: TrackOpened
    depacketizer: Depacketizer
    clock: TrackClock
    ssrc: int = -1
    waiting_key: bool = True
    asked_at: float = -1e9


@dataclass(slots=True)
class _Rung:
    """One video rendition: H264 access units in (passed through or transcoded)."""

    name: str  # "v0", "v1"
    segmenter: Segmenter
    sets: tuple[bytes, bytes] | None = None


@dataclass(slots=True)
class _Audio:
    name: str
    participant: str
    segmenter: Segmenter
    encoder: OpusToAac = field(default_factory=OpusToAac)
    described: bool = False


class PackagerWorker:
    """The thread and its state; feed it with :meth:`put`, end it with :meth:`finish`."""

    def __init__(self, spec: HlsSpec, t0: float, depacketizers: Callable[[str], Depacketizer],
                 events: WorkerEvents, notify: Callable[..., object]) -> None:
        self.spec = spec
        self.t0 = t0  # the loop's clock at decode time 0
        self.epoch0 = time.time()  # the wall clock then (EXT-X-PROGRAM-DATE-TIME)
        self.depacketizers = depacketizers
        self.events = events
        self.notify = notify
        self.done = 0  # items handled (only this thread writes it)
        self._queue: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._tracks: dict[int, _Track] = {}
        self._clocks: dict[str, ParticipantClock] = {}
        self.video_participant: str | None = None
        self.rungs = [] if spec.audio_only else [self._rung(0)]
        # the leader: audio cuts where it cut (audio only: a0 leads itself)
        self.video = self.rungs[0].segmenter if self.rungs else None
        self._audio: dict[str, _Audio] = {}  # participant (or PROGRAM_AUDIO) -> rendition
        self._transcoder: Any = None  # streaming.hls.transcode.VideoTranscoder, made on need
        self._no_transcoder = False
        self._last_h264_s = -1.0  # the pass-through's last presentation time
        self._steps_back: deque[bool] = deque(maxlen=REORDER_WINDOW)  # went back, per frame
        self._reordered = False  # B-frames seen: the pass-through's H264 is transcoded
        self._mix: AudioMix | None = AudioMix() if spec.program else None
        self.thread = threading.Thread(target=self._run, name=f"hls-{spec.room}", daemon=True)

    def _rung(self, index: int) -> _Rung:
        name = f"v{index}"
        return _Rung(name, Segmenter(self._config(name, VIDEO_TIMESCALE, leader=True)))

    def _config(self, prefix: str, timescale: int, leader: bool) -> SegmenterConfig:
        spec = self.spec
        return SegmenterConfig(prefix, timescale, spec.part_s, spec.segment_s,
                               spec.window_segments, self.epoch0, leader)

    def start(self) -> None:
        self.thread.start()

    def put(self, batch: Batch) -> None:
        self._queue.put(batch)

    def finish(self) -> None:
        """No more batches: the playlists end once the queue is drained."""
        self._queue.put(None)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                for item in batch.items:
                    self._guarded(item)
                self.done += len(batch.items)
            self._flush()
            for rung in self.rungs:
                self._publish(rung.name, rung.segmenter.finish())
            for audio in self._audio.values():
                self._publish(audio.name, audio.segmenter.finish())
        finally:
            self.notify(self.events.finished)

    def _flush(self) -> None:
        """What the transcoder and the mix still hold goes out before the end."""
        try:
            if self._transcoder is not None:
                self._encoded(self._transcoder.close())
            if self._mix is not None:
                self._mixed(self._mix.close())
        except (ValueError, av.error.FFmpegError) as exc:
            logger.info("hls %s: flushing at the end: %s", self.spec.room, exc)

    def _guarded(self, item: Item) -> None:
        try:
            self._handle(item)
        except (ValueError, av.error.FFmpegError) as exc:  # bad media: skip it, keep serving
            logger.info("hls %s: dropped bad media: %s", self.spec.room, exc)
        except Exception:  # a bug must not leave a thread that never drains its queue
            logger.exception("hls %s: packager step failed", self.spec.room)

    def _handle(self, item: Item) -> None:
        if isinstance(item, Tapped):
            self._packet(item)
        elif isinstance(item, Report):
            track = self._tracks.get(item.track)
            if track is not None:
                track.clock.on_sender_report(item.ntp, item.rtp_ts, item.arrival)
        elif isinstance(item, TrackOpened):
            self._open(item)
        elif isinstance(item, TrackClosed):
            self._closed(item)
        elif isinstance(item, Gap):
            self._break()
        elif self._transcoder is not None and item.participant is not None:
            self._transcoder.select(item.participant)  # a forum's program follows the speaker

    def _closed(self, closed: TrackClosed) -> None:
        track = self._tracks.pop(closed.track, None)
        if (track is not None and self._mix is not None and track.opened.kind == "audio"
                and channel_language(track.opened.participant) is None):
            self._mixed(self._mix.end_track(str(closed.track)))

    def _open(self, opened: TrackOpened) -> None:
        clock = TrackClock(opened.clock_rate,
                           self._clocks.setdefault(opened.participant, ParticipantClock()))
        self._tracks[opened.track] = _Track(opened, self.depacketizers(opened.codec), clock,
                                            waiting_key=opened.kind == "video")
        if opened.kind == "video" and self.video_participant is None:
            self.video_participant = opened.participant
        if opened.kind == "video" and opened.participant == self.video_participant:
            self._break()  # a reconnect (or the start: a no-op then)

    def _break(self) -> None:
        """A discontinuity in every rendition (a reconnect, lost batches)."""
        for rung in self.rungs:
            published = rung.segmenter.restart()
            if published is not None:
                self._publish(rung.name, published)
        for audio in self._audio.values():
            published = audio.segmenter.restart()
            if published is not None:
                self._publish(audio.name, published)

    def _packet(self, tapped: Tapped) -> None:
        track = self._tracks.get(tapped.track)
        if track is None:
            return
        if tapped.header.ssrc != track.ssrc:  # a new RTP stream: its own timeline and start
            if track.ssrc != -1 and track.opened.kind == "video":
                self._break()
            track.ssrc = tapped.header.ssrc
            track.clock.restart()
            track.waiting_key = track.opened.kind == "video"
        for frame in track.depacketizer.push(tapped.data, tapped.header):
            self._frame(track, frame, tapped.arrival)
        if track.opened.kind == "video":
            self._maybe_ask_keyframe(track, tapped.arrival)

    def _frame(self, track: _Track, frame: Frame, arrival: float) -> None:
        if track.waiting_key:
            if not frame.keyframe:
                return
            track.waiting_key = False
        seconds = max(0.0, track.clock.time_of(frame.ts, arrival) - self.t0)
        opened = track.opened
        if (opened.kind == "audio" and self._mix is not None
                and channel_language(opened.participant) is None):
            self._mixed(self._mix.push(str(opened.track), frame.data, seconds))
        elif opened.kind == "audio":
            self._audio_frame(opened.participant, frame, seconds)
        elif self.spec.program:
            self._transcode(opened.participant, opened.codec, frame, seconds)
        elif opened.participant != self.video_participant:
            return  # a broadcast shows its video publisher
        elif opened.codec.lower() == "h264" and not self._reordered:
            self._pass_through(frame, seconds)
        elif opened.codec.lower() == "h264" or self.spec.transcode_vp8:
            self._transcode(opened.participant, opened.codec, frame, seconds)

    # -- video: H264 passes through; VP8 and a program are transcoded ------------------------

    def _pass_through(self, frame: Frame, seconds: float) -> None:
        """H264 as it arrives, unless its frames come in decode order with presentation times
        going back (B-frames: RTMP encoders, OBS's default): fMP4 pass-through writes no
        composition offsets, so such a stream goes through the transcoder instead (a new init
        and a discontinuity; a warning tells the operator to turn B-frames off)."""
        self._steps_back.append(seconds < self._last_h264_s)
        self._last_h264_s = seconds
        if sum(self._steps_back) >= REORDER_STEPS:
            self._reordered = True
            logger.warning("hls %s: the video carries B-frames: transcoded for HLS (set the "
                           "encoder's B-frames to 0 to save a CPU core)", self.spec.room)
            return
        self._annex_b(self.rungs[0], frame.data, frame.keyframe, seconds)

    def _annex_b(self, rung: _Rung, data: bytes, keyframe: bool, seconds: float) -> None:
        """One H264 access unit (Annex B) into ``rung``: SPS/PPS → its init, AVCC → samples."""
        units = nal_units(data)
        sets = parameter_sets(units) if keyframe else None
        if sets is not None and sets != rung.sets:
            sps = parse_sps(sets[0])
            rung.sets = sets
            track = VideoTrack(sets[0], sets[1], sps.width, sps.height)
            self._publish(rung.name, rung.segmenter.set_init(init_segment(track)))
            self.notify(self.events.described, RenditionInfo(
                rung.name, "video", codec_string(sets[0]), width=sps.width, height=sps.height))
        if rung.sets is None:
            return
        sample = TimedSample(avcc_sample(units), round(seconds * VIDEO_TIMESCALE), keyframe)
        published = rung.segmenter.push(sample)
        if published is not None:
            self._publish(rung.name, published)

    def _transcode(self, participant: str, codec: str, frame: Frame, seconds: float) -> None:
        transcoder = self._transcoder or self._new_transcoder()
        if transcoder is not None:
            self._encoded(transcoder.push(participant, codec.lower(), frame, seconds * 1000))

    def _new_transcoder(self) -> Any:
        """D's VideoTranscoder (issue 16 §2), or None where it is not installed yet."""
        if self._no_transcoder:
            return None
        try:
            module = importlib.import_module(TRANSCODER)
        except ImportError:
            logger.warning("hls %s: no transcoder: this room's HLS has no video", self.spec.room)
            self._no_transcoder = True
            return None
        self._transcoder = module.VideoTranscoder(self.spec.ladder, self.spec.preset,
                                                  self.spec.segment_s)
        return self._transcoder

    def _encoded(self, per_rung: list[list[Any]]) -> None:
        """The transcoder's output: ``Encoded`` access units per rung, in ladder order."""
        while len(self.rungs) < len(per_rung):
            self.rungs.append(self._rung(len(self.rungs)))
        for rung, units in zip(self.rungs, per_rung, strict=False):
            for unit in units:
                self._annex_b(rung, unit.data, unit.keyframe, unit.t_ms / 1000)

    def _maybe_ask_keyframe(self, track: _Track, now: float) -> None:
        """Segments end at keyframes: ask the publisher for one as a segment nears its length
        (WebRTC encoders send them only when asked), and while waiting for one. A transcoded
        rendition makes its own keyframes: its input needs one only to start or recover."""
        due = self._transcoder is None and self.video is not None and (
            self.video.segment_age >= self.spec.segment_s - self.spec.part_s)
        waiting = track.waiting_key or track.depacketizer.want_keyframe or (
            self._transcoder is not None and track.opened.kind == "video"
            and self._transcoder.wants_keyframe(track.opened.participant))
        if (due or waiting) and now - track.asked_at >= KEYFRAME_ASK_S:
            track.asked_at = now
            self.notify(self.events.want_keyframe, track.opened.track)

    # -- audio: Opus → AAC ---------------------------------------------------------------------

    def _mixed(self, frames: list[Frame]) -> None:
        """A forum's mixed Opus (48 kHz ticks on this feed's clock) → the main rendition."""
        for frame in frames:
            self._audio_frame(PROGRAM_AUDIO, frame, frame.ts / 48_000)

    def _audio_frame(self, participant: str, frame: Frame, seconds: float) -> None:
        if self.video_participant is None and not (self.spec.program or self.spec.audio_only):
            return  # the renditions are numbered once the video publisher is known
        audio = self._audio.get(participant)
        if audio is None:
            audio = self._new_audio(participant)
        for aac in audio.encoder.push(frame.data, seconds * 1000):
            if not audio.described:
                audio.described = True
                self._publish(audio.name, audio.segmenter.set_init(
                    init_segment(AudioTrack(audio.encoder.config))))
                self.notify(self.events.described, RenditionInfo(
                    audio.name, "audio", "mp4a.40.2", label=participant or "program"))
            dts = round(aac.t_ms * AUDIO_TIMESCALE / 1000)
            published = audio.segmenter.push(TimedSample(aac.data, max(0, dts), True))
            if published is not None:
                self._publish(audio.name, published)

    def _new_audio(self, participant: str) -> _Audio:
        taken = {a.name for a in self._audio.values()}
        first_voice = self.spec.audio_only and not self.spec.program and "a0" not in taken
        if participant in (self.video_participant, PROGRAM_AUDIO) or first_voice:
            name = "a0"
        else:
            name = next(f"a{n}" for n in range(1, len(taken) + 2) if f"a{n}" not in taken)
        if self.video is None:  # audio only: a0 cuts by itself, the others follow it
            leader = self._audio.get(PROGRAM_AUDIO) or next(iter(self._audio.values()), None)
            video = leader.segmenter.playlist() if leader is not None else None
        else:
            video = self.video.playlist()  # start in the video's segment (the cuts follow)
        first = 0 if video is None else (
            video.open.msn if video.open is not None else video.last_msn + 1)
        audio = _Audio(name, participant,
                       Segmenter(self._config(name, AUDIO_TIMESCALE, leader=name == "a0"
                                              and self.video is None),
                                 first_msn=max(0, first)))
        self._audio[participant] = audio
        return audio

    def _publish(self, rendition: str, published: Published) -> None:
        leads = "a0" if self.video is None else "v0"
        if rendition == leads and published.cut is not None:
            for audio in self._audio.values():
                if audio.name != rendition:
                    audio.segmenter.cut(published.cut)
        self.notify(self.events.published, rendition, published)
