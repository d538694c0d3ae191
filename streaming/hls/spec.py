"""HlsSpec: what the plane is asked to package for one room (issue 16; docs/hls.md §1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HlsSpec:
    """One room's live HLS.

    ``program``: a forum: the video rendition follows the active speaker (transcoded) and the
    audio is every speaker mixed; otherwise a broadcast: the first video publisher's video
    passes through and its audio is the main audio rendition, every other audio Source an
    extra rendition. ``ladder``: output heights when video must be encoded (VP8, a program).
    ``segment_s``/``part_s``: segment and LL-HLS part targets; ``window_segments``: segments a
    live playlist lists. ``queue_items``: the bound of the queue to the packager thread (a
    fuller queue drops a batch and marks a discontinuity, it never blocks the loop).
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

    def __post_init__(self) -> None:
        if not 0 < self.part_s < self.segment_s:
            raise ValueError("part_s must be positive and shorter than segment_s")
        if self.window_segments < 3:
            raise ValueError("window_segments must be at least 3")
        if not self.ladder:
            raise ValueError("the ladder needs at least one height")
