"""The active speaker detector (pure, streaming/speaker.py) and SpeakerWatch ticks.

Ticks are 200 ms and the window 1 s (5 ticks) unless said; a speaking tick is 200 ms loud.
"""

from __future__ import annotations

import itertools

from config import MediaLimits
from streaming.audio_level import LevelMeter
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.speaker import Activity, SpeakerChange, SpeakerDetector, SpeakerRules
from streaming.speaker_watch import SpeakerWatch, room_activity

RULES = SpeakerRules()
LOUD = Activity(200.0, 20)
QUIET = Activity(0.0)


def run(detector: SpeakerDetector, ticks: list[dict[str, Activity]], start: float = 0.0
        ) -> list[tuple[float, SpeakerChange]]:
    """Feed one tick per 200 ms from ``start``; returns (time, change) for each change."""
    changes = []
    for index, tick in enumerate(ticks):
        now = start + index * RULES.tick_ms
        change = detector.observe(now, tick)
        if change is not None:
            changes.append((now, change))
    return changes


def test_a_speaker_becomes_active_after_min_speech_and_quiet_ones_never() -> None:
    detector = SpeakerDetector(RULES)
    changes = run(detector, [{"ann": LOUD, "bob": QUIET}] * 4)
    assert changes == [(200.0, SpeakerChange("ann", 20))]  # 400 ms loud >= 300 ms


def test_a_click_is_not_speech() -> None:
    detector = SpeakerDetector(RULES)
    clicks = [{"ann": Activity(40.0, 10)}, {"ann": QUIET}, {"ann": QUIET}] * 5
    assert run(detector, clicks) == []


def test_the_louder_takes_over_only_with_a_lead_and_after_the_hold() -> None:
    detector = SpeakerDetector(RULES)
    run(detector, [{"ann": LOUD, "bob": QUIET}] * 5)
    assert detector.active == "ann"
    both = run(detector, [{"ann": LOUD, "bob": LOUD}] * 10, start=1000)
    assert both == []  # equal: no lead, the active speaker keeps the floor
    half = Activity(100.0, 30)
    changes = run(detector, [{"ann": half, "bob": LOUD}] * 10, start=3000)
    assert [c.participant for _, c in changes] == ["bob"]
    # ann's window drops 100 ms a tick: bob leads by 300 ms (> margin 200) at the third tick
    assert changes[0][0] == 3400.0


def test_changes_are_at_most_one_per_hold_time() -> None:
    detector = SpeakerDetector(SpeakerRules(window_ms=200, min_speech_ms=100, margin_ms=0))
    flip = [{"ann": LOUD, "bob": QUIET}, {"ann": QUIET, "bob": LOUD}] * 20  # flips every tick
    changes = run(detector, flip)
    times = [t for t, _ in changes]
    assert len(changes) > 3
    assert all(b - a >= RULES.hold_ms for a, b in itertools.pairwise(times))


def test_silence_releases_the_floor_after_release_time() -> None:
    detector = SpeakerDetector(RULES)
    run(detector, [{"ann": LOUD}] * 3)
    changes = run(detector, [{"ann": QUIET}] * 20, start=600)
    # her 1 s window holds 400 ms of loud time at 1000 ms, 200 ms at 1200 ms: last heard
    # speaking at 1000 ms, released at the first tick 1500 ms later
    assert changes == [(2600.0, SpeakerChange(None, None))]


def test_a_speaker_who_leaves_hands_over_at_once() -> None:
    detector = SpeakerDetector(RULES)
    run(detector, [{"ann": LOUD, "bob": Activity(100.0, 40)}] * 5)
    assert detector.active == "ann"
    assert run(detector, [{"bob": Activity(100.0, 40)}], start=1000) == [
        (1000.0, SpeakerChange("bob", 40))]
    assert run(detector, [{}], start=1200) == [(1200.0, SpeakerChange(None, None))]


async def test_the_watch_turns_meters_into_loud_time_per_participant_and_room() -> None:
    """One tick over real Sources: loud share × tick, a participant's loudest track counts,
    unmeasured tracks (video, an edge's relayed audio) are not looked at."""
    opus = Codec(111, "audio/opus", 48000, 2)
    limits = MediaLimits()
    sources = {f"{who}/audio{n}": Source(f"{who}/audio{n}", "hall", "audio", opus, limits)
               for who, n in (("ann", 0), ("ann", 1), ("bob", 0), ("edge", 0))}
    for source_id, source in sources.items():
        if not source_id.startswith("edge/"):
            source.levels = LevelMeter(45)
    for level in (10, 10, 90, 90, 90, 90, 90, 90, 90, 90):  # ann's second track: 2 of 10 loud
        sources["ann/audio1"].levels.add(level)  # type: ignore[union-attr]
    for level in (30, 30, 30, 30, 127):  # bob: 4 of 5 loud
        sources["bob/audio0"].levels.add(level)  # type: ignore[union-attr]
    activity = room_activity(sources, 200)
    assert activity == {"ann": Activity(40.0, 10), "bob": Activity(160.0, 30)}
    assert sources["bob/audio0"].levels.take() == (0, 0, 127)  # type: ignore[union-attr]

    changes: list[tuple[str, SpeakerChange]] = []
    watch = SpeakerWatch(RULES, lambda: {"hall": sources}, lambda r, c: changes.append((r, c)))
    for index in range(3):
        for _ in range(10):
            sources["bob/audio0"].levels.add(30)  # type: ignore[union-attr]
        watch.tick(index * 200.0)
    assert changes == [("hall", SpeakerChange("bob", 30))]
    watch._rooms = lambda: {}  # the room's last track ended: the floor is released
    watch.tick(600.0)
    assert changes[-1] == ("hall", SpeakerChange(None, None)) and not watch.detectors
