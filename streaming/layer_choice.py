"""Which layer of one simulcast track one viewer gets (issue 14 §2-3): pure, the caller's clock.

One :class:`LayerChooser` per (viewer, simulcast track). The viewer leg calls :meth:`choose`
with the track's layers (lowest first), this track's share of the viewer's estimated downlink
(streaming/bandwidth.py) and what the page shows; it switches when the answer changes (at a
keyframe of the target layer). The rules (thresholds: config ``[media.adapt]``):

- A layer's *need* is its bitrate x (1 + ``margin``); only active layers count.
- **Tile cap**: never a layer larger than the tile shows: the smallest layer at least as wide as
  the tile (the largest, if none is), when the tile and every active layer have a known width.
- **Hidden** tile: ``Choice(None, "hidden")`` at once (audio goes on); when it shows again the
  layer it had comes back at once (the budget says little then: nothing was sent to measure).
- **Down fast**: when the budget stays under the current layer's bitrate x ``keep_ratio`` for
  ``down_hold_ms`` (at once under half of it: no frame of it gets through whole), the best
  layer that fits 0.6 of the budget when the link loses packets (a fall's budget is a first
  guess on a congested link), 0.9 of it on a delay signal alone (else the lowest); on the
  lowest, after ``weak_hold_ms`` more,
  ``Choice(None, "weak")``: audio only, the page says so.
- **First choice**: the best layer the budget fits among those arriving now (a layer paused by
  dynacast is not measured: see :class:`~streaming.adaptation.LayerOption`).
- **Up slowly**: only after the budget stayed at or above the next layer's need for the *hold*
  (``up_hold_ms``), to the best layer the lowest budget of that time fits; from weak the same
  way, back to video by itself. A budget that cannot show such headroom is what probing is for
  (streaming/probe.py): :attr:`LayerChooser.goal` names the layer to prove.
- **Backoff**: an up-switch followed by a down-switch within ``up_fail_ms`` doubles the hold
  (at most ``up_hold_max_ms``); one that lasts puts it back to ``up_hold_ms``.
- One layer: ``Choice(0, "only")`` unless hidden or weak. No active layer: ``Choice(None,
  "bandwidth")`` (the publisher sends nothing; not the viewer's fault, so not "weak"); when
  layers arrive again the choice is a first choice, without the up hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.settings import AdaptSettings
from streaming.adaptation import Choice, LayerOption, Reason, TileView

SEVERE = 0.5  # a budget under this share of the current layer's rate goes down without a hold
DOWN_SAFETY = 0.6  # going down after a lossy fall, the layer must fit this share of the budget
# ...and after a fall without loss (a REMB: already 0.85 x what the viewer measured). Aiming at
# 0.6 of it there fed a spiral: Chromium measures the lower rate it then gets, and one more
# overuse signal (a CPU-starved viewer's late packets) cut its REMB to 0.85 x that, so one
# spell of delay took a 4 Mbit/s viewer from f to audio only in three seconds (measured)
DELAY_SAFETY = 0.9


def need_bps(option: LayerOption, margin: float) -> int:
    """What a viewer's budget must hold to take ``option`` (its bitrate with a margin)."""
    return int(option.bitrate_bps * (1 + margin))


def ladder(options: Sequence[LayerOption], view: TileView) -> list[int]:
    """Indices of the active layers a viewer may get, lowest first, up to the tile cap."""
    active = [i for i, option in enumerate(options) if option.active]
    if view.width <= 0 or not active or any(options[i].width <= 0 for i in active):
        return active
    for position, index in enumerate(active):
        if options[index].width >= view.width:
            return active[: position + 1]
    return active


