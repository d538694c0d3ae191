"""The request state machine, as a table: who may do what from which state (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rooms.errors import InvalidInput, NotAllowed
from rooms.trade.request import (
    Action,
    MeetingRequest,
    RequestState,
    Side,
    plan,
    transition,
)
from tests.meetings.builders import NOW, request_for, slot

S = RequestState
ALLOWED = [
    (S.PENDING, Action.ACCEPT, Side.EXHIBITOR, S.ACCEPTED),
    (S.PENDING, Action.DECLINE, Side.EXHIBITOR, S.DECLINED),
    (S.PENDING, Action.WITHDRAW, Side.BUYER, S.WITHDRAWN),
    (S.PENDING, Action.PROPOSE, Side.EXHIBITOR, S.PROPOSED),
    (S.PROPOSED, Action.ACCEPT, Side.BUYER, S.ACCEPTED),
    (S.PROPOSED, Action.DECLINE, Side.BUYER, S.DECLINED),
    (S.ACCEPTED, Action.CANCEL, Side.BUYER, S.CANCELLED),
    (S.ACCEPTED, Action.CANCEL, Side.EXHIBITOR, S.CANCELLED),
]
REFUSED = [
    (S.PENDING, Action.ACCEPT, Side.BUYER),
    (S.PROPOSED, Action.ACCEPT, Side.EXHIBITOR),
    (S.ACCEPTED, Action.WITHDRAW, Side.BUYER),
    (S.DECLINED, Action.ACCEPT, Side.EXHIBITOR),
    (S.WITHDRAWN, Action.CANCEL, Side.BUYER),
    (S.PENDING, Action.CANCEL, Side.EXHIBITOR),
    (S.PENDING, Action.COMPLETE, Side.SYSTEM),
]


def in_state(state: RequestState) -> MeetingRequest:
    return replace(request_for(slot(24), "kim"), state=state)


@pytest.mark.parametrize(("state", "action", "side", "target"), ALLOWED)
def test_allowed_arrows(state: RequestState, action: Action, side: Side,
                        target: RequestState) -> None:
    before = in_state(state)
    other = slot(30)
    after = transition(before, action, side, now=NOW, by="x", reason="busy that day",
                       slot=other)
    assert after.state is target and after.version == before.version + 1 and after.by == "x"
    if target is S.ACCEPTED:
        assert after.room_id == "mtg-" + before.id
    if target is S.PROPOSED:
        assert after.slot_id == other.id and after.starts_at == other.starts_at


@pytest.mark.parametrize(("state", "action", "side"), REFUSED)
def test_refused_arrows(state: RequestState, action: Action, side: Side) -> None:
    with pytest.raises(NotAllowed) as refused:
        transition(in_state(state), action, side, now=NOW, by="x", reason="r", slot=slot(30))
    assert refused.value.code == "bad_transition"


def test_time_rules() -> None:
    pending = in_state(S.PENDING)
    late = pending.starts_at.timestamp() + 1
    with pytest.raises(NotAllowed, match="already started"):
        transition(pending, Action.ACCEPT, Side.EXHIBITOR, now=late, by="faw")
    with pytest.raises(NotAllowed) as early:
        transition(pending, Action.EXPIRE, Side.SYSTEM, now=NOW, by="system")
    assert early.value.code == "not_expired"
    expired = transition(pending, Action.EXPIRE, Side.SYSTEM, now=pending.expires_at,
                         by="system")
    assert expired.state is S.EXPIRED
    accepted = transition(pending, Action.ACCEPT, Side.EXHIBITOR, now=NOW, by="faw")
    over = (accepted.ends_at + timedelta(seconds=1)).timestamp()
    with pytest.raises(NotAllowed, match="already over"):
        transition(accepted, Action.CANCEL, Side.BUYER, now=over, by="kim")
    done = transition(accepted, Action.COMPLETE, Side.SYSTEM, now=over, by="system")
    assert done.state is S.COMPLETED


def test_bad_reasons_and_proposals() -> None:
    pending = in_state(S.PENDING)
    with pytest.raises(InvalidInput) as empty:
        transition(pending, Action.DECLINE, Side.EXHIBITOR, now=NOW, by="faw", reason="  ")
    assert empty.value.code == "reason_empty"
    with pytest.raises(InvalidInput) as control:
        transition(pending, Action.DECLINE, Side.EXHIBITOR, now=NOW, by="faw",
                   reason="no\u202ethanks")
    assert control.value.code == "reason_control_chars"
    with pytest.raises(NotAllowed) as foreign:
        transition(pending, Action.PROPOSE, Side.EXHIBITOR, now=NOW, by="faw",
                   slot=slot(30, exhibitor="alpha", host="alpha"))
    assert foreign.value.code == "not_your_slot"
    with pytest.raises(InvalidInput) as same:
        transition(pending, Action.PROPOSE, Side.EXHIBITOR, now=NOW, by="faw",
                   slot=replace(slot(24), id=pending.slot_id))
    assert same.value.code == "same_slot"


def test_hold_plans() -> None:
    pending = in_state(S.PENDING)
    created = plan(None, pending)
    assert (created.claim, created.release, created.awaiting, created.active) == (
        pending.slot_id, None, True, True)
    accepted = transition(pending, Action.ACCEPT, Side.EXHIBITOR, now=NOW, by="faw")
    kept = plan(pending, accepted)
    assert (kept.claim, kept.release, kept.awaiting, kept.active) == (None, None, False, True)
    withdrawn = transition(pending, Action.WITHDRAW, Side.BUYER, now=NOW, by="kim")
    freed = plan(pending, withdrawn)
    assert (freed.release, freed.busy_new, freed.active) == (pending.slot_id, None, False)
    other = slot(30)
    moved = plan(pending, transition(pending, Action.PROPOSE, Side.EXHIBITOR, now=NOW,
                                     by="faw", slot=other))
    assert (moved.release, moved.claim) == (pending.slot_id, other.id)
