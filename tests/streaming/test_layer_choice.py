"""LayerChooser: tile cap, hidden, weak, hysteresis down fast / up slowly, backoff, one layer."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import AdaptSettings
from streaming.adaptation import Choice, LayerOption, TileView
from streaming.layer_choice import DOWN_SAFETY, LayerChooser, ladder, need_bps
from tests.streaming.link_model import LAYERS, Viewer

S = AdaptSettings()
SHOWN = TileView()
STEP = 0.25
# the first tick under the keep level starts the hold: the tick after it has passed goes down
# a budget under layer 2's keep level whose safe share still fits layer 1 (streaming.layer_choice
# DOWN_SAFETY), and not under half of layer 2 (no hold then)
FALLS_TO_ONE = int(need_bps(LAYERS[1], S.margin) / DOWN_SAFETY) + 10_000
HOLD_STEPS = math.ceil((STEP + S.down_hold_ms / 1000) / STEP)


def run(chooser: LayerChooser, budget: int, seconds: float, start: float,
        view: TileView = SHOWN, layers: tuple[LayerOption, ...] = LAYERS) -> tuple[Choice, float]:
    now = start
    choice = Choice(None, "bandwidth")
    for _ in range(round(seconds / STEP)):
        now += STEP
        choice = chooser.choose(layers, budget, view, now)
    return choice, now


@pytest.mark.parametrize(
    ("tile_width", "expected"),
    [
        (0, 2),  # unknown tile size: no cap
        (320, 0),  # a thumbnail gets the quarter layer
        (400, 1),  # the smallest layer at least as wide as the tile
        (1920, 2),  # wider than every layer: the largest
    ],
)
def test_the_tile_caps_the_layer(tile_width: int, expected: int) -> None:
    assert ladder(LAYERS, TileView(tile_width, 0))[-1] == expected
    choice = LayerChooser(S).choose(LAYERS, 10_000_000, TileView(tile_width, 0), 0.0)
    assert choice.layer == expected
    assert choice.reason == ("tile" if expected < 2 else "bandwidth")


def test_unknown_layer_widths_mean_no_cap() -> None:
    layers = tuple(LayerOption(o.rid, o.bitrate_bps) for o in LAYERS)
    assert ladder(layers, TileView(320, 180)) == [0, 1, 2]


def test_a_hidden_tile_pauses_video_and_gets_its_layer_back_at_once() -> None:
    chooser = LayerChooser(S)
    assert chooser.choose(LAYERS, 10_000_000, SHOWN, 0.0).layer == 2
    hidden = TileView(visible=False)
    assert chooser.choose(LAYERS, 10_000_000, hidden, 1.0) == Choice(None, "hidden")
    # nothing was sent while hidden, so the budget says little: the old layer comes back
    assert chooser.choose(LAYERS, 100_000, SHOWN, 2.0).layer == 2


@pytest.mark.parametrize(
    ("budget", "seconds", "expected"),
    [
        (FALLS_TO_ONE, (HOLD_STEPS - 1) * STEP, Choice(2, "bandwidth")),  # not yet
        (FALLS_TO_ONE, HOLD_STEPS * STEP, Choice(1, "bandwidth")),  # down once the hold passed
        (400_000, STEP, Choice(0, "bandwidth")),  # under half of it: down at once
        (1_400_000, 10, Choice(2, "bandwidth")),  # within keep_ratio of its bitrate: stays
        (100_000, 1.0, Choice(0, "bandwidth")),  # nothing fits: the lowest first...
        (100_000, 3.0, Choice(None, "weak")),  # ...then audio only after weak_hold
    ],
)
def test_down_is_fast(budget: int, seconds: float, expected: Choice) -> None:
    chooser = LayerChooser(S)
    chooser.choose(LAYERS, 10_000_000, SHOWN, 0.0)
    assert run(chooser, budget, seconds, 0.0)[0] == expected


def test_up_waits_for_the_hold_and_weak_comes_back_by_itself() -> None:
    chooser = LayerChooser(S)
    chooser.choose(LAYERS, 100_000, SHOWN, 0.0)
    choice, now = run(chooser, 100_000, 3.0, 0.0)
    assert choice == Choice(None, "weak") and chooser.goal == 0  # a probe should prove layer 0
    choice, now = run(chooser, 200_000, S.up_hold_ms / 1000 - STEP, now)
    assert choice == Choice(None, "weak")
    choice, now = run(chooser, 200_000, 2 * STEP, now)
    assert choice == Choice(0, "bandwidth")


def test_a_failed_up_switch_doubles_the_hold_up_to_its_cap() -> None:
    fits_one = FALLS_TO_ONE
    chooser = LayerChooser(S)
    chooser.choose(LAYERS, fits_one, SHOWN, 0.0)
    now = 0.0
    holds = []
    for _ in range(6):
        up, now = run(chooser, 10_000_000, chooser._hold + STEP, now)  # up to 2 after the hold
        down, now = run(chooser, fits_one, 1.0, now)  # ...and down again at once: failed
        assert (up.layer, down.layer) == (2, 1)
        holds.append(chooser._hold)
    assert holds == [6.0, 12.0, 24.0, 30.0, 30.0, 30.0]
    _, now = run(chooser, 10_000_000, 60, now)  # an up-switch that lasts
    assert chooser._hold == S.up_hold_ms / 1000


def switches_on_noise(settings: AdaptSettings) -> int:
    """Switches over a minute of a budget swinging ±30 % around layer 1's need, every 0.25 s."""
    rng = random.Random(14)
    chooser = LayerChooser(settings)
    now = 0.0
    for _ in range(240):
        now += STEP
        chooser.choose(LAYERS, int(need_bps(LAYERS[1], S.margin) * rng.uniform(0.7, 1.3)),
                       SHOWN, now)
    return chooser.switches


