"""``RoomService``: every change a participant or moderator can make to a room.

Each method takes the caller's verified :class:`~rooms.token.AccessToken`, gathers facts from the
Store, asks :mod:`rooms.policy`, writes, and returns a domain event (:mod:`rooms.events`) or
raises a typed error (:mod:`rooms.errors`) that says who is at fault. Joins and stage changes of
one room are serialised on this node (a room lives on one node: the lease), so a meeting never
admits a fifth person through a race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import zlib
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol

from config import LANGUAGES, SignalingLimits
from rooms import gate, policy, stage
from rooms.bus import EVERY_NODE, Bus
from rooms.chat_journal import ChatJournal
from rooms.clock import Clock, SystemClock
from rooms.content import ChatMessage, Question
from rooms.errors import (
    InvalidInput,
    NoSuchRoom,
    NotAllowed,
    RoomFull,
    StoreUnavailable,
    WrongNode,
)
from rooms.events import (
    ChatDeleted,
    ChatPosted,
    Joined,
    Kicked,
    Left,
    ParticipantChanged,
    ProductPinned,
    QuestionAnswered,
    QuestionAsked,
    QuestionVoted,
    Reacted,
    RoomChanged,
)
from rooms.gate import Action, Facts
from rooms.participant import Participant, Role
from rooms.pavilion import Pavilion
from rooms.rate import Rate, RateLimits
from rooms.room import ROOM_ID, Room, RoomKind, RoomState
from rooms.store import LeaseHolder, Store
from rooms.text import LocalizedText, display_name, user_text
from rooms.token import AccessToken, Grant
from rooms.webhooks.hooks import Hooks
from rooms.webhooks.memory_queue import MemoryWebhookQueue
from rooms.written_chat import WrittenChat

NameBook = Callable[[str], Awaitable[LocalizedText | None]]
REACTIONS = frozenset({"like", "heart", "clap", "laugh", "wow", "fire"})
_LOCK_STRIPES = 64
KNOWN_ROOMS = 4_096  # rooms whose last copy is kept for the Keeper (rooms/keeper.py)
MUTEX_TTL_S = 2.0  # a counted decision takes a few Store round trips
MUTEX_WAIT_S = 3.0
MUTEX_RETRY_S = 0.005
MUTEX_RETRY_MAX_S = 0.05
FALLBACK_BAN_S = 3600.0  # when a participant's token expiry is unknown
log = logging.getLogger(__name__)


class Placer(Protocol):
    """Where a room nobody holds should live (rooms.cluster.ClusterNode in a node)."""

    async def place(self, room_id: str) -> None:
        """Return if this node should take the room; raise ``WrongNode`` naming the node that
        should, or ``NoNodeAvailable``."""
        ...

    async def alive(self, node_id: str) -> bool:
        """Whether ``node_id`` is a live node (its load report has not expired)."""
        ...


class RoomService:
    def __init__(
        self, store: Store, bus: Bus, *, node: LeaseHolder, limits: SignalingLimits | None = None,
        clock: Clock | None = None, presence_ttl_s: float = 30.0, lease_ttl_s: float = 15.0,
        rates: Mapping[str, Rate] | None = None, placer: Placer | None = None,
    ) -> None:
        """``rates`` overrides the per-participant token buckets: ``chat`` and ``questions``
        (default: the chat limits of ``limits``) and ``reactions`` (also votes; default: the
        reaction limits of ``limits``). ``placer`` decides where a room nobody holds goes
        (without one, the node that sees its first client takes it)."""
        self.store = store
        # webhooks (issue 18 §1): none until the factory sets the node's own (rooms/factory.py)
        self.hooks = Hooks(MemoryWebhookQueue(), ())
        self.placer = placer
        self.bus = bus
        self.node = node
        self.limits = limits or SignalingLimits()
        self.clock = clock or SystemClock()
        self.presence_ttl_s = presence_ttl_s
        self.lease_ttl_s = lease_ttl_s
        self.local: dict[tuple[str, str], Participant] = {}  # joined through this node
        self._local_count: Counter[str] = Counter()  # room -> len of its part of ``local``
        self.leases: set[str] = set()  # rooms whose lease this node holds
        # The last copy read of each room (LRU): what the Keeper writes back into a Store that
        # came back empty, for the rooms this node holds live.
        self.known_rooms: OrderedDict[str, Room] = OrderedDict()
        self._media_holds: Counter[str] = Counter()  # room -> WHIP/WHEP sessions here
        self._locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]
        chat = Rate(self.limits.chat_per_second, self.limits.chat_burst)
        reactions = Rate(self.limits.reactions_per_second, self.limits.reaction_burst)
        defaults = {"chat": chat, "questions": chat, "reactions": reactions}
        self.rates = RateLimits({**defaults, **(rates or {})}, self.clock)
        # Who an exhibitor is in each language (the composition root points it at the trade
        # profiles): their presence carries it, so every page shows one localized name.
        self.names: NameBook | None = None
        # Chat accepted while the Store is unreachable, until rooms/journal_flusher.py writes it.
        self.journal = ChatJournal(node.node_id, self.limits.chat_journal_max)
        # What this node wrote to the streams lately: written again if Redis loses it.
        self.written = WrittenChat()

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks[zlib.crc32(room_id.encode()) % _LOCK_STRIPES]

    @contextlib.asynccontextmanager
    async def _counted(self, room_id: str, *, across_nodes: bool) -> AsyncIterator[None]:
        """The room's critical section for a decision that counts who is present.

        In process, the room's lock. When the count spans nodes (a participant cap, a stage
        size), also a short Store mutex (``SET NX PX`` through the lease script, on key
        ``mutex:<room>``), so two nodes cannot both admit the last seat. A node that dies
        inside it frees it after :data:`MUTEX_TTL_S`; one that cannot get it in
        :data:`MUTEX_WAIT_S` refuses with ``StoreUnavailable`` rather than overfill the room.
        """
        async with self._lock(room_id):
            if not across_nodes:
                yield
                return
            key = f"mutex:{room_id}"
            loop = asyncio.get_running_loop()
            deadline, pause = loop.time() + MUTEX_WAIT_S, MUTEX_RETRY_S
            while (await self.store.claim_lease(key, self.node, ttl_s=MUTEX_TTL_S)).holder != (
                    self.node):
                if loop.time() > deadline:
                    raise StoreUnavailable("the room is busy on another node; try again")
                await asyncio.sleep(pause * (0.5 + random.random()))  # jitter: no lockstep
                pause = min(pause * 2, MUTEX_RETRY_MAX_S)  # a burst must not hammer Redis
            try:
                yield
            finally:
                await self.store.release_lease(key, self.node)

    async def room(self, room_id: str) -> Room:
        room = await self.store.get_room(room_id)
        if room is None:
            raise NoSuchRoom(room_id)
        self.known_rooms[room_id] = room
        self.known_rooms.move_to_end(room_id)
        if len(self.known_rooms) > KNOWN_ROOMS:
            self.known_rooms.popitem(last=False)
        return room

    async def facts(self, token: AccessToken, room_id: str) -> Facts:
        """What the gate reads about ``token``'s holder in ``room_id`` (NoSuchRoom if none)."""
        return await self.identity_facts(room_id, token.identity)

    async def identity_facts(self, room_id: str, identity: str) -> Facts:
        """The facts of ``identity`` in ``room_id`` when the door holds no token, only an
        identity it signed itself (a signed HLS link, issue 16 §3): read as :meth:`facts`."""
        room = await self.room(room_id)
        me = await self.store.get_participant(room_id, identity)
        banned = await self.store.is_banned(room_id, identity)
        return Facts(room, me, banned, self.clock.now())

    async def authorize(self, token: AccessToken, room_id: str, action: Action) -> Facts:
        """The one gate (DESIGN.md §6): may this caller do ``action`` in this room now?

        Returns the facts it decided on; raises ``NotAllowed`` (or ``NoSuchRoom``) otherwise.
        Every door asks this (or :meth:`admit_entry` for entering) and only translates the answer.
        """
        facts = await self.facts(token, room_id)
        gate.decide(token, action, facts)
        return facts

    async def admit_entry(self, token: AccessToken, room_id: str,
                          door: Action = Action.ENTER) -> Facts:
        """The gate for entering through ``door`` (see :func:`rooms.gate.decide_entry`)."""
        facts = await self.facts(token, room_id)
        gate.decide_entry(token, facts, door)
        return facts

    async def _target(self, room_id: str, identity: str) -> Participant:
        target = await self.store.get_participant(room_id, identity)
        if target is None:
            raise NoSuchRoom(identity, code="no_such_participant", what="participant")
        return target

    async def _save(self, participant: Participant) -> Participant:
        await self.store.put_participant(participant, ttl_s=self.presence_ttl_s)
        key = (participant.room_id, participant.identity)
        if participant.node_id == self.node.node_id:
            if key not in self.local:
                self._local_count[participant.room_id] += 1
            self.local[key] = participant
        return participant

    def drop_local(self, room_id: str, identity: str) -> None:
        """Forget a participant this node was keeping alive (it left, or was kicked)."""
        if self.local.pop((room_id, identity), None) is not None:
            self._local_count[room_id] -= 1
            if self._local_count[room_id] <= 0:
                del self._local_count[room_id]

    # -- entering and leaving -------------------------------------------------------------------
    async def join(self, token: AccessToken, room_id: str, *, name: str | None = None,
                   language: str = "en", media: bool | None = None,
                   door: Action = Action.ENTER) -> Joined:
        """Enter a room: grants, schedule, lock, invitation, ban, lease and capacity decide.

        Chat and presence are in the Store, so joining a broadcast or a forum works on any node
        (``media=None``, the default, claims no lease there): the lease is claimed where media
        is needed, by ``publish``/``subscribe`` (:meth:`claim`), and only they get ``WrongNode``.
        A meeting's join does claim it (everyone in a meeting exchanges media, and its four-seat
        limit is kept by serialising joins on the one node that holds the lease). ``media=True``
        or ``False`` forces either way (``False``: a chat-only or HLS client of a meeting).
        ``door`` is how they enter (WHIP: ``PUBLISH``, WHEP: ``SUBSCRIBE``): the gate decides.
        """
        if language not in LANGUAGES:
            raise InvalidInput("bad_language", f"unknown language {language!r}")
        room = (await self.admit_entry(token, room_id, door)).room
        shown = display_name(name or token.name or token.identity)
        names = await self.names_of(room, token.identity)
        if names is not None and not name:  # the exhibitor: one name, in each reader's language
            shown = display_name(names.get("en") or shown)
        elif name:  # a name the person chose (remembered by their browser) is theirs everywhere
            names = None
        role = policy.role_for(room, token)
        counted = policy.needs_roster(room, role) and room.kind is not RoomKind.MEETING
        async with self._counted(room_id, across_nodes=counted):
            if media or (media is None and room.kind is RoomKind.MEETING):
                await self.claim(room_id)
            previous = await self.store.get_participant(room_id, token.identity)
            if previous is not None:  # a reconnect keeps its seat, stage, admission and mute
                participant = previous.update(name=shown, language=language, names=names,
                                              node_id=self.node.node_id,
                                              expires_at=float(token.expires_at))
            else:
                participant = await self._newcomer(room, token, role, shown, language)
            participant = await self._save(participant.update(names=names))
        return Joined(room, participant)

    async def rejoin(self, token: AccessToken, room_id: str, *, name: str | None = None,
                     language: str = "en") -> Joined | None:
        """A session already in ``room_id`` on this node joins again (a reconnect, or a page
        that came back here after a node it had moved to died). Its presence must name this
        node: meanwhile the person may have joined on another node, whose death's sweep would
        then remove them (rooms/cluster/sweeper.py), or been swept already. So unless the
        record names this node it is written again through :meth:`join` (the gate decides
        again); the ``Joined`` is returned only when they were gone (others saw them leave).
        A Store outage keeps what the node holds: ``None``, nothing written."""
        try:
            me = await self.store.get_participant(room_id, token.identity)
        except StoreUnavailable:
            return None
        if me is not None and me.node_id == self.node.node_id:
            return None
        joined = await self.join(token, room_id, name=name, language=language)
        return joined if me is None else None

    async def _newcomer(self, room: Room, token: AccessToken, role: Role, shown: str,
                        language: str) -> Participant:
        # an external recorder (issue 15 §3) joins hidden, like an observer
        hidden = token.allows(Grant.HIDDEN) or token.allows(Grant.RECORDER)
        roster = policy.needs_roster(room, role)
        present = await self.store.list_participants(room.id) if roster else []
        entry = policy.entry_for(room, role, present, hidden=hidden)
        return Participant(
            identity=token.identity, room_id=room.id, name=shown, role=entry.role,
            language=language, node_id=self.node.node_id, on_stage=entry.on_stage,
            waiting=entry.waiting, hidden=hidden, joined_at=self.clock.now(),
            expires_at=float(token.expires_at),
            languages=token.languages if role is Role.INTERPRETER else ())

    async def names_of(self, room: Room, identity: str) -> LocalizedText | None:
        """The localized name of the room's exhibitor: the room's own ``host_name`` (the
        organiser's), else :attr:`names` (the trade profile); None for anyone else or when
        none is known."""
        if not room.exhibitor or identity != room.exhibitor:
            return None
        if len(room.host_name):
            return room.host_name
        if self.names is None:
            return None
        found = await self.names(identity)
        return found if found is not None and len(found) else None

    async def open_demo_broadcast(self, token: AccessToken, room_id: str) -> None:
        """Demo mode: a WHIP publisher whose token carries ``create`` opens a live broadcast of
        its own on first publish (issue 3 §9). Nothing happens if the room exists or the token
        cannot create (the gate then answers for the room)."""
        if not token.allows(Grant.CREATE) or not ROOM_ID.fullmatch(room_id):
            return
        if await self.store.get_room(room_id) is not None:
            return
        await self.store.create_room(Room(
            id=room_id, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
            title=LocalizedText({"en": room_id}), exhibitor=token.identity,
            state=RoomState.LIVE))

    async def claim(self, room_id: str) -> None:
        """Hold the room's lease or raise ``WrongNode`` naming the node that does.

        A room nobody holds goes where the placer says (issue 13: the least-loaded healthy
        node, never a draining one): ``WrongNode`` names that node, or ``NoNodeAvailable``.
        Two nodes may both send a client to a third; the third claims (the lease is atomic,
        and a node that lost the race names the winner).

        A lease held by a node the placer does not know as live (its load report expired: it
        was killed) is dead: it is released (compare-and-delete, so only that holder's lease
        goes) and the room placed again, so a client is never sent to a dead node and the room
        moves within one report TTL rather than the lease's own.
        """
        if self.placer is not None and room_id not in self.leases:
            held = await self.store.get_lease(room_id)
            if held is not None and held.holder != self.node and (
                    not await self.placer.alive(held.holder.node_id)):
                log.warning("room %s: its node %s stopped reporting; taking its lease back",
                            room_id, held.holder.node_id)
                await self.store.release_lease(room_id, held.holder)
                held = None
            if held is None:
                await self.placer.place(room_id)
            elif held.holder != self.node:
                raise WrongNode(held.holder.node_url, node_id=held.holder.node_id)
        lease = await self.store.claim_lease(room_id, self.node, ttl_s=self.lease_ttl_s)
        if lease.holder != self.node:
            raise WrongNode(lease.holder.node_url, node_id=lease.holder.node_id)
        self.leases.add(room_id)

    async def hold_media(self, room_id: str) -> None:
        """A media session without a Socket.IO member (WHIP, WHEP) starts here: hold the lease
        while it lasts, or raise ``WrongNode`` naming the node that holds the room's media."""
        await self.claim(room_id)
        self._media_holds[room_id] += 1

    async def release_media(self, room_id: str) -> None:
        """One :meth:`hold_media` session ended; the lease goes when nothing here needs it."""
        if self._media_holds[room_id] <= 1:
            self._media_holds.pop(room_id, None)
        else:
            self._media_holds[room_id] -= 1
        await self._release_if_idle(room_id)

    async def release_leases(self) -> list[str]:
        """Give up every room's lease (a drain with another node to take them): the rooms'
        media homes move to whichever node the next client's claim is placed on, while the
        peers already here keep flowing until their clients leave. Returns the rooms."""
        rooms = sorted(self.leases)
        self.leases.clear()
        for room_id in rooms:
            await self.store.release_lease(room_id, self.node)
        return rooms

    async def _release_if_idle(self, room_id: str) -> None:
        if room_id in self.leases and not self._local_count[room_id] and (
                not self._media_holds[room_id]):
            self.leases.discard(room_id)
            await self.store.release_lease(room_id, self.node)

    async def leave(self, token: AccessToken, room_id: str) -> list[Left]:
        """Leave a room: ``[Left]``. Leaving never ends a room, whoever leaves.

        People leave and come back, in any order: a tab closed or a dropped connection is not
        a decision. A meeting ends by its life only: its time is up (the trade agenda,
        rooms/trade/agenda.py, at the slot's end + grace), its host or a moderator ends it for
        everyone (``room.close``, :meth:`set_state`), or its booking is cancelled.
        """
        me = await self.store.get_participant(room_id, token.identity)
        await self._forget(room_id, token.identity)
        hidden = me is not None and me.hidden
        return [Left(room_id, token.identity, hidden=hidden)]

    async def _forget(self, room_id: str, identity: str) -> None:
        await self.store.remove_participant(room_id, identity)
        self.drop_local(room_id, identity)
        self.rates.forget(room_id, identity)
        await self._release_if_idle(room_id)

    # -- stage, hands, waiting room ---------------------------------------------------------------
    async def raise_hand(self, token: AccessToken, room_id: str,
                         raised: bool) -> ParticipantChanged:
        facts = await self.authorize(token, room_id, Action.HAND)
        room, me = facts.room, _present(facts)
        if raised:
            policy.check_hand(room, me)
        me = await self._save(me.update(hand_raised=raised))
        return ParticipantChanged(me, "hand_raised" if raised else "hand_lowered")

    async def promote(self, token: AccessToken, room_id: str, identity: str) -> ParticipantChanged:
        """Invite someone to the stage (forum audience -> speaker, broadcast viewer -> co-host).

        Nobody is put on stage without consent (issue 12): this records an invitation that
        lapses after :data:`rooms.stage.INVITE_TTL_S` and returns ``"invited"``; the person's
        :meth:`accept_stage` puts them on stage. Someone already on stage: ``"promoted"``, as
        before. The stage must have room now (and again at the accept).
        """
        room = (await self.authorize(token, room_id, Action.MODERATE)).room
        async with self._counted(room_id, across_nodes=True):
            target = await self._target(room_id, identity)
            policy.promoted_role(room, target)
            if target.on_stage:
                return ParticipantChanged(target, "promoted")
            policy.check_stage(room, await self.store.list_participants(room_id))
            target = await self._save(target.update(
                invited_until=stage.invitation_until(self.clock.now()), hand_raised=False))
        return ParticipantChanged(target, "invited")

    async def accept_stage(self, token: AccessToken, room_id: str) -> ParticipantChanged:
        """The invited person says yes: on stage (``"promoted"``), microphone and camera on.

        Refused ``no_invitation`` / ``invitation_expired`` (rooms/stage.py), ``stage_full``.
        """
        room = (await self.authorize(token, room_id, Action.SELF)).room
        async with self._counted(room_id, across_nodes=True):
            me = await self._target(room_id, token.identity)
            if me.on_stage:
                return ParticipantChanged(me, "promoted")
            stage.check_invited(me, self.clock.now())
            role = policy.promoted_role(room, me)
            policy.check_stage(room, await self.store.list_participants(room_id))
            me = await self._save(me.update(role=role, on_stage=True, hand_raised=False,
                                            invited_until=0.0, audio_off=False,
                                            video_off=False))
        return ParticipantChanged(me, "promoted")

    async def decline_stage(self, token: AccessToken, room_id: str) -> ParticipantChanged:
        """The invited person says no (a lapsed invitation may be declined too): ``"declined"``,
        which the room's staff hear."""
        me = _present(await self.authorize(token, room_id, Action.SELF))
        if me.invited_until <= 0:
            raise NotAllowed("no_invitation", "nobody invited you to the stage")
        me = await self._save(me.update(invited_until=0.0))
        return ParticipantChanged(me, "declined")

    async def lapse_invitations(self) -> list[ParticipantChanged]:
        """Clear the stage invitations of this node's participants that have lapsed (issue 12):
        one ``"lapsed"`` per person, which the room's staff and the person hear, so the
        moderator's "Invited" mark goes at once. Each node sweeps the people it holds; the
        Store's record is read again under the room's lock, so an accept that won the race
        stands."""
        now, out = self.clock.now(), []
        for (room_id, identity), held in list(self.local.items()):
            if not 0 < held.invited_until <= now:
                continue
            async with self._lock(room_id):
                me = await self.store.get_participant(room_id, identity)
                if me is None or not 0 < me.invited_until <= now or me.on_stage:
                    continue
                me = await self._save(me.update(invited_until=0.0))
            out.append(ParticipantChanged(me, "lapsed"))
        return out

    async def leave_stage(self, token: AccessToken, room_id: str) -> ParticipantChanged:
        """A speaker steps down by themselves: ``"demoted"`` (their tracks end), as a moderator's
        :meth:`demote` would."""
        me = _present(await self.authorize(token, room_id, Action.SELF))
        stage.check_on_stage(me)
        me = await self._save(me.update(role=policy.demoted_role(me), on_stage=False))
        return ParticipantChanged(me, "demoted")

    async def set_media(self, token: AccessToken, room_id: str, *, audio_off: bool | None,
                        video_off: bool | None) -> ParticipantChanged:
        """A speaker turns their own microphone or camera off or on: ``"media"``, announced so
        every page shows the state (``None`` leaves that kind as it is)."""
        me = _present(await self.authorize(token, room_id, Action.SELF))
        stage.check_on_stage(me)
        me = await self._save(me.update(
            audio_off=me.audio_off if audio_off is None else audio_off,
            video_off=me.video_off if video_off is None else video_off))
        return ParticipantChanged(me, "media")

    async def rename(self, token: AccessToken, room_id: str, name: str) -> ParticipantChanged:
        """Change one's display name in the room (``rooms.text.display_name`` rules):
        ``"renamed"``, announced so every page shows the same name."""
        me = _present(await self.authorize(token, room_id, Action.SELF))
        me = await self._save(me.update(name=display_name(name), names=None))
        return ParticipantChanged(me, "renamed")

    async def demote(self, token: AccessToken, room_id: str, identity: str) -> ParticipantChanged:
        await self.authorize(token, room_id, Action.MODERATE)
        target = await self._target(room_id, identity)
        target = await self._save(target.update(role=policy.demoted_role(target), on_stage=False))
        return ParticipantChanged(target, "demoted")

    async def admit(self, token: AccessToken, room_id: str, identity: str) -> ParticipantChanged:
        """Let a meeting guest in from the waiting room (the host, or a moderator)."""
        room = (await self.authorize(token, room_id, Action.ADMIT)).room
        async with self._lock(room_id):
            target = await self._target(room_id, identity)
            policy.check_admit(room, target, await self.store.list_participants(room_id))
            target = await self._save(target.update(waiting=False, on_stage=True))
        return ParticipantChanged(target, "admitted")

    async def deny(self, token: AccessToken, room_id: str, identity: str) -> ParticipantChanged:
        """Turn a meeting guest away from the waiting room (the host, or a moderator).

        The guest's presence goes and its node takes its session out of the room, but it is not
        banned: it may knock again later (joining again puts it back in the waiting room), as a
        knock turned away at a door may come back. To keep someone out, :meth:`kick` bans.
        """
        room = (await self.authorize(token, room_id, Action.ADMIT)).room
        if room.kind is not RoomKind.MEETING:
            raise NotAllowed("not_a_meeting", "only meetings have a waiting room")
        target = await self._target(room_id, identity)
        if not target.waiting:
            raise NotAllowed("not_waiting", "that participant is not in the waiting room")
        await self._forget(room_id, identity)
        await self._tell_node(target, "deny", {"room_id": room_id, "identity": identity})
        return ParticipantChanged(target, "denied")

    # -- moderation -------------------------------------------------------------------------------
    async def kick(self, token: AccessToken, room_id: str, identity: str) -> Kicked:
        """Remove someone and bar the identity for the rest of its token's lifetime."""
        await self.authorize(token, room_id, Action.MODERATE)
        target = await self._target(room_id, identity)
        until = target.expires_at if target.expires_at > self.clock.now() else (
            self.clock.now() + FALLBACK_BAN_S)
        await self.store.ban(room_id, identity, until=until)
        await self._forget(room_id, identity)
        await self._tell_node(target, "kick", {"room_id": room_id, "identity": identity,
                                               "banned_until": until})
        return Kicked(room_id, identity, until, hidden=target.hidden)

    async def mute(self, token: AccessToken, room_id: str, identity: str,
                   muted: bool) -> ParticipantChanged:
        await self.authorize(token, room_id, Action.MODERATE)
        target = await self._save((await self._target(room_id, identity)).update(muted=muted))
        await self._tell_node(target, "mute", {"room_id": room_id, "identity": identity,
                                               "muted": muted})
        return ParticipantChanged(target, "muted" if muted else "unmuted")

    async def _tell_node(self, target: Participant, kind: str, payload: dict[str, object]) -> None:
        """Tell every other node (the event covers this node's own sessions): one person may
        hold sessions and media on several nodes (two tabs, OBS beside the studio page), and a
        kick, deny or mute must reach all of them (issue 11, finding 3). Rare: one message."""
        del target
        await self.bus.publish(EVERY_NODE, kind, payload)

    async def lock(self, token: AccessToken, room_id: str, locked: bool) -> RoomChanged:
        room = (await self.authorize(token, room_id, Action.MODERATE)).room.with_lock(locked)
        await self.store.put_room(room)
        return RoomChanged(room, "locked" if locked else "unlocked")

    async def set_state(self, token: AccessToken, room_id: str, state: RoomState) -> RoomChanged:
        """Go live or close (the host or a moderator). Closing is final: an ended room admits
        nobody."""
        room = (await self.authorize(token, room_id, Action.HOST)).room
        policy.check_transition(room, state)
        room = room.with_state(state)
        await self.store.put_room(room)
        return RoomChanged(room, state.value)

    async def pin_product(self, token: AccessToken, room_id: str, product_id: str,
                          pinned: bool) -> ProductPinned:
        room = (await self.authorize(token, room_id, Action.HOST)).room
        if room.kind is not RoomKind.BROADCAST:
            raise NotAllowed("not_a_broadcast", "only broadcasts show product cards")
        if pinned and not await self.store.pin_product(room_id, product_id,
                                                       max_pinned=room.max_pinned):
            raise RoomFull("too many pinned products", limit=room.max_pinned, code="pins_full")
        if not pinned:
            await self.store.unpin_product(room_id, product_id)
        return ProductPinned(room_id, product_id, pinned)

    async def check_publish(self, token: AccessToken, room_id: str) -> Participant:
        """For the media plane: the participant, if it may send media now."""
        return _present(await self.authorize(token, room_id, Action.PUBLISH))

    async def check_channel(self, token: AccessToken, room_id: str,
                            language: str) -> Participant:
        """Issue 17: the interpreter, if they may work the ``language`` channel now."""
        if language not in LANGUAGES:
            raise InvalidInput("bad_language", f"unknown language {language[:16]!r}")
        facts = await self.facts(token, room_id)
        gate.decide_channel(token, facts, language)
        return _present(facts)

    async def check_subscribe(self, token: AccessToken, room_id: str) -> Participant:
        """For the media plane: the participant, if it may receive the room's media now."""
        return _present(await self.authorize(token, room_id, Action.SUBSCRIBE))

    # -- chat, reactions, Q&A ---------------------------------------------------------------------
    async def _poster(self, token: AccessToken, room_id: str, action: str) -> Participant:
        me = _present(await self.authorize(token, room_id, Action.POST))
        self.rates.check(room_id, token.identity, action)
        return me

    async def post_chat(self, token: AccessToken, room_id: str, text: str) -> ChatPosted:
        """Post a message: written to the room's stream, or, when the Store cannot be reached,
        kept in this node's journal (issue 13 §6) and written when it is back.

        With the Store down the gate decides on what this node holds (:meth:`_poster_here`),
        and so it does, without trying the Store, while the journal is busy (it holds anything,
        or an outage's aftermath is being checked: the journal drains within ~0.5 s of Redis
        answering). A new message then queues behind the journal, so no sender's message
        overtakes an earlier one of theirs. A message written is remembered a few seconds
        (rooms/written_chat.py): written again if Redis comes back without it.
        ``message.waiting`` tells the caller that it is kept here (deliver it to this node's
        members now: no stream will)."""
        user_text(text, max_chars=self.limits.chat_max_chars, what="message")
        if self.journal.busy:  # an outage is under way (or just ended): no Store round trip,
            with contextlib.suppress(StoreUnavailable):  # whose retries take up to seconds
                return ChatPosted(self._keep(self._poster_here(token, room_id), text))
        try:
            me = await self._chat_poster(token, room_id)
        except StoreUnavailable:
            me = self._poster_here(token, room_id)
            return ChatPosted(self._keep(me, text))
        if self.journal.busy:
            return ChatPosted(self._keep(me, text))
        try:
            message = await self.store.append_chat(room_id, sender=me.identity, name=me.name,
                                                   text=text, sent_at=self.clock.now())
        except StoreUnavailable:
            message = self._keep(me, text)
        else:
            self.written.wrote(message)
        return ChatPosted(message)

    async def _chat_poster(self, token: AccessToken, room_id: str) -> Participant:
        """:meth:`_poster` for chat. Someone joined here whose presence record lapsed while the
        Store was down (a 70 s outage outlives the 30 s TTL; the keeper writes it back within
        ~0.5 s of Redis) is written back at once rather than refused ``not_in_room``."""
        try:
            return await self._poster(token, room_id, "chat")
        except NotAllowed as exc:
            held = self.local.get((room_id, token.identity))
            if exc.code != "not_in_room" or held is None:
                raise
            if await self.store.is_banned(room_id, token.identity):  # kicked meanwhile
                self.drop_local(room_id, token.identity)
                raise
        await self._save(held)
        return await self._poster(token, room_id, "chat")

    def _keep(self, me: Participant, text: str) -> ChatMessage:
        return self.journal.accept(me.room_id, sender=me.identity, name=me.name, text=text,
                                   sent_at=self.clock.now())

    def _poster_here(self, token: AccessToken, room_id: str) -> Participant:
        """The gate for posting with the Store unreachable, on what this node holds: the room's
        last copy read here (state, lock, kind) and the caller's presence as joined here (role,
        stage, waiting room, mute: a mute from another node reaches it over the Bus,
        :meth:`note_muted`). Bans need no lookup (a kicked person's presence here is gone).
        The rate limits are this node's anyway. Someone or some room this node does not hold:
        ``StoreUnavailable`` as before."""
        room = self.known_rooms.get(room_id)
        me = self.local.get((room_id, token.identity))
        if room is None or me is None:
            raise StoreUnavailable("this node does not hold the room or the participant")
        facts = Facts(room, me, False, self.clock.now())
        gate.decide(token, Action.POST, facts)
        self.rates.check(room_id, token.identity, "chat")
        return me

    def note_muted(self, room_id: str, identity: str, muted: bool) -> None:
        """Another node muted (or unmuted) someone joined here: keep this node's copy in step,
        so the gate on local state (:meth:`_poster_here`) sees it during a Store outage."""
        held = self.local.get((room_id, identity))
        if held is not None:
            self.local[(room_id, identity)] = held.update(muted=muted)

    async def delete_chat(self, token: AccessToken, room_id: str, message_id: str) -> ChatDeleted:
        await self.authorize(token, room_id, Action.MODERATE)
        if not await self.store.delete_chat(room_id, message_id):
            raise NoSuchRoom(message_id, code="no_such_message", what="message")
        return ChatDeleted(room_id, message_id)

    async def react(self, token: AccessToken, room_id: str, reaction: str) -> Reacted:
        if reaction not in REACTIONS:
            raise InvalidInput("bad_reaction", f"reactions are {', '.join(sorted(REACTIONS))}")
        await self._poster(token, room_id, "reactions")
        return Reacted(room_id, reaction, await self.store.add_reaction(room_id, reaction))

    async def ask(self, token: AccessToken, room_id: str, text: str) -> QuestionAsked:
        user_text(text, max_chars=self.limits.question_max_chars, what="question")
        room = await self.room(room_id)
        if room.kind is RoomKind.MEETING:
            raise NotAllowed("no_questions", "meetings have no Q&A")
        me = await self._poster(token, room_id, "questions")
        question: Question = await self.store.add_question(
            room_id, asker=me.identity, name=me.name, text=text, asked_at=self.clock.now(),
            max_open=self.limits.max_open_questions)
        return QuestionAsked(question)

    async def answer(self, token: AccessToken, room_id: str, question_id: str) -> QuestionAnswered:
        """A moderator marks a question answered (it stays listed, flagged)."""
        await self.authorize(token, room_id, Action.MODERATE)
        if not await self.store.answer_question(room_id, question_id):
            raise NoSuchRoom(question_id, code="no_such_question", what="question")
        return QuestionAnswered(room_id, question_id)

    async def vote(self, token: AccessToken, room_id: str, question_id: str) -> QuestionVoted:
        await self._poster(token, room_id, "reactions")
        votes = await self.store.vote_question(room_id, question_id, token.identity)
        return QuestionVoted(room_id, question_id, votes)


def _present(facts: Facts) -> Participant:
    """The caller's presence the gate required (it refuses ``not_in_room`` without one)."""
    if facts.me is None:
        raise NotAllowed("not_in_room", "join the room first")
    return facts.me
