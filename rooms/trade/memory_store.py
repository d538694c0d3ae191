"""``MemoryBookingStore``: the one-node BookingStore.

Every method runs to completion without awaiting anything in between, so on one event loop each
write is atomic, exactly like the Lua scripts of :mod:`rooms.trade.redis_store`: checks first, then
all writes, or a :class:`~rooms.trade.store.BookingConflict` and no write at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rooms.clock import Clock, SystemClock
from rooms.trade.availability import ExhibitorProfile, Slot
from rooms.trade.record import FEED_MAX, MeetingRecord, Notice, SideRecord
from rooms.trade.request import MeetingRequest, Side, plan
from rooms.trade.store import BookingConflict

COUNTS_MAX = 10_000  # rate-limit windows kept before the finished ones are dropped


class MemoryBookingStore:
    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._profiles: dict[str, ExhibitorProfile] = {}
        self._slots: dict[str, Slot] = {}
        self._holds: dict[str, str] = {}  # slot id -> request id
        self._requests: dict[str, MeetingRequest] = {}
        self._records: dict[str, MeetingRecord] = {}
        self._once: dict[str, float] = {}
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (uses, window end)
        self._feeds: dict[str, list[Notice]] = {}

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    # -- exhibitors ------------------------------------------------------------------------------
    async def put_profile(self, profile: ExhibitorProfile) -> None:
        self._profiles[profile.id] = profile

    async def get_profile(self, exhibitor: str) -> ExhibitorProfile | None:
        return self._profiles.get(exhibitor)

    async def list_profiles(self) -> list[ExhibitorProfile]:
        return [self._profiles[k] for k in sorted(self._profiles)]

    # -- slots -----------------------------------------------------------------------------------
    async def add_slots(self, slots: Sequence[Slot]) -> None:
        for slot in slots:
            for other in self._slots.values():
                if other.host == slot.host and other.overlaps(slot):
                    raise BookingConflict("slot_overlap", other.id)
        for slot in slots:
            self._slots[slot.id] = slot

    async def remove_slot(self, slot: Slot) -> bool:
        if slot.id in self._holds:
            raise BookingConflict("slot_held", self._holds[slot.id])
        return self._slots.pop(slot.id, None) is not None

    async def get_slot(self, slot_id: str) -> Slot | None:
        return self._slots.get(slot_id)

    async def list_slots(self, exhibitor: str) -> list[Slot]:
        mine = [s for s in self._slots.values() if s.exhibitor == exhibitor]
        return sorted(mine, key=lambda s: (s.starts_at, s.id))

    async def holders(self, slot_ids: Sequence[str]) -> dict[str, str]:
        return {s: self._holds[s] for s in slot_ids if s in self._holds}

    # -- requests --------------------------------------------------------------------------------
    async def create_request(self, request: MeetingRequest, *, quota: int,
                             per_exhibitor: int = 0) -> None:
        if request.slot_id not in self._slots:
            raise BookingConflict("no_such_slot", request.slot_id)
        if request.slot_id in self._holds:
            raise BookingConflict("slot_taken", self._holds[request.slot_id])
        awaiting = [r for r in self._requests.values()
                    if r.buyer == request.buyer and plan(None, r).awaiting]
        if len(awaiting) >= quota:
            raise BookingConflict("quota_reached")
        if per_exhibitor and sum(1 for r in awaiting
                                 if r.exhibitor == request.exhibitor) >= per_exhibitor:
            raise BookingConflict("exhibitor_quota_reached")
        self._check_buyer_free(request)
        self._holds[request.slot_id] = request.id
        self._requests[request.id] = request

    async def update_request(self, old: MeetingRequest, new: MeetingRequest) -> None:
        current = self._requests.get(old.id)
        if current is None:
            raise BookingConflict("no_such_request", old.id)
        if current.version != old.version:
            raise BookingConflict("request_changed", old.id)
        steps = plan(old, new)
        if steps.claim is not None:
            if steps.claim not in self._slots:
                raise BookingConflict("no_such_slot", steps.claim)
            holder = self._holds.get(steps.claim)
            if holder is not None and holder != new.id:
                raise BookingConflict("slot_taken", holder)
        if steps.busy_new is not None and steps.busy_new != steps.busy_old:
            self._check_buyer_free(new)
        if steps.release is not None and self._holds.get(steps.release) == new.id:
            del self._holds[steps.release]
        if steps.claim is not None:
            self._holds[steps.claim] = new.id
        self._requests[new.id] = new

    def _check_buyer_free(self, request: MeetingRequest) -> None:
        for other in self._requests.values():
            if (other.buyer == request.buyer and other.id != request.id
                    and plan(None, other).busy_new is not None
                    and other.starts_at < request.ends_at and request.starts_at < other.ends_at):
                raise BookingConflict("buyer_busy", other.id)

    async def get_request(self, request_id: str) -> MeetingRequest | None:
        return self._requests.get(request_id)

    async def list_requests(
        self, *, exhibitor: str | None = None, buyer: str | None = None
    ) -> list[MeetingRequest]:
        found = [r for r in self._requests.values()
                 if (exhibitor is None or r.exhibitor == exhibitor)
                 and (buyer is None or r.buyer == buyer)]
        return sorted(found, key=lambda r: (r.starts_at, r.id))

    async def list_active(self) -> list[MeetingRequest]:
        active = [r for r in self._requests.values() if plan(None, r).active]
        return sorted(active, key=lambda r: (r.starts_at, r.id))

    # -- after the meeting -----------------------------------------------------------------------
    async def get_record(self, request_id: str) -> MeetingRecord:
        return self._records.get(request_id, MeetingRecord())

    async def put_side(self, request_id: str, side: Side, record: SideRecord) -> None:
        current = self._records.get(request_id, MeetingRecord())
        kept = replace(record, joined_at=current.of(side).joined_at)
        self._records[request_id] = replace(current, **{side.value: kept})

    async def mark_joined(self, request_id: str, side: Side, at: float) -> bool:
        current = self._records.get(request_id, MeetingRecord())
        if current.of(side).joined_at is not None:
            return False
        mine = replace(current.of(side), joined_at=at)
        self._records[request_id] = replace(current, **{side.value: mine})
        return True

    # -- coordination and notices ----------------------------------------------------------------
    async def once(self, key: str, *, ttl_s: float) -> bool:
        now = self._clock.now()
        if self._once.get(key, 0.0) > now:
            return False
        self._once[key] = now + ttl_s
        return True

    async def take(self, key: str, *, limit: int, window_s: float) -> float:
        now = self._clock.now()
        if len(self._counts) > COUNTS_MAX:  # bounded: forget the windows that are over
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        uses, ends = self._counts.get(key, (0, 0.0))
        if ends <= now:
            uses, ends = 0, now + window_s
        if uses >= limit:
            return ends - now
        self._counts[key] = (uses + 1, ends)
        return 0.0

    async def push_notice(self, notice: Notice) -> None:
        feed = self._feeds.setdefault(notice.identity, [])
        feed.insert(0, notice)
        del feed[FEED_MAX:]

    async def notices(self, identity: str, *, limit: int = 50) -> list[Notice]:
        return list(self._feeds.get(identity, [])[:limit])

