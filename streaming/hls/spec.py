"""HlsSpec: what the plane is asked to package for one room (issue 16; docs/hls.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ArchiveSpec:
    """Where one feed is archived for its replay (streaming/hls/archive.py, issue 16 §5).
    ``rec_id``: the replay record it becomes; ``directory``: its folder; the archive stops
    below ``min_free_bytes`` free on that disk, and drops what a thread ``queue_items``
    publications behind cannot take."""

    rec_id: str
    directory: Path
    min_free_bytes: int = 200 << 20
    queue_items: int = 256


@dataclass(frozen=True, slots=True)
class HlsSpec:
    """One room's live HLS.

    ``program``: a forum: the video rendition follows the active speaker (transcoded) and the
    audio is every speaker mixed; otherwise a broadcast: the first video publisher's video
    passes through and its audio is the main audio rendition, every other audio Source an
    extra rendition. ``ladder``: output heights when video must be encoded (VP8, a program).
    ``segment_s``/``part_s``: segment and LL-HLS part targets; ``window_segments``: segments a
    live playlist lists. ``archive``: also write the segments to disk and a VOD playlist at
    the end (the replay's start). ``audio_only``: a room with no video (a forum of voices):
    one audio rendition ``a0`` leads the segments and ``index.m3u8`` names it alone; video
    Sources are not packaged (a room that gets video gets a new, full feed).
    ``queue_items``: the bound of the queue to the packager thread (a fuller queue drops a
    batch and marks a discontinuity, it never blocks the loop).
    """

    room: str
    program: bool = False
    ladder: tuple[int, ...] = (720,)
    segment_s: float = 2.0
    part_s: float = 0.5
    window_segments: int = 6
    preset: str = "ultrafast"
    transcode_vp8: bool = True
    queue_items: int = 4000
    archive: ArchiveSpec | None = None
    audio_only: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.part_s < self.segment_s:
            raise ValueError("part_s must be positive and shorter than segment_s")
        if self.window_segments < 3:
            raise ValueError("window_segments must be at least 3")
        if not self.ladder:
            raise ValueError("the ladder needs at least one height")
