"""DownlinkEstimator: REMB as a congestion signal or a lower bound, GCC's loss rules, smoothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import AdaptSettings
from streaming.bandwidth import DownlinkEstimator, SendRate
from tests.streaming.link_model import Viewer

S = AdaptSettings()


def fed(rate_bps: int, seconds: float = 2.0) -> DownlinkEstimator:
    """An estimator that has been sending ``rate_bps`` for ``seconds`` (on_sent every 0.25 s)."""
    est = DownlinkEstimator(S)
    for i in range(int(seconds * 4) + 1):
        est.on_sent(rate_bps // 32, i / 4)
    return est


def test_before_any_feedback_the_estimate_is_the_configured_start() -> None:
    assert DownlinkEstimator(S).estimate(0.0) == S.start_kbps * 1000


def test_send_rate_counts_octets_over_the_window() -> None:
    rate = SendRate(1.0)
    assert rate.rate(0.0) is None
    for i in range(9):
        rate.add(12_500, i / 4)  # 12.5 kB per 0.25 s = 400 kbit/s
    assert rate.rate(2.0) == 400_000


@pytest.mark.parametrize(
    ("rembs", "expected"),
    [
        # a REMB that falls below 0.9x what is sent (~500 kbit/s) is congestion: taken as is
        ([900_000, 300_000], 300_000),
        # one that falls but stays above 0.9x what is sent follows Chromium's cap: a bound only
        ([900_000, 700_000], 900_000),
        # rising under what is sent: Chromium's slow ramp after more was sent; a bound only
        ([300_000, 350_000], 350_000),
        # holding after a fall: the fall stands
        ([900_000, 300_000, 300_000], 300_000),
    ],
)
def test_remb_is_a_congestion_signal_only_when_it_falls_under_what_is_sent(
    rembs: list[int], expected: int
) -> None:
    est = fed(500_000)
    for i, remb in enumerate(rembs):
        est.on_remb(remb, 2.0 + i / 4)
    assert est.raw(2.0 + len(rembs) / 4) == expected


def test_a_stale_remb_no_longer_counts() -> None:
    est = fed(500_000)
    est.on_remb(300_000, 2.0)
    assert est.raw(2.0) == 300_000
    assert est.raw(2.0 + S.remb_timeout_ms / 1000 + 0.1) == S.start_kbps * 1000


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        (0.20, int(500_000 * 0.8)),  # > 10 %: what got through, what is sent x (1 - loss)
        (0.05, 1_000_000),  # between 2 and 10 %: hold
        (0.0, 1_000_000),  # < 2 %: would grow, but is over 1.5x what is sent: no growth...
    ],
)
def test_loss_rules(loss: float, expected: int) -> None:
    est = fed(500_000)
    est.on_loss(0.0, 1.0)
    est.on_loss(loss, 2.0)
    assert est.raw(2.0) == expected  # ...and no fall to the cap either


def test_loss_cuts_once_per_interval_for_one_episode() -> None:
    est = fed(500_000)
    est.on_loss(0.5, 2.0)
    est.on_loss(0.5, 2.0 + S.loss_interval_ms / 2000)  # the same episode, reported again
    assert est.raw(2.1) == int(500_000 * 0.5)


def test_loss_growth_is_per_second_and_capped_by_what_is_sent() -> None:
    est = fed(1_000_000)
    est.on_loss(0.3, 2.0)  # 1 Mbit/s x 0.7
    for i in range(1, 5):  # a lower layer now: 600 kbit/s...
        est.on_sent(600_000 // 32, 2.0 + i / 4)
    est.on_loss(0.0, 3.0)  # ...and nothing lost
    assert est.raw(3.0) == pytest.approx(700_000 * 1.08, rel=0.01)  # 8 % in one second
    for i in range(5, 25):
        est.on_sent(600_000 // 32, 2.0 + i / 4)
        est.on_loss(0.0, 2.0 + i / 4)
    assert est.raw(8.0) == pytest.approx(900_000, rel=0.01)  # never past 1.5x what is sent


def test_after_a_cut_what_gets_through_is_the_floor() -> None:
    """A deep cut (a congested burst) does not keep a viewer below the layer it now receives
    whole: the loss part is at least what is sent times what arrives."""
    est = fed(1_000_000)
    est.on_loss(0.9, 2.0)
    assert est.raw(2.0) == pytest.approx(500_000, rel=0.01)  # one cut: at most by half
    est.on_loss(0.9, 2.5)
    assert est.raw(2.5) == pytest.approx(250_000, rel=0.02)
    for i in range(1, 9):  # 300 kbit/s arrive whole
        est.on_sent(300_000 // 32, 2.0 + i / 4)
    est.on_loss(0.0, 4.0)
    assert est.raw(4.0) >= 290_000  # 300 kbit/s arrive whole: at least that


def test_a_fall_shows_at_once_and_a_rise_is_smoothed() -> None:
    est = fed(500_000)
    est.on_remb(2_000_000, 2.0)
    assert est.estimate(2.0) == 1_000_000  # the loss part (start) is the lower
    est.on_remb(300_000, 2.25)
    assert est.estimate(2.25) == 300_000
    est.on_remb(900_000, 2.5)
    assert 300_000 < est.estimate(2.75) < 900_000
    assert est.estimate(30.0) == 900_000 or est.raw(30.0) != 900_000


def test_a_proven_probe_raises_both_parts_at_once() -> None:
    est = fed(200_000)
    est.on_remb(280_000, 2.0)
    assert est.estimate(2.0) == 280_000
    est.on_probe(700_000, 2.25)
    assert est.raw(2.25) == 700_000 and est.estimate(2.25) == 700_000
    est.on_remb(300_000, 2.5)  # REMB still ramping, not falling: the proof stands
    assert est.raw(2.5) == 700_000


def test_a_link_drop_from_4_mbit_to_500_kbit_lowers_the_estimate_within_a_second() -> None:
    viewer = Viewer()
    viewer.run(4e6, 30)
    assert viewer.estimator.estimate(viewer.now) > 1_500_000
    drop = viewer.now
    for _ in range(4):
        viewer.tick(5e5)
    assert viewer.estimator.estimate(viewer.now) <= 500_000, viewer.now - drop


feedback = st.lists(
    st.tuples(st.sampled_from(["remb", "loss", "sent", "probe"]), st.integers(0, 50_000_000),
              st.floats(0, 1), st.floats(0, 2)),
    max_size=60,
)


@given(feedback)
def test_the_estimate_stays_between_zero_and_the_maximum(
    events: list[tuple[str, int, float, float]],
) -> None:
    est = DownlinkEstimator(S)
    now = 0.0
    for kind, value, fraction, dt in events:
        now += dt
        if kind == "remb":
            est.on_remb(value, now)
        elif kind == "loss":
            est.on_loss(fraction, now)
        elif kind == "sent":
            est.on_sent(value // 8, now)
        else:
            est.on_probe(value, now)
        assert 0 <= est.estimate(now) <= S.max_kbps * 1000


def test_a_remb_dip_under_probe_padding_is_not_congestion() -> None:
    """Media at 150 kbit/s plus 150 kbit/s of probe padding: a REMB of 200 kbit/s just under
    the last one is under 0.9x all that is sent but above the media; Chromium's REMB climbs
    slowly, so it is no congestion and keeps the rate a probe proved (the probe judges its
    padding itself). Under 0.9x the media it is congestion as before."""
    est = DownlinkEstimator(S)
    for i in range(9):  # 2 s: 300 kbit/s sent, half of it padding
        est.on_sent(300_000 // 32, i / 4, padding=150_000 // 32)
    est.on_remb(210_000, 2.0)
    est.on_probe(300_000, 2.0)
    est.on_sent(150_000 // 32, 2.25)  # the probe is over: media alone
    est.on_remb(200_000, 2.25)
    assert est.raw(2.25) == 300_000
    est.on_sent(150_000 // 32, 2.5)
    est.on_remb(60_000, 2.5)  # well under 0.9 x the media (150 kbit/s): congestion
    assert est.raw(2.5) == 80_000  # the REMB floor (remb_floor_kbps)
