"""ViewerAdaptation: what one viewer connection gets of each video track (issue 14 §2-3).

A simulcast track's layer, or for a one-layer track, video or not: a hidden tile, or a link
below what the track needs, pauses it (audio goes on) until it shows, or the link carries it.

It joins the parts: the viewer's feedback (REMB, receiver reports' loss) feeds its
:class:`~streaming.bandwidth.DownlinkEstimator` and :class:`~streaming.probe.Prober`; every
adaptation tick (streaming/allocator.py) each simulcast track's
:class:`~streaming.layer_choice.LayerChooser` picks a layer within the track's share of the
estimate and what the page shows; the Source switches the viewer at that layer's next keyframe.
When a chooser wants a layer the estimate has not shown yet, the prober pads the viewer's video
stream (RTP padding, between frames) so its REMB can show the headroom.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from config.settings import AdaptSettings
from streaming.adaptation import LayerOption, Reason, TileView
from streaming.bandwidth import DownlinkEstimator
from streaming.layer_choice import LayerChooser, need_bps
from streaming.probe import Prober
from streaming.source import Source
from streaming.subscription import Subscription

logger = logging.getLogger(__name__)
LOSSY = 0.10  # a fraction lost above which a viewer's link is congested
SENT_WINDOW_S = 1.2  # the send rate's window (streaming/bandwidth.py SendRate) and a margin
NACK_WINDOW_S = 0.5  # NACKed packets are counted against what was sent over this
NACK_LOSS_MIN_PACKETS = 30  # packets sent in the window below which NACKs say too little
EARLY_S = 0.01  # a tick may come this much early (timers, rounding): settled_ms 100 is every tick
SETTLED_SAMPLE_S = 0.25  # a viewer not due takes its counters this often (see ViewerLeg.adapt)
AUDIO_BPS = 50_000  # what one audio track is assumed to take of the budget (Opus and overhead)
Ranked = list[tuple[int, LayerOption]]  # (layer index, option), lowest first


def audio_of(subscriptions: Sequence[tuple[Source, Subscription]]) -> int:
    """What the audio tracks among ``subscriptions`` take, as the budget counts it."""
    return AUDIO_BPS * sum(1 for source, _ in subscriptions if source.kind == "audio")


@dataclass(frozen=True, slots=True)
class Sent:
    """A viewer connection's counters: bytes and RTP packets sent, packets it NACKed."""

    octets: int
    packets: int
    nacked: int
    padding: int = 0  # of ``octets``: probe padding


@dataclass(frozen=True, slots=True)
class Quality:
    """What a viewer gets of one video track now, as the page is told."""

    source: Source
    layer: str | None
    width: int
    height: int
    reason: Reason


