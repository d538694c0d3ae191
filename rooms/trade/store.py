"""The ``BookingStore`` port: all shared state of trade meetings (issue 7).

Two implementations pass one contract suite (tests/meetings/test_store_contract.py):
:class:`rooms.trade.memory_store.MemoryBookingStore` (one node) and
:class:`rooms.trade.redis_store.RedisBookingStore` (many nodes, one Lua script per multi-key write).

The invariant both keep, also under concurrent requests from many nodes: **a slot is held by at
most one request** in a holding state (pending, proposed, accepted, completed), a host's slots
never overlap, and a buyer never holds two overlapping slots. Every write either happens whole or
raises (:class:`BookingConflict`, :class:`~rooms.errors.StoreUnavailable`) having written nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rooms.errors import Fault, RoomsError
from rooms.trade.availability import ExhibitorProfile, Slot
from rooms.trade.record import MeetingRecord, Notice, SideRecord
from rooms.trade.request import MeetingRequest, Side

CONFLICT_MESSAGES = {
    "slot_taken": "that slot is already requested or booked",
    "slot_overlap": "that slot overlaps another slot of the same host",
    "slot_held": "that slot has a request or a meeting; it cannot be removed",
    "buyer_busy": "you already hold a slot at that time",
    "quota_reached": "you have too many open requests; wait for answers or withdraw one",
    "exhibitor_quota_reached": "you have too many open requests to this exhibitor; wait for an "
                               "answer or withdraw one",
    "request_changed": "the request changed meanwhile; reload it and try again",
    "no_such_slot": "that slot no longer exists",
    "no_such_request": "that request no longer exists",
}


class BookingConflict(RoomsError):
    """The write lost a race or breaks an invariant; nothing was written. ``other`` names the
    slot or request in the way, when known."""

    fault: Fault = "policy"

    def __init__(self, code: str, other: str = "") -> None:
        super().__init__(code, CONFLICT_MESSAGES.get(code, code))
        self.other = other


class BookingStore(Protocol):
    async def ping(self) -> None:
        """Return if the store answers; raise ``StoreUnavailable`` if not."""
        ...

    async def aclose(self) -> None: ...

    # -- exhibitors ------------------------------------------------------------------------------
    async def put_profile(self, profile: ExhibitorProfile) -> None: ...

    async def get_profile(self, exhibitor: str) -> ExhibitorProfile | None: ...

    async def list_profiles(self) -> list[ExhibitorProfile]:
        """Every exhibitor, by id."""
        ...

    # -- slots -----------------------------------------------------------------------------------
    async def add_slots(self, slots: Sequence[Slot]) -> None:
        """Add slots of one exhibitor; ``BookingConflict('slot_overlap')`` and nothing written if
        one overlaps a stored slot of its host (the caller checks overlaps among ``slots``)."""
        ...

    async def remove_slot(self, slot: Slot) -> bool:
        """Remove a free slot; False if it is gone, ``BookingConflict('slot_held')`` if held."""
        ...

    async def get_slot(self, slot_id: str) -> Slot | None: ...

    async def list_slots(self, exhibitor: str) -> list[Slot]:
        """An exhibitor's slots by start time."""
        ...

    async def holders(self, slot_ids: Sequence[str]) -> dict[str, str]:
        """slot id -> id of the request holding it, for the held ones."""
        ...

    # -- requests --------------------------------------------------------------------------------
    async def create_request(self, request: MeetingRequest, *, quota: int,
                             per_exhibitor: int = 0) -> None:
        """Store a new pending request and hold its slot, atomically. Conflicts: ``no_such_slot``,
        ``slot_taken``, ``quota_reached`` (the buyer has ``quota`` awaiting requests already),
        ``exhibitor_quota_reached`` (``per_exhibitor`` of them at this exhibitor; 0: no limit),
        ``buyer_busy``."""
        ...

    async def update_request(self, old: MeetingRequest, new: MeetingRequest) -> None:
        """Compare-and-set: write ``new`` if the stored version is still ``old.version``, applying
        :func:`rooms.trade.request.plan` to holds and indexes. Conflicts: ``request_changed``,
        ``no_such_request``, ``no_such_slot``, ``slot_taken``, ``buyer_busy``."""
        ...

    async def get_request(self, request_id: str) -> MeetingRequest | None: ...

    async def list_requests(
        self, *, exhibitor: str | None = None, buyer: str | None = None
    ) -> list[MeetingRequest]:
        """One exhibitor's or one buyer's requests, by start time then id."""
        ...

    async def list_active(self) -> list[MeetingRequest]:
        """Requests the agenda watches: pending, proposed and accepted ones."""
        ...

    # -- after the meeting -----------------------------------------------------------------------
    async def get_record(self, request_id: str) -> MeetingRecord: ...

    async def put_side(self, request_id: str, side: Side, record: SideRecord) -> None:
        """Store one side's rating and note (``joined_at`` is kept as stored)."""
        ...

    async def mark_joined(self, request_id: str, side: Side, at: float) -> bool:
        """Record a side's first join; False if it was already recorded."""
        ...

    # -- coordination and notices ----------------------------------------------------------------
    async def once(self, key: str, *, ttl_s: float) -> bool:
        """True for the first caller (of any node) within ``ttl_s``: one reminder, not one per
        node."""
        ...

    async def take(self, key: str, *, limit: int, window_s: float) -> float:
        """Count one use of ``key`` in a fixed window of ``window_s`` seconds, shared by every
        node: 0.0 if it was one of the first ``limit`` uses, else (not counted) the seconds until
        the window ends."""
        ...

    async def push_notice(self, notice: Notice) -> None:
        """Append to the person's feed (capped at ``meeting_record.FEED_MAX``)."""
        ...

    async def notices(self, identity: str, *, limit: int = 50) -> list[Notice]:
        """Newest first."""
        ...
