"""Handlers of the room events: join/leave, chat, reactions, hands, Q&A, moderation, products.

Each handler checks that the session joined the room, asks :class:`rooms.service.RoomService`
(which decides and raises typed errors), announces the domain events it returns, and acks.
Side effects on sessions (entering channels, leaving a room, ending media) happen here, on the
node that holds the session; for sessions on other nodes, RoomService tells their node over the
Bus and :func:`order_from_bus` applies the same effect there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rooms.bus import BusMessage
from rooms.events import Event, Kicked, ParticipantChanged, ProductPinned, RoomChanged
from rooms.participant import Participant, Role
from rooms.room import RoomState
from rooms.token import Grant
from signaling import interpretation
from signaling.errors import Ack, SignalingError, ok
from signaling.media_door import Visit
from signaling.messages import (
    ChatHistory,
    ChatRef,
    ChatSend,
    Join,
    Lock,
    MediaState,
    Mute,
    NameSet,
    ProductRef,
    QuestionAsk,
    QuestionRef,
    Reaction,
    RoomRef,
    Target,
)
from signaling.ports import Handler, HubPort
from signaling.session import Session
from signaling.snapshot import snapshot
from signaling.wire import room_channel, staff_channel, who_channel

log = logging.getLogger(__name__)


def _joined(session: Session, room: str) -> None:
    if room not in session.rooms:
        raise SignalingError("not_joined", f"join room {room!r} first")


def _me(hub: HubPort, session: Session, room: str) -> Participant | None:
    return hub.service.local.get((room, session.identity))


def channels_of(hub: HubPort, session: Session, room: str) -> list[str]:
    """The channels a member is in: its own, the room's once admitted, staff's if staff."""
    me = _me(hub, session, room)
    channels = [who_channel(room, session.identity)]
    if me is None or not me.waiting:
        channels.append(room_channel(room))
    if session.token.allows(Grant.MODERATE) or (me is not None and me.role is Role.HOST):
        channels.append(staff_channel(room))
    return channels


# -- entering and leaving -----------------------------------------------------------------------
async def join(hub: HubPort, session: Session, msg: Join) -> Ack:
    """Enter a room and get its state; joining again (after a reconnect) only resends state."""
    if msg.room in session.rooms:
        again = await hub.service.rejoin(session.token, msg.room, name=msg.name,
                                         language=msg.language)
        if again is not None:
            await hub.announce([again])
        return ok(**await snapshot(hub, session, msg.room, after=msg.after))
    if len(session.rooms) >= hub.limits.rooms_per_client:
        raise SignalingError("too_many_rooms", f"at most {hub.limits.rooms_per_client} rooms")
    await hub.follow_chat(msg.room)  # first: no message falls between it and the snapshot
    try:
        event = await hub.service.join(session.token, msg.room, name=msg.name,
                                       language=msg.language)
    except Exception:
        hub.unfollow_chat(msg.room)
        raise
    session.rooms.add(msg.room)
    hub.add_member(msg.room, session)
    for channel in channels_of(hub, session, msg.room):
        await hub.outbox.enter(session.sid, channel)
    await hub.announce([event])
    if event.participant.role is Role.INTERPRETER:  # issue 17: a booth grew
        await interpretation.announce(hub, msg.room)
    state = await snapshot(hub, session, msg.room, after=msg.after)
    if not state.get("waiting") and state["room"]["kind"] == "meeting":
        await hub.recordings.joined(msg.room, session.identity)  # issue 15 §3: asked too
    return ok(**state)


async def leave(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    _joined(session, msg.room)
    await depart(hub, session, msg.room)
    return ok()


async def depart(hub: HubPort, session: Session, room: str) -> None:
    """Leave ``room``: media ends; when it was the person's last session or media visit here,
    presence goes too. Leaving never ends a room (a meeting's host may come back; ``room.close``
    ends it for everyone)."""
    if await _detach(hub, session, room):
        await hub.leave_room(session.token, room)


async def _detach(hub: HubPort, session: Session, room: str) -> bool:
    """Take a session out of a room on this node (channels, media); presence is not touched.
    True when no session or visit of its identity is left in the room here."""
    channels = channels_of(hub, session, room)
    session.rooms.discard(room)
    last = hub.drop_member(room, session)
    try:
        await hub.media.close_room_peers(session, room)
    except Exception:  # a peer that fails to close must not keep its owner present
        log.exception("session %s: media in %s not closed cleanly", session.log_id, room)
    if session.detached_at is None:
        for channel in channels:
            await hub.outbox.exit(session.sid, channel)
    return last


async def enforce(hub: HubPort, events: Sequence[Event]) -> None:
    """Announce what the domain decided, then apply it to the sessions held on this node: the
    removed or denied leave the room, the muted or demoted stop sending, an ended room empties.

    The same for a moderator in the room and for the admin API (``Hub.moderated``), so both
    send the same events. Sessions on other nodes: RoomService tells their node over the Bus
    (kick, deny, mute) and ``Hub.close_room`` tells every node with members (close).
    """
    for event in events:
        if isinstance(event, ProductPinned):
            await announce_pin(hub, event)
        else:
            await hub.announce([event])
        match event:
            case Kicked(room_id=room, identity=identity):
                await _evict(hub, room, identity)
            case ParticipantChanged(participant=p, change="denied"):
                await _evict(hub, p.room_id, p.identity)
            case ParticipantChanged(participant=p, change="muted" | "demoted"):
                await _end_media_of(hub, p.room_id, p.identity)
            case RoomChanged(room=room) if room.state is RoomState.ENDED:
                await hub.close_room(room.id)


async def close_here(hub: HubPort, room: str) -> None:
    """The room ended: everyone on this node leaves it (sessions and WHIP/WHEP visits) and its
    media ends."""
    for _, session in hub.attendance.in_room(room, Session):
        try:
            if await _detach(hub, session, room):
                await hub.service.leave(session.token, room)
        except Exception:  # one session's trouble must not keep the others in
            log.exception("taking a session out of ended room %s failed", room)
    tokens = {visit.identity: visit.token for _, visit in hub.attendance.in_room(room, Visit)}
    for identity, token in tokens.items():
        try:
            await hub.door.evict(room, identity)
            await hub.service.leave(token, room)
        except Exception:
            log.exception("ending media visits in ended room %s failed", room)
    try:
        await hub.hls.stop(room)  # issue 16 §5: the playlists end (EXT-X-ENDLIST)
    except Exception:
        log.exception("ending the HLS of ended room %s failed", room)


async def announce_pin(hub: HubPort, event: ProductPinned) -> dict[str, Any]:
    """Emit ``product.pinned``/``unpinned`` with the card, so viewers can show it."""
    cards = {c.id: c for c in await hub.store.list_products(event.room_id)}
    payload = event.to_dict()
    if event.product_id in cards:
        payload["product"] = cards[event.product_id].to_dict()
    name = "product.pinned" if event.pinned else "product.unpinned"
    await hub.outbox.send(room_channel(event.room_id), name, payload)
    hub.recordings.timeline.pin(event.room_id, event.product_id, event.pinned,
                                payload.get("product"))  # issue 15 §5: the replay's cards
    return payload


# -- chat, reactions, Q&A -------------------------------------------------------------------------
async def chat_send(hub: HubPort, session: Session, msg: ChatSend) -> Ack:
    _joined(session, msg.room)
    event = await hub.service.post_chat(session.token, msg.room, msg.text)
    await hub.announce([event])
    return ok(message=event.message.to_dict(), journaled=bool(event.message.journaled_by))


async def chat_history(hub: HubPort, session: Session, msg: ChatHistory) -> Ack:
    _joined(session, msg.room)
    me = _me(hub, session, msg.room)
    if me is not None and me.waiting:
        raise SignalingError("in_waiting_room", "wait for the host to admit you")
    page = await hub.store.chat_page(msg.room, before=msg.before, after=msg.after,
                                     limit=msg.limit)
    return ok(messages=[m.to_dict() for m in page])


async def reaction(hub: HubPort, session: Session, msg: Reaction) -> Ack:
    _joined(session, msg.room)
    event = await hub.service.react(session.token, msg.room, msg.kind)
    await hub.announce([event])
    return ok(total=event.total)


async def hand(hub: HubPort, session: Session, msg: RoomRef, raised: bool) -> Ack:
    _joined(session, msg.room)
    await hub.announce([await hub.service.raise_hand(session.token, msg.room, raised)])
    return ok()


async def question_ask(hub: HubPort, session: Session, msg: QuestionAsk) -> Ack:
    _joined(session, msg.room)
    event = await hub.service.ask(session.token, msg.room, msg.text)
    await hub.announce([event])
    return ok(question=event.question.to_dict())


async def question_vote(hub: HubPort, session: Session, msg: QuestionRef) -> Ack:
    _joined(session, msg.room)
    event = await hub.service.vote(session.token, msg.room, msg.question)
    await hub.announce([event])
    return ok(votes=event.votes)


# -- moderation -----------------------------------------------------------------------------------
async def promote(hub: HubPort, session: Session, msg: Target) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.promote(session.token, msg.room, msg.identity)])
    return ok()


async def demote(hub: HubPort, session: Session, msg: Target) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.demote(session.token, msg.room, msg.identity)])
    return ok()


async def stage_accept(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    """The invited person accepts: ``stage.changed`` (promoted) to the room; then they publish."""
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.accept_stage(session.token, msg.room)])
    return ok()


async def stage_decline(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    """The invited person declines: ``stage.declined`` to the room's staff (and the person)."""
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.decline_stage(session.token, msg.room)])
    return ok()


