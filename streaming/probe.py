"""When to probe a viewer's downlink, and at what extra rate (issue 14 §3): pure, caller's clock.

Chromium's REMB never says more than ~1.5x what the viewer receives (streaming/bandwidth.py), so
a viewer on a low layer, or on audio only, never shows the headroom a higher layer needs. The
viewer leg therefore sends RTP padding (``Egress.send_padding``) so that, for ``probe_ms``, the
viewer receives what the goal layer would bring, and watches the viewer's feedback. One
:class:`Prober` per viewer connection; each control tick the leg calls :meth:`Prober.update`
with the goal (the need of :attr:`LayerChooser.goal <streaming.layer_choice.LayerChooser.goal>`;
0 when there is none), what it sends and the current estimate, and pads at the answer's
``padding_bps``. The rules (thresholds: config ``[media.adapt]``):

- **Start** when there is a goal above the estimate (not proven) and above what is sent, no probe
  runs and the backoff has passed: pad at ``goal - sending`` (at most ``probe_max_kbps``).
- **Abort** (failure) at once on a receiver report losing more than ``probe_loss_abort`` (but
  not in the probe's first ``LOSS_GRACE_S``: a report's fraction lost covers the interval
  since the viewer's previous report, up to ~1 s, and NACK loss the last 0.5 s, so a report that
  soon mostly describes the time before the padding; counting it failed probes at 0.1 s, and
  the doubled backoff kept a viewer whose link had recovered on its low layer for 30 s), or a
  REMB falling more than ``probe_drop_ratio`` under the highest one seen during the probe:
  Chromium answers delay-based overuse with a lower REMB (0.85 x what it measures), so the link
  could not carry the goal.
- **Prove** (success) when a REMB reaches the goal, or when the padding ran ``probe_ms`` and
  ``probe_verdict_ms`` more passed with REMBs coming and neither abort signal: the viewer
  received the goal rate without losing packets or building a queue (Chromium's REMB rises
  only ~8 %/s, and on a busy machine not at all within a probe: a rise cannot be required).
  The answer's ``proven_bps`` (once) then goes to ``DownlinkEstimator.on_probe``. No REMB
  during the probe (a viewer that sends none) is a failure, never a guess.
- **Backoff**: after a failure the next probe waits ``probe_backoff_ms``, doubling per failure in
  a row up to ``probe_backoff_max_ms``; a success resets it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from config.settings import AdaptSettings

logger = logging.getLogger(__name__)
LOSS_GRACE_S = 0.5  # loss reported this soon after a probe starts is not the probe's


@dataclass(frozen=True, slots=True)
class ProbeStep:
    """What the viewer leg does now: pad at ``padding_bps`` (0: none); ``proven_bps`` > 0 once,
    when a probe proved that rate (give it to ``DownlinkEstimator.on_probe``)."""

    padding_bps: int = 0
    proven_bps: int = 0


class Prober:
    """Probe state for one viewer connection; see the module docstring for the rules."""

    def __init__(self, settings: AdaptSettings) -> None:
        self._s = settings
        self._goal = 0  # the rate the running probe would prove; 0: none runs
        self._padding = 0
        self._started = 0.0
        self._remb_start = 0  # the last REMB before the probe
        self._remb_peak = 0
        self._remb = 0
        self._failed = False
        self._proven = False
        self._rembs = 0  # REMBs during the running probe
        self._backoff = settings.probe_backoff_ms / 1000
        self._next_at = -math.inf  # no probe before this
        self.probes = 0
        self.successes = 0

    @property
    def running(self) -> bool:
        return self._goal > 0

    def on_remb(self, bitrate_bps: int, now: float) -> None:
        """The viewer's REMB: reaching the goal proves it, a fall from the peak aborts."""
        self._remb = bitrate_bps
        if not self.running:
            return
        self._rembs += 1
        if bitrate_bps < self._remb_peak * (1 - self._s.probe_drop_ratio):
            self._failed = True
        self._remb_peak = max(self._remb_peak, bitrate_bps)
        if bitrate_bps >= self._goal:
            self._proven = True

    def on_loss(self, fraction_lost: float, now: float) -> None:
        """A receiver report's fraction lost: too much during a probe aborts it."""
        if (self.running and fraction_lost > self._s.probe_loss_abort
                and now - self._started >= LOSS_GRACE_S):
            self._failed = True

    def update(self, goal_bps: int, sending_bps: int, estimate_bps: int, now: float) -> ProbeStep:
        """The padding to send now, and the rate proven, if a probe just ended well."""
        if self.running:
            return self._continue(now)
        if goal_bps <= max(estimate_bps, sending_bps) or now < self._next_at:
            return ProbeStep()
        self._begin(goal_bps, sending_bps, now)
        return ProbeStep(self._padding)

    def _begin(self, goal_bps: int, sending_bps: int, now: float) -> None:
        self._goal = goal_bps
        self._padding = min(goal_bps - sending_bps, self._s.probe_max_kbps * 1000)
        self._started = now
        self._remb_start = self._remb_peak = self._remb
        self._failed = self._proven = False
        self._rembs = 0
        self.probes += 1

    def _continue(self, now: float) -> ProbeStep:
        elapsed = now - self._started
        if self._failed:
            return self._end(False, now)
        if self._proven:
            return self._end(True, now)
        if elapsed < self._s.probe_ms / 1000:
            return ProbeStep(self._padding)
        if elapsed < (self._s.probe_ms + self._s.probe_verdict_ms) / 1000:
            return ProbeStep()
        return self._end(self._rembs > 0, now)

    def _end(self, success: bool, now: float) -> ProbeStep:
        goal, self._goal = self._goal, 0
        logger.debug("probe to %d bit/s (padding %d) %s after %.2f s: %d REMBs, peak %d, "
                     "failed %s", goal, self._padding, "proved" if success else "failed",
                     now - self._started, self._rembs, self._remb_peak, self._failed)
        if success:
            self.successes += 1
            self._backoff = self._s.probe_backoff_ms / 1000
            self._next_at = now
            return ProbeStep(0, goal)
        self._next_at = now + self._backoff
        self._backoff = min(self._backoff * 2, self._s.probe_backoff_max_ms / 1000)
        return ProbeStep()
