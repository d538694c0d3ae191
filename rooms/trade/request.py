"""A buyer's meeting request and its state machine (pure: no I/O, table-tested).

::

    pending --accept(exhibitor)--> accepted --complete(system)--> completed
       |  \\--decline(exhibitor, reason)--> declined          \\--cancel(either side)--> cancelled
       |  \\--propose(exhibitor, other slot)--> proposed --accept(buyer)--> accepted
       |                                          |--decline(buyer)--> declined
       \\--withdraw(buyer) / expire(system) ------\\--withdraw(buyer) / expire(system)--> ...

A request in a *holding* state owns its slot: nobody else can request it (the Store enforces this
atomically, see :class:`HoldPlan`). An accepted request **is** the meeting: it carries the id of
the meeting room. Every transition returns a new value with ``version`` + 1, so the Store can
refuse a write based on a stale read (compare-and-set) instead of losing a concurrent change.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from config import LANGUAGES
from rooms.clock import utc
from rooms.errors import InvalidInput, NotAllowed
from rooms.text import DISPLAY_NAME_MAX, has_control_chars
from rooms.trade.availability import ExhibitorProfile, Slot, check_identity, iso, parse_instant

REQUEST_ID = re.compile(r"r-[0-9a-f]{12}")
MESSAGE_MAX = 1_000
REASON_MAX = 500


class RequestState(StrEnum):
    PENDING = "pending"
    PROPOSED = "proposed"  # the exhibitor offered another slot; the buyer decides
    ACCEPTED = "accepted"  # a meeting
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"  # the meeting's time is over


HOLDING = frozenset({RequestState.PENDING, RequestState.PROPOSED, RequestState.ACCEPTED,
                     RequestState.COMPLETED})
AWAITING = frozenset({RequestState.PENDING, RequestState.PROPOSED})  # count against the quota
MEETINGS = frozenset({RequestState.ACCEPTED, RequestState.COMPLETED})


class Side(StrEnum):
    BUYER = "buyer"
    EXHIBITOR = "exhibitor"
    SYSTEM = "system"  # the agenda: expiry and completion


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    PROPOSE = "propose"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"
    EXPIRE = "expire"
    COMPLETE = "complete"


def check_request_id(request_id: object) -> str:
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise InvalidInput("bad_request_id", "request ids look like r-0123456789ab")
    return request_id


def new_request_id() -> str:
    return "r-" + secrets.token_hex(6)


def room_id_for(request_id: str) -> str:
    """The meeting room of an accepted request (a valid rooms id: lower case)."""
    return "mtg-" + request_id


def free_text(text: object, *, max_chars: int, what: str, required: bool = False) -> str:
    """A message or reason: optional (unless ``required``), bounded, no control characters."""
    if text is None or text == "":
        if required:
            raise InvalidInput(f"{what}_empty", f"a {what} is required")
        return ""
    if not isinstance(text, str):
        raise InvalidInput(f"bad_{what}", f"{what} must be a string")
    if required and not text.strip():
        raise InvalidInput(f"{what}_empty", f"a {what} is required")
    if len(text) > max_chars:
        raise InvalidInput(f"{what}_too_long", f"{what} is longer than {max_chars} characters")
    if has_control_chars(text, allow_newlines=True):
        raise InvalidInput(f"{what}_control_chars", f"{what} contains control characters")
    return text


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    """A request for one slot; once accepted, the meeting itself."""

    id: str
    slot_id: str
    exhibitor: str
    host: str
    buyer: str
    buyer_name: str
    message: str
    starts_at: datetime
    length_min: int
    time_zone: str  # the slot's (exhibitor's) zone
    buyer_time_zone: str
    state: RequestState
    created_at: float
    expires_at: float  # when an unanswered pending/proposed request lapses
    version: int = 1
    reason: str = ""  # why it was declined or cancelled
    by: str = ""  # who made the last change
    room_id: str = ""
    interpreter: str = ""  # issue 17 §6: the language the buyer asks an interpreter for

    def __post_init__(self) -> None:
        check_request_id(self.id)
        if self.interpreter and self.interpreter not in LANGUAGES:
            raise InvalidInput("bad_language", f"unknown language {self.interpreter[:16]!r}")
        for who, what in ((self.buyer, "buyer"), (self.exhibitor, "exhibitor"),
                          (self.host, "host")):
            check_identity(who, what)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.length_min)

    @property
    def busy_member(self) -> str:
        """The buyer's calendar entry in the Store: ``<end ms>:<id>`` scored by start ms."""
        return f"{ms(self.ends_at)}:{self.id}"

    def side_of(self, identity: str, team: frozenset[str] = frozenset()) -> Side | None:
        if identity == self.buyer:
            return Side.BUYER
        if identity in (self.exhibitor, self.host) or identity in team:
            return Side.EXHIBITOR
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "slot_id": self.slot_id, "exhibitor": self.exhibitor,
                "host": self.host, "buyer": self.buyer, "buyer_name": self.buyer_name,
                "message": self.message, "starts_at": iso(self.starts_at),
                "ends_at": iso(self.ends_at), "length_min": self.length_min,
                "time_zone": self.time_zone, "buyer_time_zone": self.buyer_time_zone,
                "state": self.state.value, "created_at": self.created_at,
                "expires_at": self.expires_at, "version": self.version, "reason": self.reason,
                "by": self.by, "room_id": self.room_id, "interpreter": self.interpreter}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeetingRequest:
        return cls(
            id=str(data["id"]), slot_id=str(data["slot_id"]), exhibitor=str(data["exhibitor"]),
            host=str(data["host"]), buyer=str(data["buyer"]), buyer_name=str(data["buyer_name"]),
            message=str(data["message"]), starts_at=parse_instant(data["starts_at"]),
            length_min=int(data["length_min"]), time_zone=str(data["time_zone"]),
            buyer_time_zone=str(data["buyer_time_zone"]), state=RequestState(data["state"]),
            created_at=float(data["created_at"]), expires_at=float(data["expires_at"]),
            version=int(data["version"]), reason=str(data.get("reason") or ""),
            by=str(data.get("by") or ""), room_id=str(data.get("room_id") or ""),
            interpreter=str(data.get("interpreter") or ""))


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def new_request(*, slot: Slot, buyer: str, buyer_name: str, message: object, buyer_zone: str,
                now: float, ttl_s: float, request_id: str | None = None,
                interpreter: object = None) -> MeetingRequest:
    """A pending request; it expires after ``ttl_s`` unanswered, or when the slot starts.
    ``interpreter``: a language the buyer wants interpreted (issue 17 §6), or none."""
    if utc(now) >= slot.starts_at:
        raise NotAllowed("slot_started", "that slot has already started")
    if buyer == slot.exhibitor or buyer == slot.host:
        raise NotAllowed("own_slot", "you cannot request your own slot")
    name = buyer_name.strip()[:DISPLAY_NAME_MAX] or buyer
    if has_control_chars(name):
        raise InvalidInput("name_control_chars", "display name contains control characters")
    return MeetingRequest(
        id=request_id or new_request_id(), slot_id=slot.id, exhibitor=slot.exhibitor,
        host=slot.host, buyer=buyer, buyer_name=name,
        message=free_text(message, max_chars=MESSAGE_MAX, what="message"),
        starts_at=slot.starts_at, length_min=slot.length_min, time_zone=slot.time_zone,
        buyer_time_zone=buyer_zone, state=RequestState.PENDING, created_at=now,
        expires_at=min(now + ttl_s, slot.starts_at.timestamp()), by=buyer,
        interpreter=_language(interpreter))


