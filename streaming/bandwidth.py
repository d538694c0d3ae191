"""What one viewer's downlink carries: a delay part (the viewer's REMB) and a loss part (ours).

Pure: no I/O, the caller's clock. One :class:`DownlinkEstimator` per viewer connection; the
viewer leg feeds it the viewer's RTCP and what it sends, and asks :meth:`estimate` when it
chooses layers (streaming/layer_choice.py).

What Chromium sends a Pavilion viewer leg (measured, docs/media.md "Estimation and layer
choice"): aiortc negotiates ``goog-remb`` and abs-send-time, not transport-cc, so Chromium runs
its receive-side delay-based estimator and sends REMB (draft-alvestrand-rmcat-remb) about every
250 ms, from about 4.5 s after media starts, always in the same compound as a receiver report
(RFC 3550 §6.4.2) for the video SSRC; audio's report comes every ~5 s on its own. Its REMB never
exceeds ~1.5x what it receives (libwebrtc AimdRateControl; measured 1.25-1.45x the total sent),
and it rises only ~8 %/s, so on its own it can say "at least" but never "much more".

The rules (thresholds: config ``[media.adapt]``, :class:`~config.settings.AdaptSettings`):

- **Delay part** (REMB). A REMB that *falls* to below ``remb_bound_ratio`` x the rate we send
  is a congestion signal (Chromium answers overuse with 0.85 x the rate it measures): it is
  taken as is. "What we send" there is media without probe padding: Chromium's REMB rises only
  ~8 %/s, so while padding is in the rate window any REMB a little under the last one looked
  like congestion, cut the delay part a probe had just proven, and kept a viewer that was
  back on a strong link on its low layer probe after probe (the probe's own abort rule judges
  the padding). Any other REMB only bounds the link from below: one that rises or holds under
  what we send is Chromium's slow ramp after we sent more (a new layer), and one that falls
  while still above what we send follows its cap down after we sent less (a lower layer, a
  hidden tile); the delay part keeps the higher of it and its earlier value. A REMB older than
  ``remb_timeout_ms`` no longer counts. A successful probe (:meth:`on_probe`) raises it. A REMB
  under ``remb_floor_kbps`` counts as that floor: aiortc receivers (Python WHEP players) send
  about half what they receive from their first report on (measured: 14-20 kbit/s for a
  37 kbit/s stream, with no loss), and a link that weak shows in the loss part anyway.
- **Loss part** (after draft-ietf-rmcat-gcc §6, from the video's receiver reports' fraction
  lost): above ``loss_high`` it becomes what we send (the loss part before any) times ``1 -
  loss``, what got through (GCC's ``1 - 0.5 x loss`` is a sender's step its encoder then follows;
  a layer choice has no second step), but at most by half per cut (GCC's bound), at most once per
  ``loss_interval_ms`` (one loss episode is reported by several reports); below ``loss_high`` it
  is at least what got through (what we send x ``1 - loss``: after a cut, the lower layer that
  now arrives whole shows the link carries it), and under ``loss_low`` it grows by
  ``loss_growth`` per second but not beyond ``growth_cap_ratio`` x what we send (the same cap as
  Chromium's, so probing works for any viewer); in between it holds.
- **Combined**: the lower of the two (the delay part only while fresh); ``start_kbps`` before
  any feedback; at most ``max_kbps``. Smoothed one way only: a fall shows at once (a link that
  dropped must be obeyed now), a rise follows with time constant ``rise_ms``.
"""

from __future__ import annotations

import math
from collections import deque

from config.settings import AdaptSettings

SNAP_BPS = 1_000  # a rise this close to its target is done (the smoothing is asymptotic)
RATE_SAMPLES = 64  # on_sent comes once per RTCP interval: a bounded window of a few seconds


MIN_SPAN_S = 1e-6  # far below a tick (0.1 s); the event loop's clock counts nanoseconds


class SendRate:
    """Bits per second sent over the last ``window_s`` (pure; samples come from ``on_sent``).

    Asked several times per viewer per adaptation tick (every viewer, ten times a second), so
    it keeps a running total of its samples instead of summing its window each time."""

    __slots__ = ("_samples", "_total", "_window")

    def __init__(self, window_s: float) -> None:
        self._window = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._total = 0  # octets of every sample in the window

    def add(self, octets: int, now: float) -> None:
        samples = self._samples
        if len(samples) == RATE_SAMPLES:  # bounded: the oldest goes
            self._total -= samples.popleft()[1]
        samples.append((now, octets))
        self._total += octets

    def rate(self, now: float) -> int | None:
        """None until two samples span some time (``MIN_SPAN_S``: a shorter span gave an
        infinite rate, and ``int`` of it raised): the first sample only marks a start."""
        samples = self._samples
        while len(samples) > 2 and now - samples[1][0] >= self._window:
            self._total -= samples.popleft()[1]
        if len(samples) < 2 or now - samples[0][0] < MIN_SPAN_S:
            return None
        first_at, first = samples[0]
        return int((self._total - first) * 8 / (now - first_at))