def test_a_noisy_budget_does_not_flap() -> None:
    assert switches_on_noise(S) <= 4
    # the same input without the holds and the keep/need band flaps: the test can fail
    bare = S.model_copy(update={"down_hold_ms": 0, "up_hold_ms": 0, "keep_ratio": 1.0,
                                "margin": 0.0, "weak_hold_ms": 0})
    assert switches_on_noise(bare) > 40


def test_a_single_layer_is_only_unless_hidden_or_weak() -> None:
    one = LAYERS[1:2]
    chooser = LayerChooser(S)
    assert chooser.choose(one, 10_000_000, TileView(320, 0), 0.0) == Choice(0, "only")
    assert run(chooser, 50_000, 3.0, 0.0, layers=one)[0] == Choice(None, "weak")
    assert chooser.choose(one, 50_000, TileView(visible=False), 4.0) == Choice(None, "hidden")


def test_no_active_layer_means_no_video_but_not_weak() -> None:
    off = tuple(LayerOption(o.rid, 0, o.width, o.height, active=False) for o in LAYERS)
    assert LayerChooser(S).choose(off, 10_000_000, SHOWN, 0.0) == Choice(None, "bandwidth")


@pytest.mark.parametrize("layers", [LAYERS[1:2], LAYERS], ids=["one layer", "simulcast"])
def test_layers_back_from_a_publisher_pause_are_a_first_choice_not_an_up_switch(
    layers: tuple[LayerOption, ...],
) -> None:
    """The publisher sent nothing for a while (every layer inactive: no video, not the viewer's
    fault); when its layers arrive again the viewer gets what fits at once, without the up
    hold or a budget it must prove first (a cascade edge's viewer stayed without video: its
    upstream paused on a loaded machine, and the return waited on an up-switch's rules)."""
    off = tuple(LayerOption(o.rid, 0, o.width, o.height, active=False) for o in layers)
    chooser = LayerChooser(S)
    first, now = run(chooser, 10_000_000, 2.0, 0.0, layers=layers)
    assert first.layer == len(layers) - 1
    assert chooser.choose(off, 10_000_000, SHOWN, now + STEP) == Choice(None, "bandwidth")
    back = chooser.choose(layers, 10_000_000, SHOWN, now + 2 * STEP)
    assert back.layer == len(layers) - 1, back
    # a budget that dropped meanwhile (nothing was sent to measure) still gets the best fit
    chooser.choose(off, 10_000_000, SHOWN, now + 3 * STEP)
    low = chooser.choose(layers, need_bps(layers[0], S.margin), SHOWN, now + 4 * STEP)
    assert low.layer == 0, low