async def stage_leave(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    """A speaker leaves the stage: ``stage.changed`` (demoted), and their tracks end, as after
    a moderator's ``stage.demote``."""
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.leave_stage(session.token, msg.room)])
    return ok()


async def media_state(hub: HubPort, session: Session, msg: MediaState) -> Ack:
    """A speaker's own microphone / camera off or on: ``participant.changed`` (media)."""
    _joined(session, msg.room)
    event = await hub.service.set_media(session.token, msg.room, audio_off=msg.audio_off,
                                        video_off=msg.video_off)
    await hub.announce([event])
    return ok(participant=event.participant.to_dict())


async def name_set(hub: HubPort, session: Session, msg: NameSet) -> Ack:
    """My display name: ``participant.changed`` (renamed) so every page shows the same name."""
    _joined(session, msg.room)
    event = await hub.service.rename(session.token, msg.room, msg.name)
    await hub.announce([event])
    return ok(participant=event.participant.to_dict())


async def mute(hub: HubPort, session: Session, msg: Mute) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.mute(session.token, msg.room, msg.identity,
                                               msg.muted)])
    return ok()


async def _end_media_of(hub: HubPort, room: str, identity: str) -> None:
    """Muted or demoted: every session and WHIP visit of the person stops sending here."""
    for target in hub.sessions_of(room, identity):
        await hub.media.close_publishers(target, room)
    await hub.door.end_publishing(room, identity)


