"""HlsPackager: one room's live HLS, on the event loop side (issue 16 §1, §5; docs/hls.md §1).

It taps the best layer of every video Source and every audio Source of the room, now and as
they appear (:meth:`HlsPackager.add_source`), exactly as a recording does
(:mod:`streaming.recorder`): one tuple appended per packet on the hot loop, a batch every
``BATCH_S`` to the packager thread (:mod:`streaming.hls.worker`). The queue is bounded: when the
thread is more than ``spec.queue_items`` behind, the batch is dropped and a :class:`Gap` marks
a discontinuity; the loop never waits.

What the thread publishes lands here (``call_soon_threadsafe``): playlists as immutable
snapshots, blobs in a dict, and one future that every waiter of a blocking reload or preload
hint awaits (woken on each publication, never polled). Rendered playlists are cached per
(version, name, low latency, query), so a thousand viewers of a part cost one rendering.

The end (§5): :meth:`stop`, or no video Source for ``3 × segment_s``, drains the thread and
publishes ``EXT-X-ENDLIST``; the plane keeps an ended feed servable for a while. With
``spec.archive`` every segment is also written to disk and a VOD playlist closes it
(:mod:`streaming.hls.archive`): the replay's start, told to the plane as ``archived``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable

from streaming.channels import NATIVE_NAMES, channel_language
from streaming.frames import Depacketizer
from streaming.hls.archive import Archived, HlsArchive
from streaming.hls.feed import AUDIO_MP4, MP4, Blob
from streaming.hls.playlist import (
    AudioRendition,
    MediaPlaylist,
    VideoRendition,
    render_audio_master,
    render_master,
    render_media,
)
from streaming.hls.segmenter import Published
from streaming.hls.spec import HlsSpec
from streaming.hls.worker import Batch, Gap, Item, PackagerWorker, RenditionInfo
from streaming.recording_writer import Report, Speaker, Tapped, TrackClosed, TrackOpened
from streaming.rtp_header import RtpHeader
from streaming.source import Source

logger = logging.getLogger(__name__)
BATCH_S = 0.05
FINISH_TIMEOUT_S = 10.0
IDLE_SEGMENTS = 3  # no video Source for this many segment lengths: the broadcast ended
AHEAD_SEGMENTS = 2  # RFC 8216bis §6.2.5.2: a request further ahead than this is refused
CACHE_LIMIT = 256
AUDIO_BPS = 140_000  # an audio-only variant's BANDWIDTH before one is measured (128k AAC + boxes)
PLAYLIST_NAME = re.compile(r"([va]\d+)\.m3u8")
MEDIA_NAME = re.compile(r"([va]\d+)-(\d+)(?:\.(\d+))?\.m4s")


class HlsTap:
    """A :class:`~streaming.tap.PacketTap` of one Source layer for one room's HLS."""

    def __init__(self, packager: HlsPackager, track: int, source: Source) -> None:
        self.packager = packager
        self.track = track
        self.source = source
        self.index = 0

    def on_rtp(self, data: bytes, h: RtpHeader) -> None:
        self.packager.buffer.append(Tapped(self.track, self.packager.loop.time(), data, h))

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        self.packager.buffer.append(Report(self.track, self.packager.loop.time(), ntp, rtp_ts))

    def on_end(self) -> None:
        self.packager.source_ended(self)


