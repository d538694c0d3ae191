"""Handlers of the media events: publish, unpublish, subscribe, answer, unsubscribe, candidate,
view.

The browser is the offerer for what it sends (``publish``: offer in, answer out). Each handler
checks, in order: the session joined the room, the SDP is within MediaLimits, the one gate allows
it (``RoomService.check_publish`` / ``check_subscribe``: stage, waiting room, grant, ban, state),
the caps (peers per session and per person, negotiations per node), this node holds the room's
media lease (``claim``, else ``wrong_node`` with the node to use), then calls the media plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.errors import WrongNode
from signaling.channel_offer import channel_source, check_audio_only, check_booths
from signaling.errors import Ack, SignalingError, ok
from signaling.media_link import Plane, media_errors
from signaling.messages import Answer, Candidate, PeerRef, Publish, Subscribe, View, check_sdp
from signaling.ports import Handler, HubPort
from streaming.adaptation import TileView

if TYPE_CHECKING:
    from signaling.session import Session


def _joined(session: Session, room: str) -> None:
    if room not in session.rooms:
        raise SignalingError("not_joined", f"join room {room!r} first")


def _own(session: Session, room: str, peer: str) -> None:
    _joined(session, room)
    if session.peers.get(peer) != room:
        raise SignalingError("no_such_peer", f"no media peer {peer[:64]!r} of yours in this room")


async def publish(hub: HubPort, session: Session, msg: Publish) -> Ack:
    """Send media onto the floor (the stage decides), or, with ``channel``, an interpreter's
    audio into that language's channel (issue 17: the gate's channel rule, audio only)."""
    _joined(session, msg.room)
    check_sdp(msg.sdp, hub.settings.media)
    if msg.channel is None:
        await hub.service.check_publish(session.token, msg.room)
    else:
        await hub.service.check_channel(session.token, msg.room, msg.channel)
        check_audio_only(msg.sdp)
    _check_peers(hub, session)
    await hub.service.claim(msg.room)
    with hub.door.negotiation(), media_errors():
        answer = await hub.media.plane.publish(msg.room, session.identity, msg.sdp,
                                               msg.channel)
    session.peers[answer.peer_id] = msg.room
    hub.media.forget_closed(session)  # a re-publish replaced the previous leg (renegotiation)
    return ok(peer=answer.peer_id, type="answer", sdp=answer.sdp)


async def subscribe(hub: HubPort, session: Session, msg: Subscribe) -> Ack:
    """Receive tracks: the server offers (``answer`` completes it), or answers a viewer offer.

    Both forms pick the same tracks (:func:`_wanted`): ``channel`` (issue 17: that language's
    audio, one track whoever interprets), else ``source``, else ``participant``, else the
    room's latest audio and video. So a page's tile for one speaker gets that speaker.
    """
    _joined(session, msg.room)
    if msg.sdp is not None:
        check_sdp(msg.sdp, hub.settings.media)
    await hub.service.check_subscribe(session.token, msg.room)
    _check_peers(hub, session)
    await _media_here(hub, session, msg)
    plane = hub.media.plane
    wanted = _wanted(plane, msg)
    await check_booths(hub, session.token, msg.room, wanted)
    with hub.door.negotiation(), media_errors():
        if msg.sdp is not None:
            reply = await plane.subscribe_whep(msg.room, session.identity, msg.sdp, wanted)
        else:
            reply = await plane.offer_to_viewer(msg.room, session.identity, wanted)
    session.peers[reply.peer_id] = msg.room
    kind = "answer" if msg.sdp is not None else "offer"
    return ok(peer=reply.peer_id, type=kind, sdp=reply.sdp)


async def _media_here(hub: HubPort, session: Session, msg: Subscribe) -> None:
    """Make the room's tracks available here: hold its lease, or (this node an edge) pull them
    from the room's origin. A cascaded room's viewer is placed by load first: ``WrongNode``
    names the node chosen (rooms/cluster/audience.py), and the page moves there."""
    edge = hub.edge
    if edge is None:
        await hub.service.claim(msg.room)
        return
    origin = await edge.place(msg.room, session.identity)
    if origin is None:
        try:
            await hub.service.claim(msg.room)
            return
        except WrongNode as exc:  # served here from the room's origin when this node is an edge
            if not await edge.serves(msg.room):
                raise
            origin = exc.node_url
    participant = msg.participant
    if msg.source is not None:
        participant = msg.source.split("/", 1)[0]
    with media_errors():
        await edge.ensure(msg.room, participant, origin)


def _wanted(plane: Plane, msg: Subscribe) -> list[str] | None:
    """The source ids to send: one track, one participant's live tracks, or None (latest).

    The plane is asked, not the announced track list: a ``subscribe`` right after a publish
    must not depend on whether ``track.published`` went out yet.
    """
    if msg.channel is not None:
        return [channel_source(msg.channel)]
    if msg.source is not None:
        return [msg.source]
    if msg.participant is not None:
        ids = plane.sources_of(msg.room, msg.participant)
        if not ids:
            raise SignalingError("no_such_track", f"{msg.participant[:64]!r} publishes nothing")
        return ids
    return None


def _check_peers(hub: HubPort, session: Session) -> None:
    """Caps on media peers: per connection (``media.max_peers_per_session``) and per person on
    this node over every door (``media.max_peers_per_identity``)."""
    hub.media.forget_closed(session)
    cap = hub.settings.media.max_peers_per_session
    if len(session.peers) >= cap:
        raise SignalingError("too_many_peers", f"at most {cap} media peers per connection")
    hub.door.check_peers(session.identity)


async def answer(hub: HubPort, session: Session, msg: Answer) -> Ack:
    """The viewer's answer to a server offer from ``subscribe``."""
    _own(session, msg.room, msg.peer)
    check_sdp(msg.sdp, hub.settings.media)
    try:
        with media_errors():
            await hub.media.plane.accept_answer(msg.peer, msg.sdp)
    except SignalingError:
        hub.media.forget_closed(session)  # a refused answer closed the peer
        raise
    return ok()


