"""RTP time → node time through sender reports (RFC 3550 §6.4.1), table-driven, no network."""

from __future__ import annotations

import pytest

from streaming.media_clock import DRIFT_S, ParticipantClock, TrackClock, signed_delta

NTP = 1 << 32


@pytest.mark.parametrize(("ts", "ref", "delta"), [
    (10, 5, 5), (5, 10, -5), (2, 0xFFFF_FFFE, 4), (0xFFFF_FFFE, 2, -4),
])
def test_signed_delta_crosses_the_wrap(ts: int, ref: int, delta: int) -> None:
    assert signed_delta(ts, ref) == delta


def test_before_any_sr_time_runs_from_the_first_arrival() -> None:
    clock = TrackClock(90000, ParticipantClock())
    assert clock.time_of(1000, 5.0) == 5.0
    assert clock.time_of(1000 + 9000, 5.3) == pytest.approx(5.1)  # the RTP clock, not arrival


def test_audio_and_video_of_one_publisher_share_its_clock() -> None:
    """SRs of both tracks at one NTP instant pin both to one node time: lip sync."""
    person = ParticipantClock()
    video, audio = TrackClock(90000, person), TrackClock(48000, person)
    video.on_sender_report(100 * NTP, 900_000, arrival=50.0)  # NTP 100 s == node 50 s
    audio.on_sender_report(100 * NTP, 4_800_000, arrival=50.02)  # arrived later: same offset
    assert video.time_of(900_000 + 90_000, 51.2) == pytest.approx(51.0)
    assert audio.time_of(4_800_000 + 48_000, 51.1) == pytest.approx(51.0)


def test_frames_keep_their_spacing_until_the_drift_is_too_big() -> None:
    person = ParticipantClock()
    clock = TrackClock(90000, person)
    clock.on_sender_report(10 * NTP, 0, arrival=10.0)
    assert clock.time_of(0, 10.0) == pytest.approx(10.0)
    clock.on_sender_report(11 * NTP + NTP // 100, 90000, arrival=11.0)  # 10 ms of jitter
    assert clock.time_of(90000, 11.0) == pytest.approx(11.0)  # steady: the RTP clock
    late = DRIFT_S * 2
    clock.on_sender_report(int((12 + late) * NTP), 180000, arrival=12.0)
    assert clock.time_of(180000, 12.0) == pytest.approx(12.0 + late)  # re-anchored


def test_a_new_device_resynchronises_the_participant() -> None:
    person = ParticipantClock()
    person.observe(100.0, 50.0)
    person.observe(100.5, 50.6)  # within a second: kept
    assert person.offset == pytest.approx(-50.0)
    person.observe(9000.0, 51.0)  # another clock altogether
    assert person.offset == pytest.approx(51.0 - 9000.0)
