"""A meeting's consent to being recorded (issue 15 §3): asked, answered, judged. Pure.

In a trade meeting a recording starts only once every participant present agreed: a host's
``record.start`` *asks* (the asker agrees by asking), each participant answers, and the answers
live in the Store (every node sees them: participants may be on several nodes). Anyone
declining means no recording (a running one stops); a newcomer to a recorded meeting is asked
in turn. Hidden participants (recorders, observers) and guests still in the waiting room are
not asked: they are not in the meeting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rooms.participant import Participant

ASK_FIELD = "_ask"  # the Store keeps the request beside the answers (identities never start "_")


@dataclass(frozen=True, slots=True)
class Consent:
    """A pending or granted request to record a meeting, and the answers so far."""

    room_id: str
    by: str  # who asked (identity)
    name: str  # their display name, for the question the others see
    asked_at: float
    answers: Mapping[str, bool] = field(default_factory=dict)

    def agreed(self, present: Iterable[str]) -> list[str]:
        return [i for i in present if self.answers.get(i) is True]

    def waiting(self, present: Iterable[str]) -> list[str]:
        return [i for i in present if i not in self.answers]

    def declined(self) -> list[str]:
        return sorted(i for i, yes in self.answers.items() if not yes)

    def complete(self, present: Iterable[str]) -> bool:
        """Everyone present agreed (and nobody declined)."""
        people = list(present)
        return not self.declined() and len(self.agreed(people)) == len(people)

    def changed_payload(self, present: Iterable[str]) -> dict[str, object]:
        """``record.consent_changed`` (docs/recordings.md §4)."""
        people = list(present)
        return {"room_id": self.room_id, "agreed": self.agreed(people),
                "waiting": self.waiting(people)}

    def asked_payload(self) -> dict[str, object]:
        """``record.consent_asked``."""
        return {"room_id": self.room_id, "by": self.by, "name": self.name}


def asked_by(room_id: str, raw: Mapping[str, str]) -> Consent | None:
    """A Consent from its stored hash (``_ask`` = ``by\\nname\\nasked_at``, identity = 1/0)."""
    ask = raw.get(ASK_FIELD)
    if ask is None:
        return None
    by, name, at = [*ask.split("\n", 2), "", "0"][:3]
    answers = {k: v == "1" for k, v in raw.items() if k != ASK_FIELD}
    return Consent(room_id, by, name, float(at or 0), answers)


def ask_value(by: str, name: str, asked_at: float) -> str:
    return f"{by}\n{name}\n{asked_at}"


def counted(people: Iterable[Participant]) -> list[str]:
    """Who must consent: present, not hidden, not waiting; in join order."""
    return [p.identity for p in people if not p.hidden and not p.waiting]
