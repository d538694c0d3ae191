"""A layer's rate as choosers see it (streaming/layer.py): a layer just back from a pause is
offered at no less than the rate it had, since its first second's window still spans the pause
(measured: f read ~400 kbit/s on resuming, went to a 700 kbit/s viewer, then ran at ~1.4)."""

from __future__ import annotations

from streaming.layer import IDLE_S, RATE_WINDOW_S, Layer

TICK = 0.1
RATE_OCTETS = 150_000  # per second: 1.2 Mbit/s


def _run(layer: Layer, start: float, seconds: float, octets_per_s: int) -> float:
    """Packets at ``octets_per_s``, measured every tick, from ``start``; returns the end."""
    now = start
    for _ in range(round(seconds / TICK)):
        now += TICK
        layer.arrive(now)
        layer.octets += int(octets_per_s * TICK)
        layer.measure(now)
    return now


def test_a_resumed_layer_needs_what_it_had_until_its_window_is_its_own() -> None:
    layer = Layer(2, "f", 64, 0.3)
    now = _run(layer, 0.0, 5.0, RATE_OCTETS)
    steady = layer.need_bps(now)
    assert 1_100_000 < steady < 1_300_000 and layer.known_bps > 1_000_000
    paused = now + IDLE_S + 3.0  # paused by dynacast: nothing arrives
    assert layer.measure(paused) == 0 and layer.known_bps > 1_000_000, "remembered"
    now = _run(layer, paused, 0.3, RATE_OCTETS)  # back: its window still spans the pause
    assert layer.bitrate_bps < steady * 0.8, "the window reads low"
    assert layer.need_bps(now) >= layer.known_bps > 1_000_000, "offered at what it had"
    now = _run(layer, now, 2 * RATE_WINDOW_S, RATE_OCTETS // 2)  # it now runs at half
    assert layer.need_bps(now) == layer.bitrate_bps < steady * 0.7, "then its own rate"
