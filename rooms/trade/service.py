"""``BookingService``: every command and query of trade meetings (issue 7), transport-free.

Each command takes the verified :class:`Caller`, checks who may do it (the exhibitor, a named
team member, the buyer, an organiser), validates the input through the pure modules
(:mod:`rooms.trade.availability`, :mod:`rooms.trade.request`), writes through the
:class:`~rooms.trade.store.BookingStore` in one atomic step, and then tells the people
concerned (their notification feed first, which is durable, then the optional real-time
:class:`Notifier`). An accepted request opens its meeting room in the rooms Store.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from rooms.clock import Clock, SystemClock, utc
from rooms.errors import InvalidInput, NoSuchRoom, NotAllowed, RateLimited
from rooms.events import RoomChanged
from rooms.room import MEETING_MAX, Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from rooms.trade.availability import (
    MAX_SLOTS_PER_CALL,
    ExhibitorProfile,
    Slot,
    check_identity,
    check_slot_id,
    first_overlap,
    iso,
    slot_from_input,
    zone,
)
from rooms.trade.caller import Caller
from rooms.trade.record import MeetingRecord, Notice, SideRecord, feedback
from rooms.trade.request import (
    Action,
    MeetingRequest,
    RequestState,
    Side,
    check_request_id,
    exhibitor_side,
    new_request,
    room_id_for,
    transition,
)
from rooms.trade.store import BookingConflict, BookingStore

__all__ = ["BookingPolicy", "BookingService", "Caller", "JoinLink", "MeetingView", "Notifier"]
log = logging.getLogger(__name__)
GUEST_GRANTS = frozenset({Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT})
# an interpreter (issue 17 §6): hears and sees the meeting, publishes audio into a channel only
INTERPRETER_GRANTS = frozenset({Grant.JOIN, Grant.SUBSCRIBE, Grant.INTERPRET})
HOST_GRANTS = GUEST_GRANTS | {Grant.MODERATE}


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """The knobs of trade meetings (times in seconds)."""

    quota: int = 5  # open (pending or proposed) requests per buyer
    quota_per_exhibitor: int = 2  # open requests per buyer at one exhibitor
    requests_per_client_hour: int = 30  # requests one client address may make per hour (0: off)
    request_ttl_s: float = 48 * 3600  # an unanswered request lapses (or when its slot starts)
    join_early_s: float = 300  # join links work this long before the slot
    reminder_s: float = 300  # the reminder goes out this long before the slot
    grace_s: float = 300  # the room stays open this long after the slot
    warning_s: float = 60  # the "ending soon" warning before the room closes
    tick_s: float = 5.0  # how often the agenda looks at the clock


@dataclass(frozen=True, slots=True)
class JoinLink:
    url: str
    token: str
    valid_from: float
    valid_until: float


@dataclass(frozen=True, slots=True)
class MeetingView:
    """A request or meeting as one side sees it: its own record only (notes are private)."""

    request: MeetingRequest
    side: Side
    mine: SideRecord = field(default_factory=SideRecord)
    attendance: str | None = None


class Notifier(Protocol):
    """Real-time delivery (web/: Socket.IO). The feed in the Store is the durable copy."""

    async def notice(self, notice: Notice) -> None: ...

    async def room_closed(self, event: RoomChanged) -> None:
        """The meeting room ended on this node's initiative: tell clients, end local sessions."""
        ...


NO_SHOWS = frozenset({"buyer_no_show", "exhibitor_no_show", "both_no_show"})


def meeting_hook(kind: str, attendance: object = None) -> str | None:
    """The webhook a booking notice makes: ``request.<state>`` is ``meeting_<state>``
    (``created``: ``meeting_requested``), a meeting that ended without someone is
    ``meeting_no_show``; reminders and interpreter notices make none."""
    if kind == "request.created":
        return "meeting_requested"
    if kind in ("request.accepted", "request.declined", "request.cancelled",
                "request.withdrawn", "request.expired"):
        return "meeting_" + kind.partition(".")[2]
    if kind == "meeting.ended" and attendance in NO_SHOWS:
        return "meeting_no_show"
    return None


