"""Who is speaking in a room, from the audio levels its publishers send (issue 14 §5; pure).

:class:`SpeakerDetector` is fed once per tick with each publisher's *loud time* in that tick
(the share of its audio packets at or above the level threshold, RFC 6464, times the tick) and
decides the room's active speaker, debounced so tiles do not flicker:

- a publisher is *speaking* when its loud time over the last ``window_ms`` reaches
  ``min_speech_ms`` (a cough or a click is not speech);
- the active speaker changes to the one speaking most, but only when that one leads the active
  speaker by more than ``margin_ms`` of loud time, and at least ``hold_ms`` after the previous
  change (so at most 1000 / ``hold_ms`` changes per second, whatever the room does);
- an active speaker who stops speaking stays active ``release_ms``, then the room has none;
- a publisher who leaves (absent from a tick) is forgotten at once, and stops being active.

Time is the caller's (milliseconds of a monotonic clock): the tests need no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from streaming.audio_level import SILENCE


@dataclass(frozen=True, slots=True)
class SpeakerRules:
    """The detector's knobs (``[media.speaker]``, config/settings.py ``SpeakerSettings``)."""

    tick_ms: int = 200
    window_ms: int = 1_000
    min_speech_ms: int = 300
    margin_ms: int = 200
    hold_ms: int = 500
    release_ms: int = 1_500


@dataclass(frozen=True, slots=True)
class Activity:
    """One publisher in one tick: loud time (ms) and the loudest level heard (-dBov)."""

    loud_ms: float
    loudest: int = SILENCE


@dataclass(frozen=True, slots=True)
class SpeakerChange:
    """The room's active speaker is now ``participant`` (``None``: nobody speaks); ``level``
    is the loudest level (-dBov) they sent in the detector's window."""

    participant: str | None
    level: int | None


class SpeakerDetector:
    """One room's active speaker; :meth:`observe` once per tick."""

    def __init__(self, rules: SpeakerRules) -> None:
        self.rules = rules
        self.active: str | None = None
        self._slots = max(1, rules.window_ms // max(1, rules.tick_ms))
        self._history: dict[str, deque[Activity]] = {}
        self._changed_at = float("-inf")
        self._active_heard_at = float("-inf")

    def observe(self, now_ms: float, tick: dict[str, Activity]) -> SpeakerChange | None:
        """Add one tick (every live publisher of the room, silent ones included); returns the
        change it causes, if any."""
        self._record(tick)
        scores = {p: sum(a.loud_ms for a in h) for p, h in self._history.items()}
        speaking = {p: s for p, s in scores.items() if s >= self.rules.min_speech_ms}
        if self.active is not None and self.active not in scores:
            return self._change(now_ms, self._loudest(speaking))  # the speaker left
        if self.active in speaking:
            self._active_heard_at = now_ms
        best = self._loudest(speaking)
        if best is not None and best != self.active:
            lead = speaking[best] - scores.get(self.active or "", 0.0)
            if now_ms - self._changed_at >= self.rules.hold_ms and lead > self.rules.margin_ms:
                return self._change(now_ms, best)
        if self.active is not None and best is None:
            if now_ms - self._active_heard_at >= self.rules.release_ms:
                return self._change(now_ms, None)
        return None

    def _record(self, tick: dict[str, Activity]) -> None:
        for gone in [p for p in self._history if p not in tick]:
            del self._history[gone]
        for participant, activity in tick.items():
            history = self._history.get(participant)
            if history is None:
                history = self._history[participant] = deque(maxlen=self._slots)
            history.append(activity)

    @staticmethod
    def _loudest(speaking: dict[str, float]) -> str | None:
        """The one speaking most (ties: the smallest name, so the choice is reproducible)."""
        if not speaking:
            return None
        return min(speaking, key=lambda p: (-speaking[p], p))

    def _change(self, now_ms: float, participant: str | None) -> SpeakerChange | None:
        if participant == self.active:
            return None
        self.active = participant
        self._changed_at = self._active_heard_at = now_ms
        if participant is None:
            return SpeakerChange(None, None)
        level = min(a.loudest for a in self._history[participant])
        return SpeakerChange(participant, level)