def _language(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in LANGUAGES:
        raise InvalidInput("bad_language", "interpreter must be one of zh en ja ko ru mn")
    return value


_RULES: dict[tuple[RequestState, Action, Side], RequestState] = {
    (RequestState.PENDING, Action.ACCEPT, Side.EXHIBITOR): RequestState.ACCEPTED,
    (RequestState.PROPOSED, Action.ACCEPT, Side.BUYER): RequestState.ACCEPTED,
    (RequestState.PENDING, Action.DECLINE, Side.EXHIBITOR): RequestState.DECLINED,
    (RequestState.PROPOSED, Action.DECLINE, Side.BUYER): RequestState.DECLINED,
    (RequestState.PENDING, Action.PROPOSE, Side.EXHIBITOR): RequestState.PROPOSED,
    (RequestState.PROPOSED, Action.PROPOSE, Side.EXHIBITOR): RequestState.PROPOSED,
    (RequestState.PENDING, Action.WITHDRAW, Side.BUYER): RequestState.WITHDRAWN,
    (RequestState.PROPOSED, Action.WITHDRAW, Side.BUYER): RequestState.WITHDRAWN,
    (RequestState.ACCEPTED, Action.CANCEL, Side.BUYER): RequestState.CANCELLED,
    (RequestState.ACCEPTED, Action.CANCEL, Side.EXHIBITOR): RequestState.CANCELLED,
    (RequestState.PENDING, Action.EXPIRE, Side.SYSTEM): RequestState.EXPIRED,
    (RequestState.PROPOSED, Action.EXPIRE, Side.SYSTEM): RequestState.EXPIRED,
    (RequestState.ACCEPTED, Action.COMPLETE, Side.SYSTEM): RequestState.COMPLETED,
}


def transition(request: MeetingRequest, action: Action, side: Side, *, now: float, by: str,
               reason: object = None, slot: Slot | None = None,
               ttl_s: float = 48 * 3600, room_ended: bool = False) -> MeetingRequest:
    """The request after ``side`` does ``action``; ``NotAllowed('bad_transition')`` if the state
    machine has no such arrow, or a rule of that arrow (time, reason, slot) is broken.

    A meeting completes at its slot's end, or earlier when its room already ended
    (``room_ended``: the host ended it for everyone)."""
    target = _RULES.get((request.state, action, side))
    if target is None:
        raise NotAllowed("bad_transition",
                         f"a {side.value} cannot {action.value} a {request.state.value} request")
    changes: dict[str, Any] = {"state": target, "version": request.version + 1, "by": by}
    when = utc(now)
    if action is Action.ACCEPT:
        if when >= request.starts_at:
            raise NotAllowed("slot_started", "that slot has already started")
        changes["room_id"] = room_id_for(request.id)
    elif action is Action.DECLINE:
        changes["reason"] = free_text(reason, max_chars=REASON_MAX, what="reason",
                                      required=side is Side.EXHIBITOR)
    elif action is Action.CANCEL:
        if when >= request.ends_at:
            raise NotAllowed("meeting_over", "the meeting is already over")
        changes["reason"] = free_text(reason, max_chars=REASON_MAX, what="reason")
    elif action is Action.PROPOSE:
        changes.update(_proposal(request, slot, when, now, ttl_s))
        changes["reason"] = free_text(reason, max_chars=REASON_MAX, what="reason")
    elif action is Action.EXPIRE and now < request.expires_at:
        raise NotAllowed("not_expired", "the request has not expired yet")
    elif action is Action.COMPLETE and when < request.ends_at and not room_ended:
        raise NotAllowed("meeting_not_over", "the meeting has not ended yet")
    return replace(request, **changes)


def _proposal(request: MeetingRequest, slot: Slot | None, when: datetime, now: float,
              ttl_s: float) -> dict[str, Any]:
    if slot is None:
        raise InvalidInput("missing_field", "propose needs the slot_id of another slot")
    if slot.exhibitor != request.exhibitor:
        raise NotAllowed("not_your_slot", "you can only propose your own exhibitor's slots")
    if slot.id == request.slot_id:
        raise InvalidInput("same_slot", "propose a different slot")
    if slot.starts_at <= when:
        raise NotAllowed("slot_started", "that slot has already started")
    return {"slot_id": slot.id, "host": slot.host, "starts_at": slot.starts_at,
            "length_min": slot.length_min, "time_zone": slot.time_zone,
            "expires_at": min(now + ttl_s, slot.starts_at.timestamp())}


@dataclass(frozen=True, slots=True)
class HoldPlan:
    """What a write does to slot holds and the buyer's indexes, from the old and new value.

    Both Stores apply exactly this, atomically with the compare-and-set of the request.
    """

    release: str | None  # slot id whose hold (if ours) is dropped
    claim: str | None  # slot id to hold; refused if someone else holds it
    awaiting: bool  # counts against the buyer's quota of open requests afterwards
    busy_old: str | None  # the buyer's calendar entry to remove
    busy_new: str | None  # the buyer's calendar entry to add
    active: bool  # still watched by the agenda (expiry, reminders, completion)


def plan(old: MeetingRequest | None, new: MeetingRequest) -> HoldPlan:
    holds = new.state in HOLDING
    moved = old is not None and old.slot_id != new.slot_id
    release = old.slot_id if old is not None and (moved or not holds) else None
    claim = new.slot_id if holds and (old is None or moved) else None
    busy_now = holds and new.state is not RequestState.COMPLETED
    return HoldPlan(release=release, claim=claim, awaiting=new.state in AWAITING,
                    busy_old=old.busy_member if old is not None else None,
                    busy_new=new.busy_member if busy_now else None,
                    active=new.state in AWAITING or new.state is RequestState.ACCEPTED)


def exhibitor_side(request: MeetingRequest, profile: ExhibitorProfile) -> list[str]:
    """Everyone who acts for the exhibitor in this request: its host first."""
    return list(dict.fromkeys([request.host, profile.id, *sorted(profile.team)]))
