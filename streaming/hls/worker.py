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

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import av

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
        self.video = Segmenter(self._config("v0", VIDEO_TIMESCALE, leader=True))
        self._sets: tuple[bytes, bytes] | None = None
        self._audio: dict[str, _Audio] = {}  # participant -> rendition
        self.thread = threading.Thread(target=self._run, name=f"hls-{spec.room}", daemon=True)

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
            self._publish("v0", self.video.finish())
            for audio in self._audio.values():
                self._publish(audio.name, audio.segmenter.finish())
        finally:
            self.notify(self.events.finished)

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
            self._tracks.pop(item.track, None)
        elif isinstance(item, Gap):
            self._break()

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
        published = self.video.restart()
        if published is not None:
            self._publish("v0", published)
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
        if opened.kind == "audio":
            self._audio_frame(opened.participant, frame, seconds)
        elif opened.participant == self.video_participant and opened.codec.lower() == "h264":
            self._h264(frame, seconds)

    # -- video: H264 passes through ------------------------------------------------------------

    def _h264(self, frame: Frame, seconds: float) -> None:
        units = nal_units(frame.data)
        sets = parameter_sets(units) if frame.keyframe else None
        if sets is not None and sets != self._sets:
            sps = parse_sps(sets[0])
            self._sets = sets
            track = VideoTrack(sets[0], sets[1], sps.width, sps.height)
            self._publish("v0", self.video.set_init(init_segment(track)))
            self.notify(self.events.described, RenditionInfo(
                "v0", "video", codec_string(sets[0]), width=sps.width, height=sps.height))
        if self._sets is None:
            return
        sample = TimedSample(avcc_sample(units), round(seconds * VIDEO_TIMESCALE),
                             frame.keyframe)
        published = self.video.push(sample)
        if published is not None:
            self._publish("v0", published)

    def _maybe_ask_keyframe(self, track: _Track, now: float) -> None:
        """Segments end at keyframes: ask the publisher for one as a segment nears its length
        (WebRTC encoders send them only when asked), and while waiting for one."""
        due = self.video.segment_age >= self.spec.segment_s - self.spec.part_s
        waiting = track.waiting_key or track.depacketizer.want_keyframe
        if (due or waiting) and now - track.asked_at >= KEYFRAME_ASK_S:
            track.asked_at = now
            self.notify(self.events.want_keyframe, track.opened.track)

    # -- audio: Opus → AAC ---------------------------------------------------------------------

    def _audio_frame(self, participant: str, frame: Frame, seconds: float) -> None:
        if self.video_participant is None:
            return  # the renditions are numbered once the video publisher is known
        audio = self._audio.get(participant)
        if audio is None:
            audio = self._new_audio(participant)
        for aac in audio.encoder.push(frame.data, seconds * 1000):
            if not audio.described:
                audio.described = True
                self._publish(audio.name, audio.segmenter.set_init(
                    init_segment(AudioTrack(audio.encoder.config))))
                self.notify(self.events.described,
                            RenditionInfo(audio.name, "audio", "mp4a.40.2", label=participant))
            dts = round(aac.t_ms * AUDIO_TIMESCALE / 1000)
            published = audio.segmenter.push(TimedSample(aac.data, max(0, dts), True))
            if published is not None:
                self._publish(audio.name, published)

    def _new_audio(self, participant: str) -> _Audio:
        taken = {a.name for a in self._audio.values()}
        if participant == self.video_participant:
            name = "a0"
        else:
            name = next(f"a{n}" for n in range(1, len(taken) + 2) if f"a{n}" not in taken)
        video = self.video.playlist()  # start in the video's segment (the cuts follow)
        first = video.open.msn if video.open is not None else video.last_msn + 1
        audio = _Audio(name, participant,
                       Segmenter(self._config(name, AUDIO_TIMESCALE, leader=False),
                                 first_msn=max(0, first)))
        self._audio[participant] = audio
        return audio

    def _publish(self, rendition: str, published: Published) -> None:
        if rendition == "v0" and published.cut is not None:
            for audio in self._audio.values():
                audio.segmenter.cut(published.cut)
        self.notify(self.events.published, rendition, published)
