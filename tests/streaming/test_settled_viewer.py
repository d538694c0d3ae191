"""A settled viewer's layers are chosen less often, and at once on news (issue 19).

Adaptation chose every viewer's layers ten times a second; at 100 viewers of one stream that
was ~40 % of the node's CPU with no media flowing. A viewer with nothing moving (no hold, no
probe, no switch pending, nothing to prove) is now chosen every ``settled_ms``, and at the next
tick whenever something could change the answer. These tests drive the pure
:class:`~streaming.viewer_adapt.ViewerAdaptation` with a real Source and Subscription (the
send path records), on the test's own clock.
"""

from __future__ import annotations

import asyncio
import itertools
import struct

from hypothesis import example, given, settings
from hypothesis import strategies as st

from config import AdaptSettings, MediaLimits
from streaming import rtp_header
from streaming.adaptation import LayerOption, TileView
from streaming.allocator import Allocator
from streaming.layer_choice import LayerChooser
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription
from streaming.viewer import FEEDBACK_SAMPLE_S
from streaming.viewer_adapt import SETTLED_SAMPLE_S, Ranked, Sent, ViewerAdaptation

VP8 = Codec(96, "video/VP8", 90000)
RATE = 1_000_000  # the one layer's rate, as its option says
SETTINGS = AdaptSettings(start_kbps=5_000, settled_ms=500)


class Recorder:
    """The Subscription's egress: records instead of sending."""

    def __init__(self) -> None:
        self.packets = 0

    def batch_rtp(self, _batch: object, template: bytes, seq: int, ts: int, ssrc: int) -> bool:
        return self.send_rtp(template, seq, ts, ssrc)

    def send_rtp(self, _template: bytes, _seq: int, _ts: int, _ssrc: int) -> bool:
        self.packets += 1
        return True


def _keyframe(seq: int) -> bytes:
    header = struct.pack("!BBHII", 0x80, 0x80 | 96, seq, 3000 * seq, 11)
    descriptor = bytes([0x90, 0x80, 0x80, 0x05])  # VP8: start of partition 0, PictureID
    return header + descriptor + bytes([0x00, 0, 0, 0x9D, 0x01, 0x2A]) + bytes(30)


