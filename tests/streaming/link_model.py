"""A toy downlink and a Chromium-like receiver, to drive the pure adaptation modules in tests.

Not a network: each tick the "viewer" receives at most the link's capacity and answers the way
Chromium's receive-side estimator was measured to (docs/media.md "Estimation and layer
choice"): REMB at most 1.5x what it receives (+10 kbit/s), rising ~8 %/s, and 0.85x what it
receives on overuse, with the loss a full link's queue causes. The controller does what the
viewer leg does each RTCP interval: feed the estimator and prober, ask the chooser, pad.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config.settings import AdaptSettings
from streaming.adaptation import Choice, LayerOption, TileView
from streaming.bandwidth import DownlinkEstimator
from streaming.layer_choice import LayerChooser, need_bps
from streaming.probe import Prober

TICK = 0.25  # Chromium's REMB interval, measured
AUDIO = 40_000
LAYERS = (
    LayerOption("q", 150_000, 320, 180),
    LayerOption("h", 500_000, 640, 360),
    LayerOption("f", 1_500_000, 1280, 720),
)


@dataclass
class ChromiumReceiver:
    """REMB and loss as a Chromium viewer behind a link of ``capacity`` bit/s would send."""

    estimate: float = 0.0
    silent_s: float = 4.5  # no REMB before (measured: the first came 4.5 s after media)

    def feedback(self, sent: float, capacity: float) -> tuple[int | None, float]:
        """REMB (None: not sent yet) and the fraction lost for one tick of ``sent`` bit/s."""
        self.silent_s -= TICK
        received = min(sent, capacity)
        if sent > capacity:
            self.estimate = 0.85 * received
            return self._remb(), 1 - capacity / sent
        if self.silent_s > 0:
            self.estimate = received  # its estimator starts from what it receives
        cap = 1.5 * received + 10_000  # libwebrtc AimdRateControl: increase up to it, then hold
        if self.estimate < cap:
            self.estimate = min(self.estimate * 1.08**TICK, cap)
        return self._remb(), 0.0

    def _remb(self) -> int | None:
        return None if self.silent_s > 0 else int(self.estimate)


@dataclass
class Viewer:
    """One viewer leg's adaptation: estimator, chooser, prober, and what it sends per tick."""

    settings: AdaptSettings = field(default_factory=AdaptSettings)
    layers: tuple[LayerOption, ...] = LAYERS
    view: TileView = field(default_factory=TileView)
    now: float = 0.0
    padding: int = 0
    choice: Choice = field(default_factory=lambda: Choice(None, "bandwidth"))
    choices: list[tuple[float, Choice]] = field(default_factory=list)
    padded: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.estimator = DownlinkEstimator(self.settings)
        self.chooser = LayerChooser(self.settings)
        self.prober = Prober(self.settings)
        self.receiver = ChromiumReceiver()
        self.estimator.on_sent(0, 0.0)

    def sending(self) -> int:
        layer = self.choice.layer
        video = self.layers[layer].bitrate_bps if layer is not None else 0
        return AUDIO + video + self.padding

    def tick(self, capacity: float) -> Choice:
        sent = self.sending()
        self.now += TICK
        remb, loss = self.receiver.feedback(sent, capacity)
        self.estimator.on_sent(int(sent * TICK / 8), self.now)
        for part in (self.estimator, self.prober):
            if remb is not None:
                part.on_remb(remb, self.now)
            part.on_loss(loss, self.now)
        estimate = self.estimator.estimate(self.now)
        self.choice = self.chooser.choose(self.layers, estimate - AUDIO, self.view, self.now)
        goal = self.chooser.goal
        goal_bps = 0 if goal is None else need_bps(self.layers[goal], self.settings.margin) + AUDIO
        raw = self.estimator.raw(self.now)
        step = self.prober.update(goal_bps, sent - self.padding, raw, self.now)
        if step.proven_bps:
            self.estimator.on_probe(step.proven_bps, self.now)
        self.padding = step.padding_bps
        if self.padding:
            self.padded.append(self.now)
        if not self.choices or self.choices[-1][1] != self.choice:
            self.choices.append((self.now, self.choice))
        return self.choice

    def run(self, capacity: float, seconds: float) -> Choice:
        for _ in range(round(seconds / TICK)):
            self.tick(capacity)
        return self.choice