async def remove(hub: HubPort, session: Session, msg: Target) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.kick(session.token, msg.room, msg.identity)])
    return ok()


async def _evict(hub: HubPort, room: str, identity: str) -> None:
    """Removed, denied, or the room ended: every session and media visit of the person on this
    node leaves the room (issue 11, finding 3: not just the latest tab)."""
    for target in hub.sessions_of(room, identity):
        await _detach(hub, target, room)
    await hub.door.evict(room, identity)


async def admit(hub: HubPort, session: Session, msg: Target) -> Ack:
    _joined(session, msg.room)
    event = await hub.service.admit(session.token, msg.room, msg.identity)
    for guest in hub.sessions_of(msg.room, msg.identity):
        if guest.detached_at is None:
            await hub.outbox.enter(guest.sid, room_channel(msg.room))
    await hub.announce([event])
    await hub.recordings.joined(msg.room, msg.identity)  # issue 15 §3: asked once admitted
    return ok()


async def deny(hub: HubPort, session: Session, msg: Target) -> Ack:
    """Turn a knock away: the guest leaves the waiting room (it may knock again later; a
    ``participant.remove`` bars it). Its node, this one or another, takes its session out."""
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.deny(session.token, msg.room, msg.identity)])
    return ok()


async def chat_delete(hub: HubPort, session: Session, msg: ChatRef) -> Ack:
    _joined(session, msg.room)
    await hub.announce([await hub.service.delete_chat(session.token, msg.room, msg.message)])
    return ok()