class Viewer:
    """One viewer of a one-layer video track, and the counters its leg would pass."""

    def __init__(self, settings: AdaptSettings = SETTINGS) -> None:
        self.source = Source("p/video0", "room", "video", VP8, MediaLimits())
        self.sink = Recorder()
        self.sub = Subscription("viewer", "video", Route(96, 1234, bytes(256), 90000),
                                self.sink)  # type: ignore[arg-type]
        self.source.attach(self.sub, 0)
        data = _keyframe(1)
        self.source.on_rtp(data, rtp_header.parse(data), 0)  # started, on layer 0
        self.adaptation = ViewerAdaptation(settings)
        self.subs = [(self.source, self.sub)]
        self.octets = 0
        self.nacked = 0
        self.view = TileView()

    def ranked(self, _source: Source) -> Ranked:
        return [(0, LayerOption("", RATE, 640, 360, True))]

    def sent(self) -> Sent:
        return Sent(self.octets, self.octets // 1200, self.nacked)

    def due(self, now: float, changed: set[int] | None = None) -> bool:
        return self.adaptation.due(now, self.nacked, changed or set(), self.subs)

    def tick(self, now: float) -> None:
        self.octets += RATE // 8 // 10  # a tick's worth of media went out
        self.adaptation.tick(self.subs, self.view, self.ranked, self.sent(), now)

    def settle(self) -> float:
        """Ticks every 100 ms until this viewer is settled; returns the last tick's time."""
        now = 0.0
        while now < 5 and (now == 0.0 or self.due(now + 0.1)):
            now += 0.1
            self.tick(now)
        assert not self.due(now + 0.1), "a viewer on its only layer, link fine, settles"
        return now


async def test_a_settled_viewer_is_chosen_every_settled_ms_not_every_tick() -> None:
    viewer = Viewer()
    now = viewer.settle()
    assert now >= 1.2, "not in the send rate's first window on its layer"
    assert [viewer.due(now + dt) for dt in (0.1, 0.2, 0.3, 0.4)] == [False] * 4
    assert viewer.due(now + 0.5)
    choices = viewer.adaptation.choices
    for step in range(1, 31):  # three seconds of ticks, each asking first
        if viewer.due(now + step * 0.1):
            viewer.tick(now + step * 0.1)
    assert viewer.adaptation.choices - choices == 6, "twice a second, not ten times"


async def test_settled_ms_100_chooses_at_every_tick_as_before() -> None:
    viewer = Viewer(AdaptSettings(start_kbps=5_000, settled_ms=100))
    for step in range(1, 31):
        now = step * 0.1
        assert viewer.due(now)
        viewer.tick(now)


async def test_a_falling_estimate_or_a_lossy_link_is_news_a_rising_one_is_not() -> None:
    viewer = Viewer()
    now = viewer.settle()
    viewer.adaptation.on_remb(20_000_000, now + 0.05)  # at least this much: no news
    assert not viewer.due(now + 0.1)
    viewer.adaptation.on_loss(0.01, now + 0.06)  # a little loss, the estimate holds
    assert not viewer.due(now + 0.1)
    viewer.adaptation.on_remb(600_000, now + 0.07)  # Chromium's overuse answer
    assert viewer.due(now + 0.1)

    viewer = Viewer()
    now = viewer.settle()
    viewer.adaptation.on_loss(0.3, now + 0.05)
    assert viewer.due(now + 0.1)


async def test_a_nack_a_view_a_track_or_a_changed_offer_is_news() -> None:
    viewer = Viewer()
    now = viewer.settle()
    viewer.nacked += 1
    assert viewer.due(now + 0.1)

    viewer = Viewer()
    now = viewer.settle()
    assert not viewer.due(now + 0.1, {id(viewer.source) + 1})  # another source's offer
    assert viewer.due(now + 0.1, {id(viewer.source)})

    viewer = Viewer()
    now = viewer.settle()
    viewer.adaptation.touch()  # the leg's set_view and its new tracks
    assert viewer.due(now + 0.1)
    viewer.adaptation.forget(viewer.sub)
    viewer.tick(now + 0.1)
    viewer.adaptation.forget(viewer.sub)
    assert viewer.due(now + 0.2)


async def test_a_viewer_whose_link_falls_is_chosen_at_every_tick_until_it_has_moved() -> None:
    """The hold that takes it down (``down_hold_ms``) runs on every tick, not every 500 ms:
    the answer to a weak link comes as soon as before."""
    viewer = Viewer()
    now = viewer.settle()
    viewer.adaptation.on_remb(700_000, now + 0.05)  # under the layer's keep level
    times = []
    for step in range(1, 25):
        t = now + step * 0.1
        if viewer.due(t):
            times.append(round(t - now, 1))
            viewer.tick(t)
        if viewer.adaptation._told.get(id(viewer.sub), (None, ""))[1] == "weak":
            break
    assert times[:5] == [0.1, 0.2, 0.3, 0.4, 0.5], "every tick while the hold runs"
    assert viewer.source.target_of(viewer.sub) is None, "audio only: the link is too weak"


def test_a_chooser_with_a_hold_or_a_goal_is_not_settled() -> None:
    options = [LayerOption("q", 150_000, 320, 180, True), LayerOption("f", 1_500_000, 1280, 720,
                                                                      True)]
    chooser = LayerChooser(SETTINGS)
    assert not chooser.settled, "before its first choice"
    chooser.choose(options, 5_000_000, TileView(), 0.0)
    assert chooser.settled, "on the top layer, the budget ample"
    chooser.choose(options, 1_000_000, TileView(), 0.1)  # under f's keep level: a hold
    assert not chooser.settled
    chooser = LayerChooser(SETTINGS)
    chooser.choose(options, 500_000, TileView(), 0.0)  # q
    chooser.choose(options, 500_000, TileView(), 0.1)  # and f to prove
    assert chooser.goal == 1 and not chooser.settled


def test_the_allocator_names_sources_whose_offer_changed() -> None:
    allocator = Allocator(list, list, lambda leg, quality: None, lambda source, rids: None)
    q = LayerOption("q", 150_000, 320, 180, True)
    f = LayerOption("f", 1_500_000, 1280, 720, True)
    assert allocator._changed({1: [(0, q), (1, f)]}) == {1}, "a new source"
    assert allocator._changed({1: [(0, q), (1, f)]}) == set()
    drifted = LayerOption("f", 1_300_000, 1280, 720, True)
    assert allocator._changed({1: [(0, q), (1, drifted)]}) == set(), "a rate drift is not news"
    stopped = LayerOption("f", 1_300_000, 1280, 720, False)
    assert allocator._changed({1: [(0, q), (1, stopped)]}) == {1}
    assert allocator._changed({}) == {1}, "an ended source"


async def test_a_viewer_not_due_takes_its_counters_four_times_a_second() -> None:
    """Issue 19: between its choices a settled viewer's counters are taken every
    ``SETTLED_SAMPLE_S``, not at every tick, and its send rate stays what it is sent."""
    viewer = Viewer()
    now = viewer.settle()
    taken: list[float] = [now]
    at = now

    def counters() -> Sent:
        taken.append(at)
        return viewer.sent()

    for step in range(1, 31):  # three seconds of ticks
        at = now + step * 0.1
        viewer.octets += RATE // 8 // 10
        if viewer.due(at):
            viewer.adaptation.tick(viewer.subs, viewer.view, viewer.ranked, counters(), at)
        else:
            viewer.adaptation.refresh(counters, at, SETTLED_SAMPLE_S)
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    assert len(taken) - 1 <= 15, "about four times a second, not ten"
    assert max(gaps) <= SETTLED_SAMPLE_S + 0.1 + 1e-9, gaps
    sending = viewer.adaptation.estimator.sending(taken[-1])
    assert sending is not None and abs(sending - RATE) <= RATE * 0.05, sending


async def test_feedback_meets_a_fresh_sample() -> None:
    """A REMB or receiver report between samples is judged against the counters of now: the
    leg refreshes with a tick's age first (streaming/viewer.py ``FEEDBACK_SAMPLE_S``)."""
    viewer = Viewer()
    now = viewer.settle()
    calls: list[float] = []

    def counters() -> Sent:
        calls.append(now + 0.2)
        return viewer.sent()

    viewer.adaptation.refresh(counters, now + 0.05, FEEDBACK_SAMPLE_S)
    assert calls == [], "a sample 50 ms old is fresh enough"
    viewer.adaptation.refresh(counters, now + 0.2, FEEDBACK_SAMPLE_S)
    assert calls == [now + 0.2] and viewer.adaptation.sampled_at == now + 0.2


async def test_a_viewer_of_a_paused_publisher_settles_and_wakes_when_its_layers_return() -> None:
    """The publisher sends nothing (every layer inactive): no answer but "none" until one
    arrives, so its viewers are not chosen at every tick (issue 19: ~0.2 ms/s per viewer of a
    paused room); the allocator's ``changed`` wakes them, and the layer comes back at once."""
    viewer = Viewer()
    now = viewer.settle()
    active = True
    viewer.ranked = lambda _source: [(0, LayerOption("", RATE, 640, 360, active))]  # type: ignore[method-assign]
    active = False
    chosen = 0
    for step in range(1, 61):  # six seconds of a paused publisher, offered no layer
        if viewer.due(now + step * 0.1, {id(viewer.source)} if step == 1 else None):
            viewer.tick(now + step * 0.1)
            chosen += step > 30  # the last three seconds: its send rate's window is long past
    assert viewer.source.target_of(viewer.sub) is None
    assert chosen == 6, "settled: twice a second, not ten times"
    later = now + 6.0
    assert not viewer.due(later + 0.1)
    chosen = viewer.adaptation.choices
    active = True
    assert viewer.due(later + 0.1, {id(viewer.source)}), "its layers came back: news"
    viewer.tick(later + 0.1)
    assert viewer.source.target_of(viewer.sub) == 0, "at once: a first choice"
    assert viewer.adaptation.choices == chosen + 1


def test_a_chooser_offered_no_layer_is_settled_and_its_return_is_a_first_choice() -> None:
    on = LayerOption("f", 1_500_000, 1280, 720, True)
    off = LayerOption("f", 0, 1280, 720, False)
    chooser = LayerChooser(SETTINGS)
    chooser.choose([on], 5_000_000, TileView(), 0.0)
    assert chooser.choose([off], 5_000_000, TileView(), 0.1).layer is None
    assert chooser.settled, "nothing can change until a layer is offered again"
    assert chooser.choose([on], 200_000, TileView(), 0.2).layer == 0, "no up hold"
    assert chooser.settled


@given(st.lists(st.sampled_from(["tick", "remb-low", "remb-high", "loss", "clean", "nack",
                                 "touch", "feedback"]), min_size=1, max_size=80))
@example(["nack", "tick"]).via("a NACK between two samples")
@example(["remb-low", "tick"]).via("a fall between two samples")
@example(["tick", "tick", "tick", "tick"]).via("the next sample")
@settings(max_examples=100, deadline=None)
def test_a_viewer_passed_by_is_one_that_would_neither_choose_nor_sample(
    events: list[str],
) -> None:
    """The allocator passes a viewer by while ``now < wake_at`` (issue 19: calling into every
    settled viewer at every tick cost ~3 % of a busy node): whatever came before, such a tick
    would neither choose (:meth:`due`) nor sample (``refresh`` at ``SETTLED_SAMPLE_S``)."""
    asyncio.run(_pass_by(events))  # a Source needs a running loop


async def _pass_by(events: list[str]) -> None:
    viewer = Viewer()
    now = viewer.settle()
    adaptation = viewer.adaptation
    for event in events:
        now += 0.1 if event == "tick" else 0.01
        if event == "tick":
            due = viewer.due(now)
            samples = now - adaptation.sampled_at >= SETTLED_SAMPLE_S
            if now < adaptation.wake_at:
                assert not due and not samples, (now, adaptation.wake_at)
            if due:
                viewer.tick(now)
            else:
                adaptation.refresh(viewer.sent, now, SETTLED_SAMPLE_S)
        elif event.startswith("remb"):
            adaptation.on_remb(600_000 if event == "remb-low" else 20_000_000, now)
        elif event in ("loss", "clean"):
            adaptation.on_loss(0.3 if event == "loss" else 0.0, now)
        elif event == "nack":
            viewer.nacked += 1
            adaptation.on_nack()
        elif event == "touch":
            adaptation.touch()
        else:
            adaptation.refresh(viewer.sent, now, FEEDBACK_SAMPLE_S)
        viewer.octets += RATE // 8 // 100
