"""Segmenter: one rendition's timed samples in, LL-HLS parts and segments out (issue 16 §1).

A pure state machine (no clock, no I/O) for the packager thread. Each sample is held until
the next one arrives, which gives its duration. Then:

* a **part** closes once it spans ``part_s`` (RFC 8216bis §4.4.4.9: parts no longer than the
  part target), its bytes one CMAF fragment (``moof`` + ``mdat``);
* a **segment** of the *leader* (the video rendition, or audio when there is no video) closes
  at the first keyframe at least ``segment_s`` after its start, so every segment starts with
  an independent part; its bytes are its parts' fragments one after the other (a CMAF
  segment may hold several fragments, so parts and segment share their bytes);
* a *follower* (an audio rendition beside video) cuts where the leader cut (:meth:`cut`): the
  same media sequence number spans the same time in every rendition, so a player switching
  renditions lines up (§6.2.4);
* :meth:`restart` (a publisher reconnect, new SPS/PPS) ends the segment at the next sample,
  with a new init segment and ``EXT-X-DISCONTINUITY`` before the next one (§4.4.4.3).

Only the last ``window`` segments are listed; blobs of older ones are dropped (one extra
segment is kept a little longer for players still fetching it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from streaming.hls.fmp4 import Sample, fragment
from streaming.hls.playlist import (
    LL_PARTS_OF,
    MediaPlaylist,
    OpenSegment,
    Part,
    Segment,
    target_duration,
)

KEEP_EXTRA = 1  # segments kept as blobs beyond the listed window


@dataclass(frozen=True, slots=True)
class TimedSample:
    """A sample as it goes into a fragment, with its decode time (track timescale, from the
    feed's start)."""

    data: bytes
    dts: int
    keyframe: bool


@dataclass(frozen=True, slots=True)
class Cut:
    """Where the leader started segment ``msn``: decode time ``seconds`` from the feed's
    start; ``discontinuity``: that segment follows a break."""

    msn: int
    seconds: float
    discontinuity: bool


@dataclass(frozen=True, slots=True)
class Published:
    """What one step published: blobs to add, blob names to drop, the playlist now, the
    leader's cut when a segment started (followers align to it), the bit rates measured."""

    playlist: MediaPlaylist
    blobs: tuple[tuple[str, bytes], ...]
    dropped: tuple[str, ...]
    cut: Cut | None
    peak_bps: int
    average_bps: int


@dataclass(slots=True)
class _Building:
    """The open segment: its finished parts and the samples of the part being built."""

    msn: int
    start_dts: int
    init: str
    discontinuity: bool
    parts: list[Part] = field(default_factory=list)
    fragments: list[bytes] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    part_dts: int = 0
    part_key: bool = False


@dataclass(frozen=True, slots=True)
class SegmenterConfig:
    prefix: str  # "v0", "a1": names are {prefix}-{msn}.m4s ...
    timescale: int
    part_s: float
    segment_s: float
    window: int
    epoch0: float  # wall clock (epoch seconds) at decode time 0
    leader: bool = True


class Segmenter:
    """Parts and segments of one rendition; every method returns what it published."""

    def __init__(self, config: SegmenterConfig, first_msn: int = 0) -> None:
        self.config = config
        self.part_ticks = round(config.part_s * config.timescale)
        self.segment_ticks = round(config.segment_s * config.timescale)
        self._init = ""
        self._init_data = b""
        self._inits = 0
        self._next_msn = first_msn
        self._seq = 0
        self._pending: TimedSample | None = None
        self._last_duration = 0
        self._open: _Building | None = None
        self._break = False
        self._cuts: deque[Cut] = deque(maxlen=8)
        self._segments: deque[Segment] = deque()
        self._sizes: dict[int, int] = {}
        self._durations: list[float] = []
        self._discontinuity_seq = 0
        self._ended = False
        self._dropped: list[str] = []
        self._blobs: list[tuple[str, bytes]] = []
        self._cut: Cut | None = None

    @property
    def waiting_for_key(self) -> bool:
        """Nothing can start until a keyframe comes (the start, or after a break)."""
        return self._open is None

    @property
    def segment_age(self) -> float:
        """Seconds since the open segment began (0 when none): the packager asks the
        publisher for a keyframe as the segment nears its length."""
        if self._open is None or self._pending is None:
            return 0.0
        return (self._pending.dts - self._open.start_dts) / self.config.timescale

    def set_init(self, data: bytes) -> Published:
        """A new init segment; after the first one, a break: the next segment is a new
        ``EXT-X-MAP`` after ``EXT-X-DISCONTINUITY``."""
        name = f"{self.config.prefix}-init{self._inits}.mp4"
        self._inits += 1
        if self._init and self._pending is not None:
            self._break = True
        self._init = name
        self._init_data = data
        self._blobs.append((name, data))
        return self._publish()

    def restart(self) -> Published | None:
        """A break (a reconnect): the same init under a new name, so the next segment gets a
        new ``EXT-X-MAP`` after its ``EXT-X-DISCONTINUITY``; None before anything started."""
        if self._pending is None or self._break:
            return None
        return self.set_init(self._init_data)

    def cut(self, cut: Cut) -> None:
        """(Follower) the leader started segment ``cut.msn`` at ``cut.seconds``."""
        self._cuts.append(cut)

    def push(self, sample: TimedSample) -> Published | None:
        """Add a sample; a Published when a part (and maybe a segment) closed."""
        if not self._init or self._ended:
            return None
        previous = self._pending
        if previous is None:
            return self._first(sample)
        if sample.dts <= previous.dts and not self._break:
            return None  # out of order or a duplicate: a fragment's times must increase
        closing = self._closes_segment(sample)
        duration = (self._last_duration or 1) if closing and self._break else (
            sample.dts - previous.dts)
        self._add(previous, max(1, min(duration, self._room_for(previous))))
        self._pending = sample
        if closing is not None:
            self._close_segment(sample, closing)
        elif self._open is not None and self._part_full(sample):
            self._close_part()
        else:
            return None
        return self._publish()

    def finish(self) -> Published:
        """The end: the held sample and the open part close, the playlist gets ENDLIST."""
        if self._pending is not None and self._open is not None:
            self._add(self._pending, self._last_duration or self.part_ticks)
            self._close_part()
            self._close_open()
        self._pending = None
        self._ended = True
        return self._publish()

    # -- steps ---------------------------------------------------------------------------------

    def _first(self, sample: TimedSample) -> Published | None:
        if not sample.keyframe:
            return None  # a segment starts with a keyframe
        cut = None
        while self._cuts and not self.config.leader:
            cut = self._cuts.popleft()  # the leader's latest segment: start there
        if cut is not None:
            self._next_msn = cut.msn
        self._start(sample.dts, cut is not None and cut.discontinuity)
        self._pending = sample
        return None

    def _start(self, dts: int, discontinuity: bool) -> None:
        self._open = _Building(self._next_msn, dts, self._init, discontinuity or self._break,
                               part_dts=dts)
        self._next_msn += 1
        self._break = False
        if self.config.leader:
            self._cut = Cut(self._open.msn, dts / self.config.timescale,
                            self._open.discontinuity)

    def _closes_segment(self, sample: TimedSample) -> Cut | None:
        """The cut that ``sample`` starts, if it starts a segment."""
        building = self._open
        if building is None:
            return None
        if self.config.leader:
            long_enough = sample.dts - building.start_dts >= self.segment_ticks
            if sample.keyframe and (self._break or long_enough):
                return Cut(self._next_msn, sample.dts / self.config.timescale, self._break)
            return None
        while self._cuts and self._cuts[0].msn <= building.msn:
            self._cuts.popleft()  # a cut this rendition started at already
        if self._cuts and sample.dts >= self._cuts[0].seconds * self.config.timescale:
            return self._cuts.popleft()
        return None

    def _room_for(self, sample: TimedSample) -> int:
        """The most ``sample`` may last in its part. A gap (lost frames, a stalled publisher)
        would stretch the sample before it past the part target: it is cut there, and the
        next part starts at its own decode time (``tfdt``) after the hole."""
        building = self._open
        if building is None or not building.samples:
            return self.part_ticks
        return self.part_ticks - (sample.dts - building.part_dts)

    def _part_full(self, sample: TimedSample) -> bool:
        """Whether ``sample`` (of about the last sample's duration) would overrun the part
        target: parts never exceed it (RFC 8216bis §4.4.4.9)."""
        building = self._open
        assert building is not None
        return sample.dts + self._last_duration - building.part_dts > self.part_ticks

    def _add(self, sample: TimedSample, duration: int) -> None:
        building = self._open
        if building is None:
            return
        if not building.samples:
            building.part_dts = sample.dts
            building.part_key = sample.keyframe
        building.samples.append(Sample(sample.data, duration, sample.keyframe))
        self._last_duration = duration

    def _close_part(self) -> None:
        building = self._open
        if building is None or not building.samples:
            return
        self._seq += 1
        data = fragment(self._seq, 1, building.part_dts, building.samples)
        duration = sum(s.duration for s in building.samples) / self.config.timescale
        name = f"{self.config.prefix}-{building.msn}.{len(building.parts)}.m4s"
        building.parts.append(Part(name, duration, building.part_key))
        building.fragments.append(data)
        building.samples = []
        self._blobs.append((name, data))

    def _close_segment(self, sample: TimedSample, cut: Cut) -> None:
        self._close_part()
        self._close_open()
        if not self.config.leader:
            self._next_msn = cut.msn
        self._start(sample.dts, cut.discontinuity)

    def _close_open(self) -> None:
        building = self._open
        self._open = None
        if building is None or not building.parts:
            return
        name = f"{self.config.prefix}-{building.msn}.m4s"
        duration = sum(p.duration for p in building.parts)
        start = self.config.epoch0 + building.start_dts / self.config.timescale
        data = b"".join(building.fragments)
        self._segments.append(Segment(building.msn, name, duration, start, building.init,
                                      building.discontinuity, tuple(building.parts)))
        self._sizes[building.msn] = len(data)
        self._durations.append(duration)
        self._blobs.append((name, data))
        self._forget()

    def _forget(self) -> None:
        """Keep ``window`` segments listed; drop the blobs of what fell out of it."""
        if len(self._segments) > LL_PARTS_OF:
            old = self._segments[-LL_PARTS_OF - 1]
            self._dropped += [p.name for p in old.parts]
        while len(self._segments) > self.config.window:
            gone = self._segments.popleft()
            if gone.discontinuity:
                self._discontinuity_seq += 1
            self._sizes.pop(gone.msn, None)
            stale = gone.msn - KEEP_EXTRA
            self._dropped.append(f"{self.config.prefix}-{stale}.m4s")
        inits = {s.init for s in self._segments} | {self._init}
        self._dropped += [f"{self.config.prefix}-init{k}.mp4" for k in range(self._inits)
                          if f"{self.config.prefix}-init{k}.mp4" not in inits]

    def _publish(self) -> Published:
        blobs, self._blobs = tuple(self._blobs), []
        dropped, self._dropped = tuple(dict.fromkeys(self._dropped)), []
        cut, self._cut = self._cut, None
        return Published(self.playlist(), blobs, dropped, cut, *self._rates())

    def _rates(self) -> tuple[int, int]:
        rates = [self._sizes[s.msn] * 8 / s.duration for s in self._segments
                 if s.msn in self._sizes and s.duration > 0]
        if not rates:
            return 0, 0
        return round(max(rates)), round(sum(rates) / len(rates))

    def playlist(self) -> MediaPlaylist:
        building = self._open
        opened = None
        if building is not None and not self._ended:
            start = self.config.epoch0 + building.start_dts / self.config.timescale
            hint = f"{self.config.prefix}-{building.msn}.{len(building.parts)}.m4s"
            opened = OpenSegment(building.msn, start, building.init, building.discontinuity,
                                 tuple(building.parts), hint)
        return MediaPlaylist(tuple(self._segments), opened,
                             target_duration(self._durations, self.config.segment_s),
                             self.config.part_s, self._discontinuity_seq, self._ended)
