"""LossWindow: a viewer's loss over half a second from its receiver reports' counters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streaming.loss_window import LossWindow


def test_one_lost_packet_between_two_close_reports_is_not_fifty_percent() -> None:
    """Reports every 20 ms, one packet lost in 100: the per-report fraction would read 127/256
    for the report that saw it; the window says about 1 %."""
    window = LossWindow()
    highest, lost, answer = 1000, 0, None
    for tick in range(50):  # 1 s of reports, 2 packets each
        highest += 2
        if tick == 30:
            lost += 1
        answer = window.add(highest, lost, tick * 0.02)
    assert answer is not None and answer < 0.05


def test_sustained_loss_reads_as_its_rate() -> None:
    window = LossWindow()
    answer = None
    for tick in range(100):  # 30 % of 5 packets per 25 ms report... 3 of 10 per 2 reports
        answer = window.add(1000 + 5 * tick, (3 * tick) // 2, tick * 0.025)
    assert answer is not None and abs(answer - 0.3) < 0.02


def test_too_few_packets_say_nothing_yet() -> None:
    window = LossWindow()
    assert window.add(100, 0, 0.0) is None
    assert window.add(110, 5, 0.6) is None  # 10 expected: under the minimum
    assert window.add(130, 5, 1.2) is not None


def test_a_new_stream_numbering_starts_over() -> None:
    window = LossWindow()
    window.add(70_000, 10, 0.0)
    assert window.add(70_030, 10, 0.6) == 0.0
    assert window.add(100, 0, 0.7) is None  # numbering restarted: no answer across it


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(-5, 40), st.floats(0.001, 0.5)),
                max_size=60))
def test_the_answer_is_a_fraction(steps: list[tuple[int, int, float]]) -> None:
    window = LossWindow()
    highest, lost, now = 5000, 0, 0.0
    for more, lost_more, dt in steps:
        highest, lost, now = highest + more, max(-100, lost + lost_more), now + dt
        answer = window.add(highest, lost, now)
        assert answer is None or 0.0 <= answer <= 1.0
