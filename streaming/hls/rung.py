"""A transcoding ladder's arithmetic: rung sizes, bitrate caps and the keyframe clock.

Pure (no codec, no clock) and table-tested; :mod:`streaming.hls.transcode` applies it. Issue 16
§2: a VP8 publisher (or a forum's program) is encoded once to H264 at each ladder height; every
rung cuts its keyframes at the same media times so the segmenter cuts every rung's segments at
the same times (RFC 8216bis §6.2.4: renditions of a variant set should align).
"""

from __future__ import annotations

from dataclasses import dataclass

# VBV caps in kbit/s by rung height (issue 16 brief: 720p ≈ 2.5 Mbit/s, 360p ≈ 0.8 Mbit/s);
# the first row whose height the rung reaches applies.
_CAPS_KBPS: tuple[tuple[int, int], ...] = ((1080, 4500), (720, 2500), (540, 1400), (360, 800),
                                           (0, 400))
# A frame this close before a boundary counts as on it (times converted from 90 kHz ticks).
_SLACK_MS = 0.5


@dataclass(frozen=True, slots=True)
class RungSize:
    """One rung's output picture size (both even, as 4:2:0 H264 requires)."""

    width: int
    height: int


def rung_size(height: int, in_width: int, in_height: int) -> RungSize:
    """The size of the rung asked for ``height`` when the input is ``in_width``x``in_height``.

    Never upscales: a rung taller than the input gets the input's height (so a 360p input with
    a ``[720, 360]`` ladder gives two 360p rungs, which :class:`VideoTranscoder` encodes once).
    The width keeps the input's aspect, rounded to even.
    """
    if in_width <= 0 or in_height <= 0 or height <= 0:
        raise ValueError(f"picture size must be positive, got {in_width}x{in_height} -> {height}")
    out_h = _even(min(height, in_height))
    out_w = _even(in_width * out_h / in_height)
    return RungSize(out_w, out_h)


def max_kbps(height: int) -> int:
    """The VBV maximum rate (kbit/s) for a rung of ``height`` lines."""
    return next(cap for floor, cap in _CAPS_KBPS if height >= floor)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


class KeyClock:
    """When to force an IDR: the first frame, then the first frame at or past each multiple of
    ``keyint_ms`` after the first frame's time.

    Boundaries are fixed on the media timeline (origin + k * keyint), not counted from the last
    keyframe, so a late frame does not push every later keyframe back: GOPs are ``keyint_ms``
    long on average and all rungs (fed the same frames) key the same frames.
    """

    def __init__(self, keyint_ms: float) -> None:
        if keyint_ms <= 0:
            raise ValueError(f"keyint must be positive, got {keyint_ms} ms")
        self._keyint = keyint_ms
        self._origin: float | None = None
        self._next = 0.0

    def due(self, t_ms: float) -> bool:
        """Whether the frame at ``t_ms`` (times given in increasing order) must be an IDR."""
        if self._origin is None:
            self._origin, self._next = t_ms, t_ms + self._keyint
            return True
        if t_ms + _SLACK_MS < self._next:
            return False
        passed = int((t_ms + _SLACK_MS - self._origin) // self._keyint)
        self._next = self._origin + (passed + 1) * self._keyint
        return True