async def unpublish(hub: HubPort, session: Session, msg: PeerRef) -> Ack:
    _own(session, msg.room, msg.peer)
    await hub.media.close_peer(session, msg.peer)
    return ok()


async def candidate(hub: HubPort, session: Session, msg: Candidate) -> Ack:
    """A trickled candidate (RFC 8838); an empty or null one ends the trickle."""
    _own(session, msg.room, msg.peer)
    if not msg.candidate:
        return ok()
    count = session.candidates.get(msg.peer, 0) + 1
    if count > hub.settings.media.max_candidates_per_peer:
        raise SignalingError("too_many_candidates",
                             f"more than {hub.settings.media.max_candidates_per_peer} candidates")
    session.candidates[msg.peer] = count
    with media_errors():
        await hub.media.plane.add_candidate(msg.peer, msg.sdp_mid, msg.candidate)
    return ok()


async def view(hub: HubPort, session: Session, msg: View) -> Ack:
    """What the page shows of one of its viewer peers' video (issue 14 §2b).

    The caller must own the peer in that room, and the one gate must still let it subscribe
    there (a viewer banned or moved off the stage since subscribing is refused, not obeyed);
    then the plane caps that viewer's layer by the tile, or pauses its video when hidden. A
    publisher's peer is no viewer: ``no_such_peer``.
    """
    _joined(session, msg.room)
    await hub.service.check_subscribe(session.token, msg.room)  # the gate first, as everywhere
    _own(session, msg.room, msg.peer)
    with media_errors():
        hub.media.plane.set_view(msg.peer, TileView(msg.width, msg.height, msg.visible))
    return ok()


HANDLERS: dict[str, Handler] = {
    "publish": publish,
    "unpublish": unpublish,
    "subscribe": subscribe,
    "answer": answer,
    "unsubscribe": unpublish,
    "candidate": candidate,
    "view": view,
}
