"""SendRate keeps a running total (asked for every viewer ten times a second): whatever the
samples and the times it is asked, it says what summing its window says."""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from streaming.bandwidth import MIN_SPAN_S, RATE_SAMPLES, SendRate

WINDOW = 1.0


def reference(samples: deque[tuple[float, int]], now: float) -> int | None:
    """The window summed each time (the code before issue 19's profile)."""
    while len(samples) > 2 and now - samples[1][0] >= WINDOW:
        samples.popleft()
    if len(samples) < 2 or now - samples[0][0] < MIN_SPAN_S:  # no span: no rate
        return None
    return int(sum(octets for _, octets in list(samples)[1:]) * 8 / (now - samples[0][0]))


steps = st.lists(
    st.tuples(st.floats(0.0, 0.4), st.integers(0, 200_000), st.booleans()), max_size=300
)


@given(steps)
def test_the_running_total_says_what_the_sum_says(script: list[tuple[float, int, bool]]) -> None:
    rate = SendRate(WINDOW)
    samples: deque[tuple[float, int]] = deque(maxlen=RATE_SAMPLES)
    now = 0.0
    for gap, octets, ask in script:
        now += gap
        if ask:
            assert rate.rate(now) == reference(samples, now)
        else:
            rate.add(octets, now)
            samples.append((now, octets))
    assert rate.rate(now + 0.5) == reference(samples, now + 0.5)


def test_two_samples_a_subnormal_time_apart_have_no_rate_yet() -> None:
    """Found by the property above: a span of 2e-309 s made the rate infinite and ``int``
    raised OverflowError (in the adaptation tick, for every viewer, every tick)."""
    rate = SendRate(WINDOW)
    rate.add(0, 0.0)
    rate.add(1, 2.225073858507203e-309)
    assert rate.rate(0.0) is None
    assert rate.rate(0.5) == 16