class ViewerAdaptation:
    """Per viewer connection: its estimate, its probe and a chooser per simulcast track."""

    def __init__(self, settings: AdaptSettings) -> None:
        self._settings = settings
        self.estimator = DownlinkEstimator(settings)
        self.prober = Prober(settings)
        self.padding_bps = 0
        self._choosers: dict[int, LayerChooser] = {}  # id(Subscription) -> its chooser
        self._told: dict[int, tuple[str | None, Reason]] = {}
        self._on_layer: dict[int, tuple[int, float]] = {}  # id(sub) -> (its layer, since)
        self._sent = Sent(0, 0, 0)
        self._window: deque[tuple[float, Sent]] = deque(maxlen=64)
        self.loss = 0.0  # the video's fraction lost in the viewer's last receiver report
        self._due = True  # news since the last choice (see :meth:`due`)
        self._next_at = -math.inf  # when a settled viewer's layers are chosen again
        self.sampled_at = -math.inf  # the last :meth:`sample`
        # before this, with no news, a tick has nothing to do here: no choice, no sample (the
        # allocator passes such a viewer by; issue 19: calling into each was ~3 % of a busy
        # node at 400 viewers). News sets it back to -inf (:meth:`_news`, :meth:`on_nack`)
        self.wake_at = -math.inf
        self.choices = 0  # ticks that chose (the others found this viewer settled)

    def due(self, now: float, nacked: int, changed: Collection[int],
            subscriptions: Sequence[tuple[Source, Subscription]]) -> bool:
        """Whether this tick must choose this viewer's layers (issue 19: a node's idle cost per
        viewer was ~40 % these choices, ten a second for every viewer).

        Always while anything moves: a hold or probe running, a switch pending, a goal to
        prove (:meth:`_settled`). A *settled* viewer is chosen for every ``settled_ms``, and at
        once on news that could change the answer: feedback that lowers the estimate or turns
        the link lossy, a NACK, its tile's view or tracks (:meth:`touch`), the layers one of
        its sources offers (``changed``: ids of Sources whose options changed this tick)."""
        if self._due or now >= self._next_at or nacked != self._sent.nacked:
            return True
        return bool(changed) and any(id(source) in changed for source, _ in subscriptions)

    def refresh(self, counters: Callable[[], Sent], now: float, age: float) -> None:
        """:meth:`sample` the viewer's ``counters`` unless they were taken less than ``age``
        seconds ago: ``SETTLED_SAMPLE_S`` at a tick that does not choose (issue 19: sampling
        every viewer at every tick was most of a node's idle adaptation cost), a tick's age
        before feedback is judged, so it meets rates as fresh as it did when every tick
        sampled."""
        if now - self.sampled_at >= age:
            self.sample(counters(), now)

    def touch(self) -> None:
        """Something the choice depends on changed (the view, the tracks): choose next tick."""
        self._news()

    def on_nack(self) -> None:
        """The viewer NACKed packets sent recently (its ``nacked`` grew): :meth:`due` sees it
        at the next tick, which must not pass this viewer by."""
        self.wake_at = -math.inf

    def _news(self) -> None:
        self._due = True
        self.wake_at = -math.inf

    def on_remb(self, bitrate_bps: int, now: float) -> None:
        before = self.estimator.raw(now)
        self.estimator.on_remb(bitrate_bps, now)
        self.prober.on_remb(bitrate_bps, now)
        if self.estimator.raw(now) < before:
            self._news()  # a fall is obeyed at the next tick; a rise waits for its hold

    def on_loss(self, fraction_lost: float, now: float) -> None:
        before = self.estimator.raw(now)
        lossy = self.loss > LOSSY
        self.loss = fraction_lost
        self.estimator.on_loss(fraction_lost, now)
        self.prober.on_loss(fraction_lost, now)
        if self.estimator.raw(now) < before or (fraction_lost > LOSSY) != lossy:
            self._news()

    def sample(self, sent: Sent, now: float) -> None:
        """Take the viewer's counters: what was sent (the estimator's and the choice's send
        rates) and NACKed since the last sample. Every ``SETTLED_SAMPLE_S`` at least, at every
        choice, and before feedback is judged (:meth:`refresh`): a settled viewer's REMB,
        receiver reports and NACKs are judged against rates as fresh as a tick's."""
        self.sampled_at = now
        self.estimator.on_sent(max(0, sent.octets - self._sent.octets), now,
                               max(0, sent.padding - self._sent.padding))
        self._nack_loss(sent, now)
        self._sent = sent
        if not self._due:
            self.wake_at = min(self._next_at, now + SETTLED_SAMPLE_S)

    def tick(
        self,
        subscriptions: Sequence[tuple[Source, Subscription]],
        view: TileView,
        ranked: Callable[[Source], Ranked],
        sent: Sent,
        now: float,
    ) -> list[Quality]:
        """Choose each simulcast track's layer; returns what changed for the page."""
        self.sample(sent, now)
        self.choices += 1
        budget = self.estimator.estimate(now)
        audio = audio_of(subscriptions)
        layered = [(s, sub) for s, sub in subscriptions
                   if s.kind == "video" and not s.ended.is_set()]
        share = max(0, budget - audio) // max(1, len(layered))
        # what each video is sent, probe padding aside (a probe must not look like a fall)
        sending = self.estimator.sending(now) or 0
        sent_share = max(0, (self.estimator.media(now) or 0) - audio) // max(1, len(layered))
        changes: list[Quality] = []
        goal, goal_wanted = audio, False
        for source, sub in layered:
            options = ranked(source)
            if not options:
                continue
            chooser = self._choosers.get(id(sub))
            if chooser is None:
                chooser = self._choosers[id(sub)] = LayerChooser(self._settings)
            seen = self._as_sent(options, sub, sent_share, now)
            choice = chooser.choose(seen, share, view, now, lossy=self.loss > LOSSY)
            index = None if choice.layer is None else options[choice.layer][0]
            if index != source.target_of(sub):
                logger.info(
                    "viewer %s: %s layer %s -> %s (%s), budget %d bit/s, sending %s",
                    sub.viewer_id, source.source_id, source.target_of(sub), index,
                    choice.reason, share, sending,
                )
                source.set_target(sub, index, at_once=self._congested(source, sub, index))
            wanted = chooser.goal if chooser.goal is not None else choice.layer
            goal_wanted = goal_wanted or chooser.goal is not None
            if wanted is not None:
                goal += need_bps(options[wanted][1], self._settings.margin)
            change = self._told_change(source, sub, choice.reason)
            if change is not None:
                changes.append(change)
        self._probe(goal if goal_wanted else 0, sending, now)
        self._due = False
        self._next_at = (now + self._settings.settled_ms / 1000 - EARLY_S
                         if self._settled(layered, now) else now)
        self.wake_at = min(self._next_at, self.sampled_at + SETTLED_SAMPLE_S)
        return changes

    def _settled(self, layered: Sequence[tuple[Source, Subscription]], now: float) -> bool:
        """Whether another choice now would find the same answer unless the estimate, the
        layers offered or the view change: no probe, no hold, nothing to prove, no switch
        pending, every track on its layer for the send rate's window."""
        if self.padding_bps or self.prober.running:
            return False
        for source, sub in layered:
            chooser = self._choosers.get(id(sub))
            if chooser is not None and not chooser.settled:
                return False
            if source.target_of(sub) != (sub.layer if sub.layer >= 0 else None):
                return False  # a switch (or a first layer) waits for its keyframe
            layer, since = self._on_layer.get(id(sub), (None, now))
            if layer != sub.layer or now - since < SENT_WINDOW_S:
                return False
        return True

    def _as_sent(
        self, options: Ranked, sub: Subscription, sent_bps: int, now: float
    ) -> list[LayerOption]:
        """The options, the layer the viewer gets now at no less than what it is sent: a layer
        just resumed still shows a low rate, and a fall must be judged against what goes out.
        Not in the first second on a layer: what was sent then was mostly the previous one."""
        layer, since = self._on_layer.get(id(sub), (None, now))
        if layer != sub.layer:
            self._on_layer[id(sub)] = (sub.layer, now)
            since = now
        if now - since < SENT_WINDOW_S:
            return [option for _, option in options]
        return [
            replace(option, bitrate_bps=sent_bps)
            if index == sub.layer and sent_bps > option.bitrate_bps else option
            for index, option in options
        ]

    def _nack_loss(self, sent: Sent, now: float) -> None:
        """Loss as the viewer's NACKs show it, over the last ``NACK_WINDOW_S``: a receiver report
        says it only every 0.25-1 s, a NACK within a round trip of the gap (RFC 4585 §3.4).
        Taken only when it says congestion; the reports say the rest."""
        window = self._window
        window.append((now, sent))
        while len(window) > 2 and now - window[1][0] >= NACK_WINDOW_S:
            window.popleft()
        first = window[0][1]
        packets = sent.packets - first.packets
        nacked = sent.nacked - first.nacked
        if packets >= NACK_LOSS_MIN_PACKETS and nacked / packets > LOSSY:
            logger.debug("nack loss %.2f (%d of %d)", nacked / packets, nacked, packets)
            self.on_loss(min(1.0, nacked / packets), now)

    def _congested(self, source: Source, sub: Subscription, index: int | None) -> bool:
        """Going down on a link that loses packets: the current layer stops at once. Its
        packets would be lost anyway, and would queue ahead of the lower layer's keyframe."""
        if index is None or sub.layer < 0 or self.loss <= LOSSY:
            return False
        return source.rank.index(index) < source.rank.index(sub.layer)

    def _probe(self, goal_bps: int, sending_bps: int, now: float) -> None:
        step = self.prober.update(goal_bps, sending_bps, self.estimator.raw(now), now)
        if step.proven_bps:
            self.estimator.on_probe(step.proven_bps, now)
        self.padding_bps = step.padding_bps

    def _told_change(self, source: Source, sub: Subscription, reason: Reason) -> Quality | None:
        """The viewer's quality if it differs from what its page was last told."""
        layer = source.layers[sub.layer] if sub.layer >= 0 else None
        if layer is None and not sub.started and reason not in ("hidden", "weak"):
            return None  # its first layer is on the way: nothing to tell yet
        if layer is not None and reason in ("hidden", "weak"):
            reason = "bandwidth"  # still on its old layer until the switch: say so later
        rid = layer.rid if layer is not None else None
        if self._told.get(id(sub)) == (rid, reason):
            return None
        self._told[id(sub)] = (rid, reason)
        width, height = (layer.width, layer.height) if layer is not None else (0, 0)
        return Quality(source, rid, width, height, reason)

    def forget(self, sub: Subscription) -> None:
        self._news()
        self._choosers.pop(id(sub), None)
        self._on_layer.pop(id(sub), None)
        self._told.pop(id(sub), None)
