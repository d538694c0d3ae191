"""``HlsArchive``: a live HLS feed's segments on disk, and its VOD playlists at the end.

Issue 16 §5: "a stopped broadcast ends the playlist (``EXT-X-ENDLIST``) and its segments become
the start of the replay" (docs/hls.md §5). While the room is live, every init segment and every
complete segment the packager publishes (not the LL-HLS parts: a segment is its parts joined)
is written under the archive's directory with its live name; when the feed ends, each
rendition gets a VOD media playlist (RFC 8216bis §4.4.3.5 ``EXT-X-PLAYLIST-TYPE:VOD``, every
segment from the first, ``EXT-X-ENDLIST``) and ``index.m3u8`` the live master playlist's text,
so the same relative names play as a replay at once, before or without a recording.

Off the event loop: :meth:`offer` (on the loop) only queues references to immutable values;
one thread writes. The queue is bounded (``queue_items``): a thread that far behind loses what
it is offered (those segments are left out of the VOD, the next kept one starts with
``EXT-X-DISCONTINUITY``); less than ``min_free_bytes`` free on the disk, or a write error,
stops the archive with one log line (``reason``), never the live room.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from streaming.hls.playlist import MediaPlaylist, Segment, render_media
from streaming.hls.segmenter import Published
from streaming.hls.spec import ArchiveSpec

logger = logging.getLogger(__name__)
KEPT_NAME = re.compile(r"[va]\d+-(?:init\d+\.mp4|\d+\.m4s)")  # inits and segments, not parts
VOD_TAG = "#EXT-X-PLAYLIST-TYPE:VOD"
FREE_CHECK_EVERY = 16  # writes between two looks at the disk's free space


@dataclass(frozen=True, slots=True)
class Archived:
    """What the archive holds once finished (a media event of the plane). ``reason``: ``""``
    when every segment was written, else why it stopped or lost some (``disk_full``,
    ``write_error``, ``slow_disk``); ``playable``: a master playlist was written (at least one
    video segment)."""

    rec_id: str
    room: str
    directory: Path
    duration_s: float
    reason: str
    playable: bool
    playlist_bytes: int


@dataclass(frozen=True, slots=True)
class _Item:
    rendition: str
    playlist: MediaPlaylist
    blobs: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class _Finish:
    master: str | None


class HlsArchive:
    """One feed's archive: :meth:`offer` each publication, then :meth:`finish` once."""

    def __init__(self, spec: ArchiveSpec, room: str) -> None:
        self.spec = spec
        self.room = room
        self.sent = 0
        self.done = 0  # written by the thread; read on the loop for the bound
        self.reason = ""
        self.result: Archived | None = None
        self._queue: queue.SimpleQueue[_Item | _Finish] = queue.SimpleQueue()
        self._segments: dict[str, dict[int, Segment]] = {}
        self._last: dict[str, MediaPlaylist] = {}
        self._written: set[str] = set()
        self._writes = 0
        self.thread = threading.Thread(target=self._run, name=f"hls-archive-{spec.rec_id}",
                                       daemon=True)
        self.thread.start()

    def offer(self, rendition: str, published: Published) -> None:
        """On the loop: queue what ``published`` adds to the archive (never blocks)."""
        blobs = tuple((n, d) for n, d in published.blobs if KEPT_NAME.fullmatch(n))
        if self.sent - self.done >= self.spec.queue_items:
            if blobs and not self.reason:
                logger.warning("hls archive %s: the disk is too slow, segments left out",
                               self.spec.rec_id)
                self.reason = "slow_disk"
            return  # lost: the VOD leaves out what was not written and marks the hole
        self.sent += 1
        self._queue.put(_Item(rendition, published.playlist, blobs))

    def finish(self, master: str | None) -> None:
        """The feed ended: write the VOD playlists (``master``: the live master playlist's
        text, None if there was nothing to play) and end the thread; join ``thread``."""
        self._queue.put(_Finish(master))

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.spec.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._stop("write_error", exc)
        while True:
            item = self._queue.get()
            if isinstance(item, _Finish):
                self.result = self._close(item.master)
                return
            try:
                self._take(item)
            except Exception:  # a bug must not leave a thread that never drains its queue
                logger.exception("hls archive %s: a step failed", self.spec.rec_id)
                self.reason = self.reason or "write_error"
            self.done += 1

    def _take(self, item: _Item) -> None:
        self._last[item.rendition] = item.playlist
        known = self._segments.setdefault(item.rendition, {})
        for segment in item.playlist.segments:
            known.setdefault(segment.msn, segment)
        if self.reason in ("disk_full", "write_error"):
            return
        for name, data in item.blobs:
            if not self._write(name, data):
                return

    def _write(self, name: str, data: bytes) -> bool:
        try:
            self._writes += 1
            if self._writes % FREE_CHECK_EVERY == 1 and (
                    shutil.disk_usage(self.spec.directory).free - len(data)
                    < self.spec.min_free_bytes):
                self._stop("disk_full", None)
                return False
            (self.spec.directory / name).write_bytes(data)
        except OSError as exc:
            self._stop("write_error", exc)
            return False
        self._written.add(name)
        return True

    def _stop(self, reason: str, exc: OSError | None) -> None:
        logger.error("hls archive %s stopped (%s)%s: the live HLS goes on", self.spec.rec_id,
                     reason, f": {exc}" if exc else "")
        self.reason = reason

    def _close(self, master: str | None) -> Archived:
        duration = 0.0
        size = 0
        for rendition, last in sorted(self._last.items()):
            vod = self.vod(rendition, last)
            if vod is not None:
                size += self._text(f"{rendition}.m3u8", vod[0])
                lead = "a0" if "v0" not in self._last else "v0"  # audio only: a0 leads
                duration = vod[1] if rendition == lead else duration
        playable = master is not None and duration > 0 and self._text("index.m3u8", master) > 0
        return Archived(self.spec.rec_id, self.room, self.spec.directory, round(duration, 3),
                        self.reason, playable, size)

    def vod(self, rendition: str, last: MediaPlaylist) -> tuple[str, float] | None:
        """The rendition's VOD playlist text and its duration: every segment written, in
        order; one after a hole (a segment or its init not written) is a discontinuity."""
        kept: list[Segment] = []
        for msn, segment in sorted(self._segments.get(rendition, {}).items()):
            if segment.name not in self._written or segment.init not in self._written:
                continue
            hole = bool(kept) and msn != kept[-1].msn + 1
            kept.append(replace(segment, discontinuity=bool(kept) and (
                segment.discontinuity or hole)))
        if not kept:
            return None
        target = max(last.target, *(math.floor(s.duration + 0.5) for s in kept))
        whole = MediaPlaylist(tuple(kept), None, max(target, 1), last.part_target, 0, True)
        lines = render_media(whole, low_latency=False).split("\n")
        lines.insert(2, VOD_TAG)
        return "\n".join(lines), sum(s.duration for s in kept)

    def _text(self, name: str, text: str) -> int:
        data = text.encode()
        try:
            temporary = self.spec.directory / f".{name}.tmp"
            temporary.write_bytes(data)
            os.replace(temporary, self.spec.directory / name)  # a reader never sees half
        except OSError as exc:
            self._stop("write_error", exc)
            return 0
        return len(data)
