"""Interpretation channels on the wire (issue 17, docs/interpretation.md, docs/protocol.md §9).

Events: ``channel.handover`` (the live interpreter offers the channel to their booth, whose
members hear ``channel.handover_offered``), ``channel.accept`` (a partner takes it on air),
``channel.mute`` (the live interpreter's cough button, or a moderator). Each asks the one gate
first (:meth:`rooms.service.RoomService.check_channel`, or ``moderate``), then the media plane
(streaming/channels.py). ``publish {channel}`` and ``subscribe {channel}`` are in
signaling/media_events.py (and WHIP/WHEP in signaling/media_door.py), with
signaling/channel_offer.py.

The room's ``channels`` (join state and ``channels.changed``): one entry per language that a
present interpreter works in, ``{language, live, muted, booth, listeners}``; the booth comes
from presence (the Store, every node), ``live``/``muted``/``listeners`` from the plane of the
node holding the room's media (another node lists ``live: null``, ``listeners: 0``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import LANGUAGES
from rooms.errors import NotAllowed
from rooms.gate import Action
from rooms.participant import Participant, Role
from signaling.errors import Ack, SignalingError, ok
from signaling.media_link import media_errors
from signaling.messages import ChannelMute, ChannelRef
from signaling.ports import Handler, HubPort
from signaling.wire import room_channel, user_channel
from streaming.channels import ChannelState

if TYPE_CHECKING:
    from signaling.session import Session


def channel_list(present: list[Participant],
                 states: dict[str, ChannelState]) -> list[dict[str, Any]]:
    """The ``channels`` of a room (pure): one per language of a present interpreter, in the
    order zh en ja ko ru mn, plus any the plane still carries."""
    interpreters = [p for p in present if p.role is Role.INTERPRETER and not p.waiting]
    used = {code for p in interpreters for code in p.languages} | set(states)
    channels = []
    for language in (code for code in LANGUAGES if code in used):
        state = states.get(language)
        channels.append({
            "language": language,
            "live": state.live if state is not None else None,
            "muted": state.muted if state is not None else False,
            "booth": [p.identity for p in interpreters if language in p.languages],
            "listeners": state.listeners if state is not None else 0,
        })
    return channels


async def channels_of(hub: HubPort, room: str) -> list[dict[str, Any]]:
    """The room's ``channels`` as every node knows them (see the module docstring)."""
    return channel_list(await hub.store.list_participants(room), await _states(hub, room))


def _local(hub: HubPort, room: str) -> dict[str, ChannelState]:
    return hub.media.plane.channel_states(room) if hub.media.has_plane else {}


async def _states(hub: HubPort, room: str) -> dict[str, ChannelState]:
    """This plane's channels of ``room``; none here: those the media node recorded in the
    Store, trusted only while that node still holds the room's lease (as its tracks are)."""
    local = _local(hub, room)
    if local:
        return local
    stored = await hub.store.get_channels(room)
    if stored is None or stored[0] == hub.settings.node_id:
        return {}
    lease = await hub.store.get_lease(room)
    if lease is None or lease.holder.node_id != stored[0]:
        return {}
    return {c["language"]: ChannelState(c["language"], c["live"], c["muted"], (),
                                        c["listeners"]) for c in stored[1]}


async def record(hub: HubPort, room: str) -> None:
    """The media node keeps the Store's copy of its channels of ``room`` (``[]``: none left),
    so a join on any node shows who is on air (issue 17)."""
    await hub.store.put_channels(room, hub.settings.node_id, [
        {"language": s.language, "live": s.live, "muted": s.muted, "listeners": s.listeners}
        for s in _local(hub, room).values()])


async def announce(hub: HubPort, room: str) -> None:
    """``channels.changed {room, channels}`` to the room's members on every node."""
    await hub.outbox.send(room_channel(room), "channels.changed",
                          {"room": room, "channels": await channels_of(hub, room)})


def _joined(session: Session, room: str) -> None:
    if room not in session.rooms:
        raise SignalingError("not_joined", f"join room {room!r} first")


def _live_of(hub: HubPort, room: str, language: str) -> str | None:
    if not hub.media.has_plane:
        return None
    state = hub.media.plane.channel_states(room).get(language)
    return state.live if state is not None else None


async def handover(hub: HubPort, session: Session, msg: ChannelRef) -> Ack:
    """The live interpreter offers the channel to their booth partners."""
    _joined(session, msg.room)
    await hub.service.check_channel(session.token, msg.room, msg.language)
    if _live_of(hub, msg.room, msg.language) != session.identity:
        raise SignalingError("not_live", "only the interpreter on air can hand over")
    partners = [p.identity for p in await hub.store.list_participants(msg.room)
                if p.role is Role.INTERPRETER and msg.language in p.languages
                and p.identity != session.identity]
    payload = {"room": msg.room, "language": msg.language, "from": session.identity}
    for partner in partners:
        await hub.outbox.send(user_channel(partner), "channel.handover_offered", payload)
    return ok(offered_to=partners)


async def accept(hub: HubPort, session: Session, msg: ChannelRef) -> Ack:
    """A booth partner who sends audio into the channel takes it on air (same track for
    listeners: streaming/channels.py); ``not_publishing`` if they send nothing into it."""
    _joined(session, msg.room)
    await hub.service.check_channel(session.token, msg.room, msg.language)
    try:
        with media_errors():
            hub.media.plane.hand_channel(msg.room, msg.language, session.identity)
    except SignalingError as exc:
        raise SignalingError("not_publishing", str(exc)) from None
    return ok()


async def mute(hub: HubPort, session: Session, msg: ChannelMute) -> Ack:
    """The cough button of the interpreter on air, or a moderator's mute of the channel."""
    _joined(session, msg.room)
    await _check_mute(hub, session, msg)
    try:
        with media_errors():
            hub.media.plane.mute_channel(msg.room, msg.language, msg.muted)
    except SignalingError as exc:
        raise SignalingError("no_such_channel", str(exc)) from None
    return ok(muted=msg.muted)


async def _check_mute(hub: HubPort, session: Session, msg: ChannelMute) -> None:
    try:
        await hub.service.check_channel(session.token, msg.room, msg.language)
    except NotAllowed:
        await hub.service.authorize(session.token, msg.room, Action.MODERATE)
        return  # a moderator mutes any channel
    if _live_of(hub, msg.room, msg.language) != session.identity:
        raise SignalingError("not_live", "only the interpreter on air (or a moderator) mutes")


HANDLERS: dict[str, Handler] = {
    "channel.handover": handover,
    "channel.accept": accept,
    "channel.mute": mute,
}
