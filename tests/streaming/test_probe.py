"""Prober: when to pad, how much, and what proves or aborts a probe."""

from __future__ import annotations

import pytest

from config.settings import AdaptSettings
from streaming.probe import LOSS_GRACE_S, Prober, ProbeStep

S = AdaptSettings()
END = (S.probe_ms + S.probe_verdict_ms) / 1000


@pytest.mark.parametrize(
    ("goal", "sending", "estimate", "padding"),
    [
        (700_000, 200_000, 300_000, 500_000),  # the goal minus what is sent
        (700_000, 200_000, 800_000, 0),  # the estimate already shows the goal: no probe
        (0, 200_000, 300_000, 0),  # no goal (top layer, or the tile caps it)
        (9_000_000, 200_000, 300_000, S.probe_max_kbps * 1000),  # capped
    ],
)
def test_a_probe_starts_for_an_unproven_goal(
    goal: int, sending: int, estimate: int, padding: int
) -> None:
    assert Prober(S).update(goal, sending, estimate, 0.0) == ProbeStep(padding)


@pytest.mark.parametrize(
    ("feedback", "proven"),
    [
        ([("remb", 300_000), ("remb", 720_000)], 700_000),  # REMB reaches the goal: at once
        ([("remb", 300_000), ("remb", 330_000)], 700_000),  # rose, no overuse to the end
        ([("remb", 300_000), ("remb", 300_000)], 700_000),  # held, no loss: carried (a busy
        # machine's Chromium may not raise REMB within a probe)
        ([], 0),  # no REMB at all during the probe: no proof
        ([("remb", 400_000), ("remb", 340_000)], 0),  # fell from its peak: overuse
        ([("remb", 300_000), ("loss", 0.2)], 0),  # loss
    ],
)
def test_a_probe_is_proven_by_remb_without_a_fall_and_aborted_by_a_fall_or_loss(
    feedback: list[tuple[str, float]], proven: int
) -> None:
    prober = Prober(S)
    prober.on_remb(300_000, -0.1)
    assert prober.update(700_000, 200_000, 300_000, 0.0).padding_bps == 500_000
    now = 0.0
    result = ProbeStep(500_000)
    for kind, value in feedback:
        now += 0.25
        if kind == "remb":
            prober.on_remb(int(value), now)
        else:
            prober.on_loss(value, now)
        result = prober.update(700_000, 200_000, 300_000, now)
        if not prober.running:
            break
    while prober.running:
        now += 0.25
        result = prober.update(700_000, 200_000, 300_000, now)
    assert result.proven_bps == proven and result.padding_bps == 0
    assert now <= END + 0.25


def test_loss_reported_as_a_probe_starts_is_not_the_probes() -> None:
    """A receiver report's fraction lost covers up to a second before it: in the probe's first
    LOSS_GRACE_S it describes the time before the padding and must not fail the probe."""
    prober = Prober(S)
    prober.on_remb(300_000, -0.1)
    prober.update(700_000, 200_000, 300_000, 0.0)
    prober.on_loss(0.3, 0.1)
    assert prober.update(700_000, 200_000, 300_000, 0.1).padding_bps == 500_000
    prober.on_loss(0.3, LOSS_GRACE_S)
    assert prober.update(700_000, 200_000, 300_000, LOSS_GRACE_S).padding_bps == 0
    assert not prober.running


def test_padding_stops_for_the_verdict() -> None:
    prober = Prober(S)
    prober.update(700_000, 200_000, 300_000, 0.0)
    assert prober.update(700_000, 200_000, 300_000, S.probe_ms / 1000 - 0.01).padding_bps
    assert prober.update(700_000, 200_000, 300_000, S.probe_ms / 1000).padding_bps == 0


def test_failures_back_off_doubling_and_a_success_resets() -> None:
    prober = Prober(S)
    now = 0.0
    waits = []
    for _ in range(6):
        prober.update(700_000, 200_000, 300_000, now)
        now += LOSS_GRACE_S
        prober.on_loss(0.5, now)
        prober.update(700_000, 200_000, 300_000, now)  # aborted
        start = now
        while not prober.update(700_000, 200_000, 300_000, now).padding_bps:
            now += 0.25
        waits.append(now - start)
    assert waits == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    prober.on_remb(800_000, now)
    assert prober.update(700_000, 200_000, 300_000, now).proven_bps == 700_000
    assert prober.update(900_000, 700_000, 700_000, now).padding_bps == 200_000  # no wait
