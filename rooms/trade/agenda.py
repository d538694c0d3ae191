"""``Agenda``: the clock of trade meetings: expiry, reminders, attendance, the room's end.

Every ``tick_s`` it looks at the active requests (pending, proposed, accepted) and, by the
service's clock:

- expires unanswered requests (their slot is free again);
- from ``join_early_s`` before a meeting: makes sure its room exists and records who of each side
  is present in it (attendance: the rooms Store's presence, so any node sees every node's joins);
- ``reminder_s`` before the start: ``meeting.reminder`` to both sides;
- ``warning_s`` before the room closes (the slot's end + ``grace_s``): ``meeting.ending``;
- at that close: ends the room (everyone is out), completes the meeting, ``meeting.ended`` with
  the attendance; also at the first look after the host ended the room for everyone
  (``room.close``), so "my meetings" no longer offers to join a room that is over.

People leaving the room never end it (rooms/service.py ``leave``): a meeting lives for its slot.

Several nodes run an agenda each: every once-only step is claimed in the Store first
(:meth:`~rooms.trade.store.BookingStore.once`), so a reminder goes out once, not once per node.
The loop sets ``exited`` when it ends, so ``aclose()`` never hangs.
"""

from __future__ import annotations

import asyncio
import logging

from rooms.errors import RoomsError, StoreUnavailable
from rooms.lifecycle import cancel_and_wait
from rooms.room import RoomState
from rooms.trade.request import (
    AWAITING,
    Action,
    MeetingRequest,
    RequestState,
    Side,
    exhibitor_side,
)
from rooms.trade.service import BookingService

log = logging.getLogger(__name__)
ONCE_TTL_S = 7 * 24 * 3600.0


class Agenda:
    def __init__(self, service: BookingService) -> None:
        self.service = service
        self.store = service.store
        self.policy = service.policy
        self.healthy = True
        self.exited = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="meetings-agenda")

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.policy.tick_s)
                await self.tick()
        finally:
            self.exited.set()

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()

    async def tick(self) -> None:
        """One look at the clock (public: tests drive it with a shifted clock)."""
        try:
            active = await self.store.list_active()
        except StoreUnavailable as exc:
            if self.healthy:
                log.warning("meetings agenda paused, store unreachable: %s", exc.reason)
            self.healthy = False
            return
        self.healthy = True
        for request in active:
            try:
                await self._step(request, self.service.clock.now())
            except RoomsError as exc:  # one meeting's trouble never stops the others
                log.warning("agenda step for %s failed: %s", request.id, exc.message)

    async def _step(self, request: MeetingRequest, now: float) -> None:
        if request.state in AWAITING:
            if now >= request.expires_at:
                await self.service.system(request, Action.EXPIRE)
            return
        if request.state is not RequestState.ACCEPTED:
            return
        policy = self.policy
        start, end = request.starts_at.timestamp(), request.ends_at.timestamp()
        close_at = end + policy.grace_s
        if now < start - max(policy.join_early_s, policy.reminder_s):
            return
        team = await self._team(request)
        if now >= start - policy.join_early_s:
            if await self._open(request) is RoomState.ENDED:  # the host ended it for everyone
                if await self._once("close", request):
                    await self._close(request, team, room_ended=True)
                return
            await self._attendance(request, team, now)
        if start - policy.reminder_s <= now < end and await self._once("remind", request):
            await self.service.tell([*team, request.buyer], "meeting.reminder", request)
        if close_at - policy.warning_s <= now < close_at and await self._once("warn", request):
            await self.service.tell([*team, request.buyer], "meeting.ending", request,
                                    closes_at=close_at)
        if now >= close_at and await self._once("close", request):
            await self._close(request, team)

    async def _team(self, request: MeetingRequest) -> list[str]:
        profile = await self.store.get_profile(request.exhibitor)
        return exhibitor_side(request, profile) if profile else [request.host]

    async def _open(self, request: MeetingRequest) -> RoomState:
        """Make sure the meeting's room exists; its state (ENDED: the host ended it)."""
        room = await self.service.rooms.store.get_room(request.room_id)
        if room is not None:
            return room.state
        profile = await self.service.profile(request.exhibitor)
        await self.service.open_room(request, profile)
        return RoomState.SCHEDULED

    async def _attendance(self, request: MeetingRequest, team: list[str], now: float) -> None:
        present = await self.service.rooms.store.list_participants(request.room_id)
        for participant in present:
            if participant.identity == request.buyer:
                await self.store.mark_joined(request.id, Side.BUYER, now)
            elif participant.identity in team:
                await self.store.mark_joined(request.id, Side.EXHIBITOR, now)

    async def _close(self, request: MeetingRequest, team: list[str], *,
                     room_ended: bool = False) -> None:
        await self.service.end_room(request.room_id)
        done = await self.service.system(request, Action.COMPLETE, room_ended=room_ended)
        if done is not None:
            record = await self.store.get_record(request.id)
            await self.service.tell([*team, request.buyer], "meeting.ended", done,
                                    attendance=record.attendance().value)

    async def _once(self, step: str, request: MeetingRequest) -> bool:
        return await self.store.once(f"{step}:{request.id}", ttl_s=ONCE_TTL_S)
