"""Sequence/timestamp munging, without a network."""

from __future__ import annotations

from streaming.forwarder import Forwarder


def test_first_packet_maps_to_chosen_bases() -> None:
    fwd = Forwarder(first_seq=1000, first_ts=5000)
    fwd.resume(seq=40000, ts=123456)
    assert fwd.map(40000, 123456) == (1000, 5000)
    assert fwd.map(40001, 126456) == (1001, 8000)


def test_wraps_modulo_field_size() -> None:
    fwd = Forwarder(first_seq=65535, first_ts=0xFFFFFFFF)
    fwd.resume(seq=10, ts=0)
    assert fwd.map(10, 0) == (65535, 0xFFFFFFFF)
    assert fwd.map(11, 1) == (0, 0)


def test_publisher_switch_continues_sequence_and_time() -> None:
    fwd = Forwarder(first_seq=100, first_ts=1000)
    fwd.resume(seq=7, ts=70)
    last = fwd.map(8, 3070)
    assert last == (101, 4000)
    fwd.switch(gap_ticks=9000)  # a new publisher stream starts 100 ms later (90 kHz)
    fwd.resume(seq=50000, ts=999)  # random new bases
    assert fwd.map(50000, 999) == (102, 13000)
    assert fwd.map(50001, 3999) == (103, 16000)


def test_resume_after_skip_moves_only_the_sequence() -> None:
    fwd = Forwarder(first_seq=0, first_ts=0)
    fwd.resume(seq=10, ts=100)
    fwd.map(10, 100)
    # packets 11..19 were skipped (slow viewer); 20 is the next keyframe
    fwd.resume(seq=20, ts=3100)
    assert fwd.map(20, 3100) == (1, 3000)


def test_reverse_mapping_for_nack_and_sender_reports() -> None:
    fwd = Forwarder(first_seq=5, first_ts=0)
    fwd.resume(seq=65530, ts=4_000_000_000)
    out_seq, _ = fwd.map(65535, 4_000_000_000)
    assert fwd.source_seq(out_seq) == 65535
    assert fwd.viewer_ts(4_000_000_000 + 90000) == 90000