class LayerChooser:
    """Hysteresis state for one viewer of one track; see the module docstring for the rules."""

    def __init__(self, settings: AdaptSettings) -> None:
        self._s = settings
        self.current: int | None = None  # the layer given now (None: no video)
        self.reason: Reason = "bandwidth"
        self.goal: int | None = None  # the next layer up, which the budget has not shown yet
        self.switches = 0
        self._started = False
        # no layer offered (the publisher sends nothing): the answer stays None until one
        # arrives, and the allocator's ``changed`` wakes the viewer then (issue 19: a paused
        # room's viewers were chosen at every tick, ~0.2 ms/s each)
        self._waiting = False
        self._resume: int | None = None  # the layer before the tile was hidden
        self._below_since: float | None = None
        self._weak_since: float | None = None
        self._above_since: float | None = None
        self._above_min = 0
        self._hold = settings.up_hold_ms / 1000
        self._up_at: float | None = None
        self._lossy = True

    @property
    def settled(self) -> bool:
        """No hold or backoff running and no layer to prove: the same budget, layers and view
        give the same answer later (streaming/viewer_adapt.py looks at such viewers less
        often, issue 19)."""
        return ((self._started or self._waiting) and self.goal is None and self._resume is None
                and self._up_at is None and self._below_since is None
                and self._weak_since is None and self._above_since is None)

    def choose(
        self, options: Sequence[LayerOption], budget_bps: int, view: TileView, now: float,
        lossy: bool = True,
    ) -> Choice:
        """The layer for this viewer now (an index into ``options``), and why. ``lossy``:
        whether the viewer's link loses packets now (False: a fall is a delay signal)."""
        self._lossy = lossy
        self._settle_backoff(now)
        self.goal = None
        if not view.visible:
            return self._hide()
        if self.reason == "hidden" and self._resume is None and self._started:
            self.reason = "weak"  # it was hidden while audio-only: still so until proven
        steps = ladder(options, view)
        layer = self._pick(options, steps, budget_bps, now)
        if layer is None:
            return Choice(None, self.reason)
        if len(options) == 1:
            return Choice(layer, "only")
        capped = len(steps) < sum(option.active for option in options)
        return Choice(layer, "tile" if capped and layer == steps[-1] else "bandwidth")

    def _pick(
        self, options: Sequence[LayerOption], steps: list[int], budget: int, now: float
    ) -> int | None:
        current = self.current
        if not steps:
            # the publisher sends nothing: when its layers arrive again that is a first choice
            # (no up hold, no budget to prove: nothing was sent meanwhile to measure it by)
            self._started, self._waiting = False, True
            return self._set(None, "bandwidth", now)
        self._waiting = False
        if not self._started or self._resume is not None:
            return self._start(options, steps, budget, now)
        if current is not None and current not in steps:
            return self._set(self._fit(options, steps, budget, steps[0]), "bandwidth", now)
        if current is not None and self._falling(options[current], budget, now):
            return self._down(current, options, steps, budget, now)
        return self._up(options, steps, budget, now)

    def _hide(self) -> Choice:
        if self.current is not None:
            self._resume = self.current
        self.current, self.reason = None, "hidden"
        self._reset_timers()
        return Choice(None, "hidden")

    def _start(
        self, options: Sequence[LayerOption], steps: list[int], budget: int, now: float
    ) -> int | None:
        """The first choice, or the return of a hidden tile: no hold, the budget or the past."""
        self._started = True
        resume, self._resume = self._resume, None
        if resume is not None:
            return self._set(max([i for i in steps if i <= resume] or steps[:1]), "bandwidth", now)
        # a first choice among the layers that arrive now: a paused layer's remembered rate
        # may be its encoder's ramp-up (measured: f "known" at ~400 kbit/s, then ~1.3 Mbit/s
        # once resumed, into a 700 kbit/s link); the next layer up is probed for as usual
        arriving = [i for i in steps if not options[i].paused] or steps[:1]
        return self._set(self._fit(options, arriving, budget, arriving[0]), "bandwidth", now)

    def _falling(self, option: LayerOption, budget: int, now: float) -> bool:
        """Whether the budget has stayed under the current layer's keep level for the hold."""
        if budget >= option.bitrate_bps * self._s.keep_ratio:
            self._below_since = self._weak_since = None
            return False
        if self._below_since is None:
            self._below_since = now
        if budget < option.bitrate_bps * SEVERE:
            return True  # not half of it gets through: every frame is broken, go now
        return now - self._below_since >= self._s.down_hold_ms / 1000

    def _down(
        self, current: int, options: Sequence[LayerOption], steps: list[int], budget: int,
        now: float,
    ) -> int | None:
        # a fall's budget is a first guess, measured on a congested link: aim below it (a
        # layer that only just fits stalls on the queue the fall left; probing goes up again)
        safety = DOWN_SAFETY if self._lossy else DELAY_SAFETY
        target = self._fit(options, steps, int(budget * safety), steps[0])
        if target < current:
            return self._set(target, "bandwidth", now)
        if self._weak_since is None:
            self._weak_since = now
        if now - self._weak_since >= self._s.weak_hold_ms / 1000:
            return self._set(None, "weak", now)
        return current

    def _up(
        self, options: Sequence[LayerOption], steps: list[int], budget: int, now: float
    ) -> int | None:
        higher = [i for i in steps if self.current is None or i > self.current]
        if not higher:
            return self.current
        step = higher[0]
        if budget < need_bps(options[step], self._s.margin):
            self.goal, self._above_since = step, None
            return self.current
        if self._above_since is None:
            self._above_since, self._above_min = now, budget
        self._above_min = min(self._above_min, budget)
        if now - self._above_since < self._hold:
            return self.current
        self._up_at = now
        return self._set(self._fit(options, higher, self._above_min, step), "bandwidth", now)

    def _fit(
        self, options: Sequence[LayerOption], steps: list[int], budget: int, floor: int
    ) -> int:
        """The highest of ``steps`` whose need ``budget`` holds, else ``floor``."""
        fitting = [i for i in steps if need_bps(options[i], self._s.margin) <= budget]
        return fitting[-1] if fitting else floor

    def _set(self, layer: int | None, reason: Reason, now: float) -> int | None:
        if layer != self.current:
            self.switches += 1
            if self._failed_up(layer, now):
                self._hold = min(self._hold * 2, self._s.up_hold_max_ms / 1000)
                self._up_at = None
        self.current, self.reason = layer, reason
        self._reset_timers()
        return layer

    def _failed_up(self, layer: int | None, now: float) -> bool:
        """Whether going to ``layer`` now undoes an up-switch made within ``up_fail_ms``."""
        if self._up_at is None or now - self._up_at >= self._s.up_fail_ms / 1000:
            return False
        return layer is None or (self.current is not None and layer < self.current)

    def _reset_timers(self) -> None:
        self._below_since = self._weak_since = self._above_since = None

    def _settle_backoff(self, now: float) -> None:
        """An up-switch that lasted ``up_fail_ms`` succeeded: the hold returns to its base."""
        if self._up_at is not None and now - self._up_at >= self._s.up_fail_ms / 1000:
            self._hold, self._up_at = self._s.up_hold_ms / 1000, None
