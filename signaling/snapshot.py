"""A room's state as ``join`` returns it: what a client needs to draw the room at once.

Read from the Store (shared by every node, so presence and chat are the same wherever a client
connects). The tracks are this node's when it holds the room's media, else the copy the media
node keeps in the Store (signaling/media_link.py). ``media_node`` names the node
holding the room's lease (where its media is; ``None`` until someone publishes or subscribes),
so a client of another node knows where to connect for media before asking; for a viewer of a
cascaded room it names the node placement seats it on (an edge may be this node). A guest still in a
meeting's waiting room sees only the room and itself.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rooms.content import ChatMessage
from rooms.errors import RoomsError, WrongNode
from rooms.participant import Participant
from rooms.room import Room
from rooms.token import Grant
from signaling import interpretation
from signaling.hls_link import hls_entry
from signaling.ports import HubPort

if TYPE_CHECKING:
    from signaling.session import Session

RECENT_CHAT = 50
LISTED = 200  # participants listed in a join ack; a 5,000-viewer room would be a 1.5 MB ack
ANSWERED_SHOWN = 20  # answered questions in a join ack, the newest first
RESUME_CHAT = 100  # more than this missed: ``chat_more`` is true, page on with chat.history


async def snapshot(hub: HubPort, session: Session, room_id: str, *,
                   after: str | None = None) -> dict[str, Any]:
    store = hub.store
    room = await hub.service.room(room_id)
    me = await store.get_participant(room_id, session.identity)
    staff = _staff(room, session)
    shown_room = room.to_dict() if staff else room.public_dict()
    state: dict[str, Any] = {"session": session.id, "room": shown_room,
                             "me": me.to_dict() if me else None}
    if me is not None and me.waiting:
        return {**state, "waiting": True}
    present = [p for p in await store.list_participants(room_id)
               if _shown(p, session, staff=staff)]
    listed = _listed(present, session)
    hub.room_size[room_id] = len(present)  # the batch interval's audience, fresh at each join
    chat = await _chat(hub, room_id, after)
    more = len(chat) > RESUME_CHAT
    media_node = await _media_node(hub, session, room_id)
    questions = await store.list_questions(room_id)
    tracks = await _tracks(hub, room_id, media_node)
    names = await hub.service.names_of(room, room.exhibitor)
    return {
        **state,
        "waiting": False,
        "chat_more": more,
        "participants": [p.to_dict() for p in listed],
        "participant_count": len(present),
        "stage": [p.identity for p in present if p.on_stage],
        "tracks": tracks,
        **hls_entry(room_id, room.kind.value, tracks, hub.settings.hls),  # issue 16
        "media_node": await _viewer_node(hub, session, room_id, media_node),
        "chat": [m.to_dict() for m in chat[:RESUME_CHAT]],
        "products": [c.to_dict() for c in await store.list_products(room_id) if c.pinned],
        "questions": [q.to_dict() for q in sorted(  # the top N open: most votes, then newest
            (q for q in questions if not q.answered),
            key=lambda q: (-q.votes, -q.asked_at))[:hub.settings.signaling.snapshot_questions]],
        "answered": [q.to_dict() for q in sorted(
            (q for q in questions if q.answered), key=lambda q: -q.asked_at)[:ANSWERED_SHOWN]],
        "exhibitor_names": names.as_dict() if names is not None else None,
        "reactions": await store.reactions(room_id),
        "recording": await hub.recordings.current(room_id),  # issue 15 §3: everyone sees it
        "channels": await interpretation.channels_of(hub, room_id),  # issue 17
    }


async def _chat(hub: HubPort, room_id: str, after: str | None) -> list[ChatMessage]:
    """The chat a joiner gets: from the stream, then what this node accepted during a Redis
    outage and has not written yet (its tail skips those: this node delivered them at
    acceptance, before this member was here). The journal is read first, so a message written
    meanwhile is in both rather than in neither (clients keep one copy per id)."""
    kept = [m for m in hub.service.journal.waiting() if m.room_id == room_id]
    if after is not None:
        chat = await hub.store.chat_page(room_id, after=after, limit=RESUME_CHAT + 1)
    else:
        chat = await hub.store.chat_page(room_id, limit=RECENT_CHAT)
    seen = {m.id for m in chat}
    return chat + [m for m in kept if m.id not in seen]


async def _tracks(hub: HubPort, room_id: str,
                  media_node: dict[str, str] | None) -> list[dict[str, Any]]:
    """The room's published tracks: this node's, or those the media node recorded in the Store
    (trusted only while that node still holds the room's lease)."""
    if media_node is None or media_node["id"] == hub.settings.node_id:
        return hub.media.room_tracks(room_id)
    stored = await hub.store.get_tracks(room_id)
    return stored[1] if stored is not None and stored[0] == media_node["id"] else []


async def _media_node(hub: HubPort, session: Session,
                      room_id: str) -> dict[str, str] | None:
    """The node holding the room's media, if it is live: a page is never sent to a node whose
    load report expired (killed; issue 13, node loss), and that node's tracks are not listed.
    If that node was only stalled and reports again, this session is sent them then
    (signaling/media_return.py)."""
    lease = await hub.store.get_lease(room_id)
    if lease is None:
        return None
    placer = hub.service.placer
    if placer is not None and not await placer.alive(lease.holder.node_id):
        hub.media.waits.note(lease.holder.node_id, room_id, session.id, time.monotonic())
        return None
    return {"id": lease.holder.node_id, "url": lease.holder.node_url}


async def _viewer_node(hub: HubPort, session: Session, room_id: str,
                       media_node: dict[str, str] | None) -> dict[str, str] | None:
    """Where this page should get its media: the room's node, except for a viewer (no
    ``publish`` grant) of a cascaded room on a cascading node, whom placement by load seats
    (rooms/cluster/audience.py): this node as an edge, or the node chosen, where the page moves.
    """
    edge = hub.edge
    if media_node is None or edge is None or session.token.allows(Grant.PUBLISH):
        return media_node
    try:
        origin = await edge.place(room_id, session.identity)
    except WrongNode as exc:
        return {"id": exc.node_id, "url": exc.node_url}
    except RoomsError:  # the store is away: the room's node, as without cascade
        return media_node
    if origin is None:
        return media_node
    return {"id": hub.settings.node_id, "url": hub.settings.base_url}


def _listed(present: list[Participant], session: Session) -> list[Participant]:
    """Everyone on stage, the caller, then others in join order, at most :data:`LISTED`."""
    first = [p for p in present if p.on_stage or p.identity == session.identity]
    rest = [p for p in present if not (p.on_stage or p.identity == session.identity)]
    return first + rest[:max(0, LISTED - len(first))]


def _staff(room: Room, session: Session) -> bool:
    """Hosts and moderators see a meeting's invitees and the room's hidden participants."""
    return session.token.allows(Grant.MODERATE) or session.identity == room.exhibitor


def _shown(participant: Participant, session: Session, *, staff: bool) -> bool:
    """Hidden participants (recorders, observers) are listed and counted for staff only."""
    return staff or not participant.hidden or participant.identity == session.identity