class BookingService:
    def __init__(self, store: BookingStore, rooms: RoomService, *, secret: str, base_url: str,
                 policy: BookingPolicy | None = None, clock: Clock | None = None,
                 notifier: Notifier | None = None) -> None:
        self.store = store
        self.rooms = rooms
        self.policy = policy or BookingPolicy()
        self.clock = clock or SystemClock()
        self.notifier = notifier
        self._secret = secret
        self._base_url = base_url.rstrip("/")

    # -- exhibitors and slots --------------------------------------------------------------------
    async def put_profile(self, caller: Caller, data: dict[str, Any]) -> ExhibitorProfile:
        """Create or replace a profile: the organiser, or the exhibitor itself (``exhibit`` grant,
        identity = profile id); team members may not (they could rename the exhibitor)."""
        caller.may_exhibit(str(data.get("id", "")))
        profile = ExhibitorProfile.from_dict(data)
        await self.store.put_profile(profile)
        return profile

    async def profile(self, exhibitor: str) -> ExhibitorProfile:
        found = await self.store.get_profile(check_identity(exhibitor, "exhibitor"))
        if found is None:
            raise NoSuchRoom(exhibitor, code="no_such_exhibitor", what="exhibitor")
        return found

    async def _acting(self, caller: Caller, exhibitor: str) -> ExhibitorProfile:
        """The profile of ``exhibitor`` if the caller may act for it (see ``may_exhibit``)."""
        if not (caller.organiser or caller.exhibits):
            caller.may_exhibit(exhibitor)  # refuses before revealing whether it exists
        profile = await self.profile(exhibitor)
        caller.may_exhibit(profile.id, profile.team)
        return profile

    def _side(self, caller: Caller, request: MeetingRequest,
              profile: ExhibitorProfile) -> Side | None:
        """The caller's side of ``request``; the exhibitor's side needs the ``exhibit`` grant."""
        side = request.side_of(caller.identity, profile.team)
        if side is Side.EXHIBITOR and not caller.organiser:
            caller.may_exhibit(profile.id, profile.team)
        return side

    async def publish(self, caller: Caller, exhibitor: str, items: object,
                      host: str | None = None) -> list[Slot]:
        """Publish slots for ``host`` (default: the caller); all or none are stored."""
        profile = await self._acting(caller, exhibitor)
        who = host or (caller.identity if profile.acts_for(caller.identity) else profile.id)
        if not profile.acts_for(who):
            raise InvalidInput("bad_host", "the host must be the exhibitor or a team member")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_SLOTS_PER_CALL:
            raise InvalidInput("bad_slots", f"slots must be a list of 1-{MAX_SLOTS_PER_CALL}")
        now = utc(self.clock.now())
        slots = [slot_from_input(item, exhibitor=profile.id, host=who, now=now,
                                 default_zone=profile.time_zone) for item in items]
        clash = first_overlap(slots)
        if clash is not None:
            raise InvalidInput("overlapping_slots",
                               f"slots at {iso(clash[0].starts_at)} and "
                               f"{iso(clash[1].starts_at)} overlap")
        await self.store.add_slots(slots)
        return slots

    async def remove_slot(self, caller: Caller, slot_id: str) -> Slot:
        slot = await self.slot(slot_id)
        await self._acting(caller, slot.exhibitor)
        if not await self.store.remove_slot(slot):
            raise NoSuchRoom(slot_id, code="no_such_slot", what="slot")
        return slot

    async def slot(self, slot_id: str) -> Slot:
        found = await self.store.get_slot(check_slot_id(slot_id))
        if found is None:
            raise NoSuchRoom(slot_id, code="no_such_slot", what="slot")
        return found

    async def slots(self, exhibitor: str, *, include_held: bool = False,
                    include_past: bool = False) -> list[tuple[Slot, str | None]]:
        """An exhibitor's slots with the id of the request holding each (None: free)."""
        await self.profile(exhibitor)
        now = utc(self.clock.now())
        slots = [s for s in await self.store.list_slots(exhibitor)
                 if include_past or s.starts_at > now]
        held = await self.store.holders([s.id for s in slots])
        return [(s, held.get(s.id)) for s in slots if include_held or s.id not in held]

    async def directory(self, *, pavilion: Any = None, product: str = "",
                        language: str = "") -> list[tuple[ExhibitorProfile, int]]:
        """Exhibitors matching the filters, each with its number of free future slots."""
        found = []
        for profile in await self.store.list_profiles():
            if profile.matches(pavilion=pavilion, product=product, language=language):
                found.append((profile, len(await self.slots(profile.id))))
        return found

    # -- requests --------------------------------------------------------------------------------
    async def request(self, caller: Caller, slot_id: str, *, message: object = None,
                      time_zone: object = None, interpreter: object = None) -> MeetingRequest:
        """A delegate (or the organiser) requests a free slot; the slot is held for both sides
        until an answer. Quotas: ``policy.quota`` open requests per buyer, of which
        ``policy.quota_per_exhibitor`` at one exhibitor (409 ``quota_reached`` /
        ``exhibitor_quota_reached``), and ``policy.requests_per_client_hour`` requests per client
        address (``RateLimited``), so neither one identity nor one client can hold every slot."""
        caller.may_request()
        slot = await self.slot(slot_id)
        profile = await self.profile(slot.exhibitor)
        if profile.acts_for(caller.identity):
            raise NotAllowed("own_slot", "you cannot request your own exhibitor's slot")
        buyer_zone = str(time_zone or slot.time_zone)
        zone(buyer_zone)
        created = new_request(slot=slot, buyer=check_identity(caller.identity, "buyer"),
                              buyer_name=caller.name or caller.identity, message=message,
                              buyer_zone=buyer_zone, now=self.clock.now(),
                              ttl_s=self.policy.request_ttl_s, interpreter=interpreter)
        await self._count_client(caller)
        await self.store.create_request(created, quota=self.policy.quota,
                                        per_exhibitor=self.policy.quota_per_exhibitor)
        await self.tell(exhibitor_side(created, profile), "request.created", created)
        return created

    async def _count_client(self, caller: Caller) -> None:
        """One more request from the caller's address this hour, or ``RateLimited``."""
        limit = self.policy.requests_per_client_hour
        if not limit or not caller.client or caller.organiser:
            return
        wait = await self.store.take(f"requests:{caller.client}", limit=limit, window_s=3600)
        if wait > 0:
            raise RateLimited("meeting requests from this address", wait)

    async def act(self, caller: Caller, request_id: str, action: Action, *,
                  reason: object = None, slot_id: str | None = None) -> MeetingRequest:
        """Accept, decline, propose, withdraw or cancel, as the side the caller is on."""
        old = await self._request(request_id)
        profile = await self.profile(old.exhibitor)
        side = self._side(caller, old, profile)
        if side is None:
            raise NotAllowed("not_your_request", "that request is not yours")
        other = await self.slot(slot_id) if slot_id is not None else None
        new = transition(old, action, side, now=self.clock.now(), by=caller.identity,
                         reason=reason, slot=other, ttl_s=self.policy.request_ttl_s)
        await self.store.update_request(old, new)
        if action is Action.ACCEPT:  # after the write: a lost race leaves no room behind
            await self.open_room(new, profile)
        kind = f"request.{new.state.value}"
        self.hook(kind, new)  # the CRM hears of the cancellation before the room's end
        if new.state is RequestState.CANCELLED:
            await self.end_room(new.room_id)
        told = [new.buyer] if side is Side.EXHIBITOR else exhibitor_side(new, profile)
        await self.tell(told, kind, new, hooked=True)
        return new

    async def system(self, request: MeetingRequest, action: Action, *,
                     room_ended: bool = False) -> MeetingRequest | None:
        """The agenda's transitions (expire, complete; a meeting whose room the host ended
        completes early); None if someone else got there first."""
        try:
            new = transition(request, action, Side.SYSTEM, now=self.clock.now(), by="system",
                             room_ended=room_ended)
            await self.store.update_request(request, new)
        except (BookingConflict, NotAllowed):
            return None
        if new.state is RequestState.EXPIRED:
            profile = await self.store.get_profile(new.exhibitor)
            team = exhibitor_side(new, profile) if profile else [new.exhibitor]
            await self.tell([new.buyer, *team], "request.expired", new)
        return new

    async def _request(self, request_id: str) -> MeetingRequest:
        found = await self.store.get_request(check_request_id(request_id))
        if found is None:
            raise NoSuchRoom(request_id, code="no_such_request", what="request")
        return found

    async def mine(self, caller: Caller) -> list[MeetingView]:
        """The caller's requests and meetings as a buyer."""
        found = await self.store.list_requests(buyer=check_identity(caller.identity))
        return [MeetingView(r, Side.BUYER) for r in found]

    async def view(self, caller: Caller, request_id: str) -> MeetingView:
        request = await self._request(request_id)
        profile = await self.profile(request.exhibitor)
        side = self._side(caller, request, profile)
        if side is None and caller.organiser:
            side = Side.EXHIBITOR
        if side is None:
            raise NotAllowed("not_your_request", "that request is not yours")
        record = await self.store.get_record(request.id)
        shown = record.attendance().value if request.state is RequestState.COMPLETED else None
        return MeetingView(request, side, record.of(side), shown)

    async def requests_of(self, caller: Caller, exhibitor: str) -> list[MeetingRequest]:
        await self._acting(caller, exhibitor)
        return await self.store.list_requests(exhibitor=exhibitor)

    async def records_of(self, requests: Sequence[MeetingRequest]) -> dict[str, MeetingRecord]:
        return {r.id: await self.store.get_record(r.id) for r in requests}

    # -- the meeting -----------------------------------------------------------------------------
    async def join_link(self, caller: Caller, request_id: str) -> JoinLink:
        """A personal link to the meeting room, valid from a few minutes before the slot to the
        room's end (the token's ``nbf``/``exp``: tokens are checked wherever they are used)."""
        view = await self.view(caller, request_id)
        request = view.request
        if request.state is not RequestState.ACCEPTED:
            raise NotAllowed("not_a_meeting", "only accepted requests have a meeting")
        start = request.starts_at.timestamp() - self.policy.join_early_s
        until = request.ends_at.timestamp() + self.policy.grace_s
        if self.clock.now() >= until:
            raise NotAllowed("meeting_over", "the meeting is over")
        grants = GUEST_GRANTS if view.side is Side.BUYER else HOST_GRANTS
        token = mint(self._secret, identity=caller.identity, room=request.room_id,
                     grants=grants, ttl_s=int(until - start), name=caller.name, now=start)
        url = f"{self._base_url}/meeting/{request.room_id}?token={token}"  # web/room_pages.py
        return JoinLink(url=url, token=token, valid_from=start, valid_until=until)

    async def assign_interpreter(self, caller: Caller, request_id: str, *, identity: str,
                                 name: str, languages: Sequence[str]) -> JoinLink:
        """An interpreter for an accepted meeting (issue 17 §6), named by the organiser or the
        exhibitor's side: their personal link to the interpreter console (a token with the
        ``interpret`` grant and their ``languages`` for the meeting's room, valid as the sides'
        links are). The buyer's requested language must be among ``languages``. The interpreter,
        the buyer and the exhibitor's side are told (``meeting.interpreter``); the interpreter's
        notice carries the link."""
        view = await self.view(caller, request_id)
        request = view.request
        if not (caller.organiser or view.side is Side.EXHIBITOR):
            raise NotAllowed("not_allowed", "only the organiser or the exhibitor assigns one")
        if request.interpreter and request.interpreter not in languages:
            raise InvalidInput("bad_language",
                               f"the buyer asked for {request.interpreter}: include it")
        link = self._interpreter_link(request, check_identity(identity), name, languages)
        profile = await self.profile(request.exhibitor)
        told: dict[str, Any] = {"interpreter": identity, "interpreter_name": name,
                                "languages": list(languages)}
        await self.tell([identity], "meeting.interpreter", request, url=link.url, **told)
        await self.tell([request.buyer, *exhibitor_side(request, profile)],
                        "meeting.interpreter", request, **told)
        return link

    def _interpreter_link(self, request: MeetingRequest, identity: str, name: str,
                          languages: Sequence[str]) -> JoinLink:
        if request.state is not RequestState.ACCEPTED:
            raise NotAllowed("not_a_meeting", "only accepted requests have a meeting")
        start = request.starts_at.timestamp() - self.policy.join_early_s
        until = request.ends_at.timestamp() + self.policy.grace_s
        if self.clock.now() >= until:
            raise NotAllowed("meeting_over", "the meeting is over")
        token = mint(self._secret, identity=identity, room=request.room_id,
                     grants=INTERPRETER_GRANTS, ttl_s=int(until - start), name=name,
                     now=start, languages=languages)
        url = f"{self._base_url}/interpret/{request.room_id}?token={token}"  # the console
        return JoinLink(url=url, token=token, valid_from=start, valid_until=until)

    async def rate(self, caller: Caller, request_id: str, *, rating: object,
                   note: object) -> SideRecord:
        view = await self.view(caller, request_id)
        if view.request.state not in (RequestState.ACCEPTED, RequestState.COMPLETED):
            raise NotAllowed("not_a_meeting", "only meetings can be rated")
        if rating is not None and self.clock.now() < view.request.starts_at.timestamp():
            raise NotAllowed("meeting_not_started", "rate a meeting once it has taken place")
        updated = feedback(view.mine, rating, note)
        await self.store.put_side(view.request.id, view.side, updated)
        return updated

    async def open_room(self, request: MeetingRequest, profile: ExhibitorProfile) -> None:
        """Create the meeting room (idempotent: the id comes from the request). The agenda calls
        it again before the slot, in case the Store failed right after the acceptance."""
        ends = request.ends_at + timedelta(seconds=self.policy.grace_s)
        room = Room(id=request.room_id, kind=RoomKind.MEETING, pavilion=profile.pavilion,
                    title=LocalizedText({lang: f"{profile.name[lang]} · {request.buyer_name}"
                                         for lang in profile.name}),
                    exhibitor=request.host, starts_at=request.starts_at, ends_at=ends,
                    time_zone=request.time_zone, capacity=MEETING_MAX,
                    invitees=frozenset({request.buyer, request.host, profile.id, *profile.team}))
        await self.rooms.store.create_room(room)

    async def end_room(self, room_id: str) -> RoomChanged | None:
        """End the meeting room for everyone (cancelled, or its time is up)."""
        room = await self.rooms.store.get_room(room_id)
        if room is None or room.state is RoomState.ENDED:
            return None
        ended = room.with_state(RoomState.ENDED)
        await self.rooms.store.put_room(ended)
        event = RoomChanged(ended, "ended")
        if self.notifier is not None:
            await self.notifier.room_closed(event)
        return event

    # -- notices ---------------------------------------------------------------------------------
    def hook(self, kind: str, request: MeetingRequest, **extra: Any) -> dict[str, Any]:
        """The notice's data; its webhook (issue 18 §1), if the change has one, queued once
        per change, whoever is told. Every event of a request names the room it has (or will
        have once accepted), so they keep their order."""
        data = self._data(request, extra)
        hook = meeting_hook(kind, extra.get("attendance"))
        if hook is not None:
            room = request.room_id or room_id_for(request.id)
            self.rooms.hooks.emit(hook, {"meeting": {**data, "room_id": request.room_id}},
                                  room=room)
        return data

    async def tell(self, identities: Sequence[str], kind: str, request: MeetingRequest, *,
                   hooked: bool = False, **extra: Any) -> None:
        """Write a notice to each person's feed, then push it; a failed push loses nothing.
        Its webhook too, unless ``hooked`` (the caller queued it already)."""
        data = self._data(request, extra) if hooked else self.hook(kind, request, **extra)
        for identity in dict.fromkeys(identities):
            notice = Notice(id=secrets.token_hex(8), identity=identity, kind=kind,
                            at=self.clock.now(), data=data, room_id=request.room_id)
            await self.store.push_notice(notice)
            if self.notifier is not None:
                try:
                    await self.notifier.notice(notice)
                except Exception:  # real-time is best effort; the feed has it
                    log.exception("pushing %s to %s failed", kind, identity)

    @staticmethod
    def _data(request: MeetingRequest, extra: dict[str, Any]) -> dict[str, Any]:
        return {"request_id": request.id, "exhibitor": request.exhibitor,
                "buyer": request.buyer, "buyer_name": request.buyer_name,
                "starts_at": iso(request.starts_at), "ends_at": iso(request.ends_at),
                "state": request.state.value, "reason": request.reason,
                "interpreter": request.interpreter, **extra}

    async def notices(self, caller: Caller, *, limit: int = 50) -> list[Notice]:
        return await self.store.notices(check_identity(caller.identity), limit=limit)