def test_a_link_drop_moves_down_within_the_hold_and_recovery_moves_up_by_probing() -> None:
    viewer = Viewer()
    assert viewer.run(4e6, 30) == Choice(2, "bandwidth")
    drop = viewer.now
    viewer.run(5e5, 10)
    down = next(t for t, c in viewer.choices if t > drop and c.layer == 0)
    assert down - drop <= S.down_hold_ms / 1000 + 2 * STEP  # the hold plus feedback's delay
    probes = viewer.prober.successes
    assert viewer.run(4e6, 40) == Choice(2, "bandwidth")
    assert viewer.prober.successes >= probes + 2  # each step up was proven by a probe


def test_150_kbit_gives_audio_only_then_video_comes_back() -> None:
    viewer = Viewer()
    viewer.run(4e6, 20)
    assert viewer.run(1.5e5, 10) == Choice(None, "weak")
    assert viewer.run(4e6, 40).layer == 2


options = st.lists(
    st.builds(LayerOption, st.just("r"), st.integers(0, 5_000_000), st.integers(0, 4000),
              st.integers(0, 3000), st.booleans()),
    min_size=1, max_size=3,
)


@given(
    options,
    st.lists(st.tuples(st.integers(0, 10_000_000), st.integers(0, 4000), st.booleans(),
                       st.sampled_from([0.0, 0.25, 1.0, 5.0])), max_size=30),
)
def test_choose_never_returns_an_inactive_layer_or_an_index_out_of_range(
    layers: list[LayerOption], steps: list[tuple[int, int, bool, float]]
) -> None:
    chooser = LayerChooser(S)
    now = 0.0
    for budget, width, visible, dt in steps:
        now += dt
        choice = chooser.choose(layers, budget, TileView(width, 0, visible), now)
        if choice.layer is not None:
            assert 0 <= choice.layer < len(layers) and layers[choice.layer].active
        if not visible:
            assert choice == Choice(None, "hidden")


def test_need_has_the_margin() -> None:
    assert need_bps(LAYERS[1], 0.15) == 575_000


def test_a_first_choice_ignores_a_paused_layers_remembered_rate() -> None:
    """A layer paused by dynacast is offered at the rate it had, which may be its encoder's
    ramp-up: a new viewer starts among the layers that arrive now, and probes up from there."""
    ramp = LayerOption("f", 400_000, 1280, 720, active=True, paused=True)
    layers = (LAYERS[0], LAYERS[1], ramp)
    assert LayerChooser(S).choose(layers, 950_000, SHOWN, 0.0) == Choice(1, "bandwidth")
    # the same rate measured (arriving) is a fair first choice
    arriving = (LAYERS[0], LAYERS[1], LayerOption("f", 400_000, 1280, 720))
    assert LayerChooser(S).choose(arriving, 950_000, SHOWN, 0.0).layer == 2


@pytest.mark.parametrize(("lossy", "expected"), [(True, 0), (False, 1)])
def test_a_fall_without_loss_aims_at_the_budget_not_under_it(lossy: bool, expected: int) -> None:
    """A REMB is already 0.85 x what the viewer measured: going down to 0.6 of it fed a
    spiral to audio only (streaming/layer_choice.py DELAY_SAFETY); with loss, 0.6 holds."""
    budget = int(need_bps(LAYERS[1], S.margin) / 0.88)  # 0.9 of it fits h, 0.6 does not
    assert need_bps(LAYERS[1], S.margin) > budget * DOWN_SAFETY
    chooser = LayerChooser(S)
    chooser.choose(LAYERS, 10_000_000, SHOWN, 0.0)
    now = 0.0
    for _ in range(HOLD_STEPS):
        now += STEP
        choice = chooser.choose(LAYERS, budget, SHOWN, now, lossy=lossy)
    assert choice == Choice(expected, "bandwidth")