class HlsPackager:
    """One room's :class:`~streaming.hls.feed.HlsFeed`; ``on_end`` hears it once it ended."""

    def __init__(self, spec: HlsSpec, depacketizers: Callable[[str], Depacketizer],
                 on_end: Callable[[HlsPackager], None]) -> None:
        self.spec = spec
        self.room = spec.room
        self.loop = asyncio.get_running_loop()
        self.on_end = on_end
        self.buffer: list[Item] = []
        self.sent = 0
        self.dropped_batches = 0
        self.taps: dict[int, HlsTap] = {}
        self._next_track = 0
        self._media: dict[str, MediaPlaylist] = {}
        self._blobs: dict[str, Blob] = {}
        self._info: dict[str, RenditionInfo] = {}
        self._rates: dict[str, tuple[int, int]] = {}
        self._cache: dict[tuple[str, bool, str], str] = {}
        self._changed: asyncio.Future[None] = self.loop.create_future()
        self._ended = False
        self._stopping = False
        self._idle: asyncio.TimerHandle | None = None
        self._stop_task: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        self.archive = HlsArchive(spec.archive, spec.room) if spec.archive is not None else None
        self.archived: Archived | None = None  # once stopped, what the replay got
        self.worker = PackagerWorker(spec, self.loop.time(), depacketizers, self,
                                     self.loop.call_soon_threadsafe)
        self.worker.start()
        self._pump = self.loop.create_task(self._pump_batches())
        self._arm_idle()

    # -- sources -------------------------------------------------------------------------------

    def add_source(self, source: Source) -> None:
        """Package ``source`` (its best layer for video) from now on."""
        if self._stopping or source.ended.is_set():
            return
        if self.spec.audio_only and source.kind == "video":
            return  # an audio-only feed stays so; the link starts a full one (docs/hls.md §3)
        participant = source.source_id.rsplit("/", 1)[0]
        track = self._next_track
        self._next_track += 1
        self.buffer.append(TrackOpened(track, participant, source.kind, source.codec.name,
                                       source.codec.clock_rate))
        tap = HlsTap(self, track, source)
        self.taps[track] = tap
        tap.index = source.add_tap(tap)  # asks the publisher for a keyframe
        if source.kind == self._lead_kind and self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def speaker_changed(self, participant: str | None) -> None:
        """The room's active speaker (a forum's program follows it)."""
        self.buffer.append(Speaker(participant))

    def source_ended(self, tap: HlsTap) -> None:
        if self.taps.pop(tap.track, None) is not None:
            self.buffer.append(TrackClosed(tap.track))
        self._arm_idle()

    @property
    def _lead_kind(self) -> str:
        """The kind of Source whose absence ends the feed: video, or audio when audio only."""
        return "audio" if self.spec.audio_only else "video"

    def _arm_idle(self) -> None:
        live = any(t.source.kind == self._lead_kind for t in self.taps.values())
        if not live and self._idle is None and not self._stopping:
            self._idle = self.loop.call_later(IDLE_SEGMENTS * self.spec.segment_s,
                                              self._idle_end)

    def _idle_end(self) -> None:
        self._idle = None
        if not any(t.source.kind == self._lead_kind for t in self.taps.values()):
            self._stop_soon()

    def _stop_soon(self) -> None:
        if not self._stopping and self._stop_task is None:
            self._stop_task = self.loop.create_task(self.stop())

    # -- batches -------------------------------------------------------------------------------

    async def _pump_batches(self) -> None:
        while True:
            await asyncio.sleep(BATCH_S)
            self._send()

    def _send(self) -> None:
        items, self.buffer = self.buffer, []
        behind = self.sent - self.worker.done
        if behind + len(items) > self.spec.queue_items:
            self.dropped_batches += 1  # the thread is late: lose this batch, not the loop
            kept: list[Item] = [i for i in items if not isinstance(i, Tapped | Report)]
            items = [*kept, Gap()]
        self.sent += len(items)
        self.worker.put(Batch(self.loop.time(), items))

    # -- worker events (on the loop) -----------------------------------------------------------

    def published(self, rendition: str, published: Published) -> None:
        self._media[rendition] = published.playlist
        kind = MP4 if rendition.startswith("v") else AUDIO_MP4
        for name, data in published.blobs:
            self._blobs[name] = Blob(data, kind)
        for name in published.dropped:
            self._blobs.pop(name, None)
        if self.archive is not None:
            self.archive.offer(rendition, published)
        if published.peak_bps:
            self._rates[rendition] = (published.peak_bps, published.average_bps)
        self._changed_now()

    def described(self, info: RenditionInfo) -> None:
        self._info[info.name] = info
        self._changed_now()

    def want_keyframe(self, track: int) -> None:
        tap = self.taps.get(track)
        if tap is not None:
            tap.source.request_keyframe(tap.index)

    def finished(self) -> None:
        self._ended = True
        self._finished.set()
        self._changed_now()

    def _changed_now(self) -> None:
        self._cache.clear()
        changed, self._changed = self._changed, self.loop.create_future()
        changed.set_result(None)

    # -- HlsFeed -------------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._ended

    def playlist(self, name: str, *, low_latency: bool, query: str = "") -> str | None:
        key = (name, low_latency, query)
        text = self._cache.get(key)
        if text is None:
            text = self._render(name, low_latency, query)
            if text is None:
                return None
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = text
        return text

    def _render(self, name: str, low_latency: bool, query: str) -> str | None:
        if name == "index.m3u8":
            return self._master(query)
        match = PLAYLIST_NAME.fullmatch(name)
        media = self._media.get(match.group(1)) if match else None
        if match is None or media is None:
            return None
        others = [(f"{r}.m3u8", p) for r, p in sorted(self._media.items())
                  if r != match.group(1)]
        return render_media(media, low_latency=low_latency, query=query, reports=others)

    def _master(self, query: str) -> str | None:
        if self.spec.audio_only:
            voice = self._media.get("a0")
            if voice is None or not voice.segments:
                return None
            peak = self._rates.get("a0", (0, 0))[0] or AUDIO_BPS
            return render_audio_master("a0.m3u8", peak, query)
        first = self._media.get("v0")
        if first is None or not first.segments:
            return None  # nothing a player could start with yet
        rungs = []
        for info in sorted(self._info.values(), key=lambda i: int(i.name[1:])):
            media = self._media.get(info.name)
            if info.kind != "video" or media is None or not media.segments:
                continue
            peak, average = self._rates.get(info.name, (0, 0))
            rungs.append(VideoRendition(f"{info.name}.m3u8", peak, average, info.codec,
                                        info.width, info.height, 0.0))
        audio = [
            _audio_rendition(info, info.name == "a0", self._rates.get(info.name, (0, 0))[0])
            for info in sorted(self._info.values(), key=lambda i: int(i.name[1:]))
            if info.kind == "audio" and info.name in self._media
        ]
        if audio and not any(a.default for a in audio):
            audio[0] = AudioRendition(audio[0].uri, audio[0].name, audio[0].language,
                                      default=True, bandwidth=audio[0].bandwidth)
        return render_master(rungs, audio, query)

    def blob(self, name: str) -> Blob | None:
        return self._blobs.get(name)

    async def ready(
        self, name: str, msn: int, part: int | None, timeout: float,  # noqa: ASYNC109
    ) -> bool:
        match = PLAYLIST_NAME.fullmatch(name)
        if match is None or match.group(1) not in self._media:
            return False
        rendition = match.group(1)
        if msn > self._media[rendition].last_msn + AHEAD_SEGMENTS:
            return False
        deadline = self.loop.time() + timeout
        while not (self._ended or self._media[rendition].has(msn, part)):
            if not await self._wait_change(deadline):
                return False
        return True

    async def wait_blob(self, name: str, timeout: float) -> Blob | None:  # noqa: ASYNC109
        blob = self._blobs.get(name)
        if blob is not None or not self._coming(name):
            return blob
        deadline = self.loop.time() + timeout
        while (blob := self._blobs.get(name)) is None and self._coming(name):
            if not await self._wait_change(deadline):
                return None
        return blob

    def _coming(self, name: str) -> bool:
        """Whether ``name`` is a part or segment of the segment being built (or the next one):
        a preload hint's target, worth waiting for."""
        match = MEDIA_NAME.fullmatch(name)
        media = self._media.get(match.group(1)) if match else None
        if match is None or media is None or media.ended or media.open is None:
            return False
        return media.open.msn <= int(match.group(2)) <= media.open.msn + 1

    async def _wait_change(self, deadline: float) -> bool:
        remaining = deadline - self.loop.time()
        if remaining <= 0:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._changed), remaining)
            return True
        return False

    # -- the end -------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Untap, let the thread finish the playlists (ENDLIST), and tell ``on_end``."""
        if self._stopping:
            await self._finished.wait()
            return
        self._stopping = True
        if self._idle is not None:
            self._idle.cancel()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        for tap in list(self.taps.values()):
            tap.source.remove_tap(tap)
        self.taps.clear()
        self._send()
        self.worker.finish()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.worker.thread.join), FINISH_TIMEOUT_S)
        except TimeoutError:
            logger.error("hls %s: the packager thread did not finish", self.room)
        await asyncio.sleep(0)  # the thread's last call_soon_threadsafe callbacks run
        self._ended = True
        self._changed_now()
        await self._close_archive()
        self.on_end(self)

    async def _close_archive(self) -> None:
        """The VOD playlists written (in the archive's thread), ``archived`` set (§5)."""
        if self.archive is None:
            return
        self.archive.finish(self._master(""))
        try:
            await asyncio.wait_for(asyncio.to_thread(self.archive.thread.join),
                                   FINISH_TIMEOUT_S)
        except TimeoutError:
            logger.error("hls %s: the archive thread did not finish", self.room)
        self.archived = self.archive.result


def _audio_rendition(info: RenditionInfo, default: bool, bandwidth: int) -> AudioRendition:
    """An ``EXT-X-MEDIA`` audio line: an interpretation channel (issue 17) gets ``LANGUAGE``
    (its BCP 47 tag) and ``NAME`` (the language's own name), a participant its label."""
    language = channel_language(info.label)
    if language is None:
        return AudioRendition(f"{info.name}.m3u8", info.label, default=default,
                              bandwidth=bandwidth)
    return AudioRendition(f"{info.name}.m3u8", NATIVE_NAMES.get(language, language), language,
                          default=default, bandwidth=bandwidth)