async def lock(hub: HubPort, session: Session, msg: Lock) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.lock(session.token, msg.room, msg.locked)])
    return ok()


async def close(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    _joined(session, msg.room)
    await enforce(hub, [await hub.service.set_state(session.token, msg.room, RoomState.ENDED)])
    return ok()


async def pin(hub: HubPort, session: Session, msg: ProductRef, pinned: bool) -> Ack:
    """Pin or unpin a product card; the emit carries the card so viewers can show it."""
    _joined(session, msg.room)
    event = await hub.service.pin_product(session.token, msg.room, msg.product, pinned)
    return ok(**await announce_pin(hub, event))


# -- orders from other nodes --------------------------------------------------------------------
async def order_from_bus(hub: HubPort, message: BusMessage) -> None:
    """Another node removed, denied or muted someone whose session is here, or ended a room
    that has members here (its ``room.closed`` reached them through Socket.IO already)."""
    room, identity = str(message.payload.get("room_id")), str(message.payload.get("identity"))
    if message.kind == "close":
        await close_here(hub, room)
    elif message.kind in ("kick", "deny"):
        await _tell_evicted(hub, message.kind, room, identity, dict(message.payload))
        await _evict(hub, room, identity)
    elif message.kind.startswith("record."):
        await hub.recordings.order(message)
    elif message.kind == "mute":
        muted = bool(message.payload.get("muted"))
        hub.service.note_muted(room, identity, muted)  # the gate on local state reads it
        if muted:
            await _end_media_of(hub, room, identity)


async def _tell_evicted(hub: HubPort, kind: str, room: str, identity: str,
                        payload: dict[str, Any]) -> None:
    """Tell this node's sessions of the person before they leave the room's channels: the
    origin node's emit travels another path (Socket.IO's pub/sub) and may arrive after they
    left (a duplicate is harmless: the page shows the same notice)."""
    name = "participant.removed" if kind == "kick" else "waiting.denied"
    for session in hub.sessions_of(room, identity):
        if session.detached_at is None:
            await hub.outbox.send(session.sid, name, payload)


HANDLERS: dict[str, Handler] = {
    "join": join,
    "leave": leave,
    "chat.send": chat_send,
    "chat.history": chat_history,
    "reaction": reaction,
    "hand.raise": lambda hub, s, m: hand(hub, s, m, True),
    "hand.lower": lambda hub, s, m: hand(hub, s, m, False),
    "question.ask": question_ask,
    "question.vote": question_vote,
    "stage.promote": promote,
    "stage.demote": demote,
    "stage.accept": stage_accept,
    "stage.decline": stage_decline,
    "stage.leave": stage_leave,
    "media.state": media_state,
    "name.set": name_set,
    "track.mute": mute,
    "participant.remove": remove,
    "waiting.admit": admit,
    "waiting.deny": deny,
    "chat.delete": chat_delete,
    "room.lock": lock,
    "room.close": close,
    "product.pin": lambda hub, s, m: pin(hub, s, m, True),
    "product.unpin": lambda hub, s, m: pin(hub, s, m, False),
}