MAX_CUT = 0.5  # the loss part falls at most to this share of itself per cut


class DownlinkEstimator:
    """Bit/s one viewer's downlink carries now; see the module docstring for the rules."""

    def __init__(self, settings: AdaptSettings) -> None:
        self._s = settings
        self._max = settings.max_kbps * 1000
        self._delay: int | None = None  # delay part, from REMB
        self._remb = 0  # the last REMB
        self._remb_at = -math.inf
        self._loss = settings.start_kbps * 1000  # loss part
        self._loss_at: float | None = None  # last loss-part update (growth is per second)
        self._cut_at = -math.inf  # last loss decrease
        self._sent = SendRate(settings.rate_window_ms / 1000)
        self._media = SendRate(settings.rate_window_ms / 1000)  # without probe padding
        self._out: float | None = None
        self._out_at = 0.0

    def on_sent(self, octets: int, now: float, padding: int = 0) -> None:
        """``octets`` sent to this viewer since the previous call (each adaptation tick), of
        which ``padding`` were probe padding."""
        self._sent.add(octets, now)
        self._media.add(max(0, octets - padding), now)

    def sending(self, now: float) -> int | None:
        """What this viewer is sent now (bit/s), or None before two ``on_sent`` calls."""
        return self._sent.rate(now)

    def media(self, now: float) -> int | None:
        """What this viewer is sent now without probe padding (bit/s), or None before two
        ``on_sent`` calls: what a layer choice judges the layers it gets against."""
        return self._media.rate(now)

    def on_remb(self, bitrate_bps: int, now: float) -> None:
        """The viewer's REMB: a congestion signal when under what we send, else a lower bound."""
        bitrate_bps = max(bitrate_bps, self._s.remb_floor_kbps * 1000)
        sending = self._media.rate(now)
        bound = None if sending is None else self._s.remb_bound_ratio * sending
        congested = bitrate_bps < self._remb and bound is not None and bitrate_bps < bound
        stale = now - self._remb_at > self._s.remb_timeout_ms / 1000
        if self._delay is None or stale or congested:
            self._delay = bitrate_bps
        else:
            self._delay = max(self._delay, bitrate_bps)
        self._remb, self._remb_at = bitrate_bps, now

    def on_loss(self, fraction_lost: float, now: float) -> None:
        """A receiver report block's fraction lost (0..1, RFC 3550 §6.4.1): GCC's loss rules."""
        s = self._s
        elapsed = 0.0 if self._loss_at is None else max(0.0, now - self._loss_at)
        self._loss_at = now
        sending = self._sent.rate(now)
        if fraction_lost > s.loss_high:
            if now - self._cut_at < s.loss_interval_ms / 1000:
                return
            self._cut_at = now
            # what got through: a layer must fit it at once (GCC's 1 - loss/2 of its own rate
            # is a sender's step that its encoder then follows; a layer choice has no second
            # step, and what is sent is a measurement, so cuts do not compound)
            base = self._loss if sending is None else sending
            # ...but one report cuts at most by half (GCC's own bound): a keyframe's burst
            # into a thin link can lose most of one short interval and little else
            self._loss = int(max(base * (1 - fraction_lost), min(self._loss, base) * MAX_CUT))
        else:
            if sending is not None:  # never below what demonstrably gets through
                self._loss = max(self._loss, int(sending * (1 - fraction_lost)))
            if fraction_lost < s.loss_low:
                cap = (self._max if sending is None
                       else max(self._loss, s.growth_cap_ratio * sending))
                grown = self._loss * (1 + s.loss_growth) ** elapsed
                self._loss = int(min(grown, cap, self._max))

    def on_probe(self, proven_bps: int, now: float) -> None:
        """A probe showed the link carries ``proven_bps`` (streaming/probe.py): both parts rise
        to it at once, unsmoothed, since neither REMB (capped) nor loss (no growth above the
        cap) could say so, and the proof is the viewer's own feedback."""
        proven = min(self._max, proven_bps)
        self._loss = max(self._loss, proven)
        if self._delay is not None:
            self._delay = max(self._delay, proven)
        if self._out is not None:
            self._out = max(self._out, float(min(proven, self.raw(now))))

    def raw(self, now: float) -> int:
        """The combined estimate before smoothing."""
        fresh = now - self._remb_at <= self._s.remb_timeout_ms / 1000
        delay = self._delay if fresh and self._delay is not None else self._max
        return min(delay, self._loss, self._max)

    def estimate(self, now: float) -> int:
        """Bit/s the downlink carries now: falls at once, rises with time constant rise_ms."""
        raw = self.raw(now)
        if self._out is None or raw <= self._out:
            self._out = float(raw)
        else:
            tau = self._s.rise_ms / 1000
            weight = 1.0 if tau <= 0 else 1 - math.exp(-max(0.0, now - self._out_at) / tau)
            self._out += (raw - self._out) * weight
            if raw - self._out < SNAP_BPS:
                self._out = float(raw)
        self._out_at = now
        return int(self._out)
