"""A viewer's loss over the last half second, from its receiver reports' counters (pure).

RFC 3550 §6.4.1: each report block carries the fraction lost *since the previous report* and
the cumulative number lost with the extended highest sequence number received. Chromium sends a
receiver report in every RTCP compound, and on a lossy link it sends one with each NACK: every
15-30 ms (measured on the 150 kbit/s shaped link, docs/media.md "Estimation and layer choice").
The fraction then covers one to five packets and swings between 0 and 255/256 from one report
to the next; taken as is, a single lost packet read as 50-80 % loss, cut the estimate and
failed probes. :class:`LossWindow` instead divides the packets lost by the packets expected over
at least ``window_s`` and ``min_packets``, from the cumulative counters, as a sender-side
estimator counts loss over its feedback interval (draft-ietf-rmcat-gcc §6).
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 0.5
MIN_PACKETS = 20
SAMPLES = 256  # bounded: at one report per 15 ms, ~4 s


class LossWindow:
    """Fraction lost over the last ``window_s`` of one stream's receiver reports."""

    __slots__ = ("_min", "_samples", "_window")

    def __init__(self, window_s: float = WINDOW_S, min_packets: int = MIN_PACKETS) -> None:
        self._window = window_s
        self._min = min_packets
        self._samples: deque[tuple[float, int, int]] = deque(maxlen=SAMPLES)

    def add(self, highest: int, lost: int, now: float) -> float | None:
        """A report's extended highest sequence number received and cumulative lost; the
        fraction lost since the newest report at least ``window_s`` old (or the oldest kept),
        or None while that spans fewer than ``min_packets`` expected packets."""
        samples = self._samples
        if samples and highest < samples[-1][1] - 0x8000:
            samples.clear()  # the sender restarted its numbering (a new stream): start over
        samples.append((now, highest, lost))
        while len(samples) > 2 and now - samples[1][0] >= self._window:
            samples.popleft()
        _, base_highest, base_lost = samples[0]
        expected = highest - base_highest
        if expected < self._min:
            return None
        return min(1.0, max(0.0, (lost - base_lost) / expected))
