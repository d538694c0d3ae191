"""The forum stage's invitation rules (issue 12, point 9): asked first, never pushed on stage.

A moderator's ``promote`` *invites*: the invitation lasts :data:`INVITE_TTL_S` and only the
invited person's ``accept`` puts them on stage (the stage's size is checked again then). They may
``decline`` (the moderator is told), or let it lapse. Pure: no I/O; :class:`RoomService` calls
these with the facts it read.
"""

from __future__ import annotations

from rooms.errors import NotAllowed
from rooms.participant import Participant

INVITE_TTL_S = 120.0  # long enough to pick a camera; short enough that a stale one lapses


def invitation_until(now: float) -> float:
    """When an invitation made at ``now`` lapses."""
    return now + INVITE_TTL_S


def check_invited(me: Participant, now: float) -> None:
    """Raise unless ``me`` holds an invitation that has not lapsed.

    ``no_invitation``: none was made (or it was answered); ``invitation_expired``: it lapsed.
    """
    if me.invited_until <= 0:
        raise NotAllowed("no_invitation", "nobody invited you to the stage")
    if me.invited_until <= now:
        raise NotAllowed("invitation_expired", "the invitation to the stage has expired")


def check_on_stage(me: Participant) -> None:
    """Raise ``not_on_stage`` unless ``me`` is on stage (leaving it, announcing one's tracks)."""
    if not me.on_stage:
        raise NotAllowed("not_on_stage", "you are not on stage")
