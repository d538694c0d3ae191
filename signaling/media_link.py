"""``MediaLink``: the hub's one path to the media plane, and the tracks it announces.

Publish and subscribe go through :class:`streaming.plane.MediaPlane`, the same plane WHIP/WHEP
use (issue 5: no second media path). The plane reports Sources appearing and ending through a
synchronous listener; those reports are queued (bounded) and one owned task turns them into
``track.published`` / ``track.unpublished`` emits in order. Media errors become error acks with
stable codes (:func:`media_errors`).

What adaptation reports about one peer (issue 14 §2-4: ``QualityChanged`` for a viewer,
``LayersWanted`` for a publisher) goes to the session that owns that peer, and to no other: the
plane names the peer's room and person, the hub's attendance lists that person's sessions here
(a peer lives on the node whose plane reports it), and ``session.peers`` says which one holds it.
A peer held by no session (a WHIP/WHEP visit, an edge's upstream) has nobody to tell. The last
notice per peer is kept until the peer ends and sent again when its session resumes: one sent
while the socket was away is not lost (a publisher that missed "send ``f`` again" would leave
its viewers on a low layer until the next change).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from rooms.errors import RoomsError
from rooms.lifecycle import cancel_and_wait
from rooms.store import Store
from signaling.errors import SignalingError
from signaling.media_return import MediaWaits
from signaling.outbox import HasOutbox
from signaling.wire import room_channel
from streaming.channels import ChannelChanged, ListenersChanged
from streaming.errors import (
    BadOffer,
    Capacity,
    MediaError,
    NegotiationError,
    NothingPublished,
    PlaneClosed,
    UnknownPeer,
)
from streaming.plane import (
    LayersWanted,
    MediaEvent,
    MediaPlane,
    PeerEnded,
    QualityChanged,
    SourceAdded,
    SourceEnded,
    SpeakerChanged,
)
from streaming.publisher import PublisherLeg

if TYPE_CHECKING:
    from signaling.session import Session

log = logging.getLogger(__name__)
Plane = MediaPlane
EVENT_QUEUE = 1_024

_CODES: list[tuple[type[Exception], str]] = [
    (NegotiationError, "bad_offer"), (BadOffer, "bad_offer"), (UnknownPeer, "no_such_peer"),
    (NothingPublished, "no_such_track"), (Capacity, "media_full"),
    (PlaneClosed, "media_unavailable"),
]


def unpublished(track: dict[str, Any]) -> dict[str, Any]:
    """The ``track.unpublished`` payload of a recorded track (docs/protocol.md)."""
    return {key: track.get(key) for key in ("room_id", "participant", "source", "kind")}


@contextlib.contextmanager
def media_errors() -> Iterator[None]:
    """Turn the plane's refusals into ``SignalingError`` with a stable code."""
    try:
        yield
    except (MediaError, NegotiationError) as exc:
        code = next((c for kind, c in _CODES if isinstance(exc, kind)), "media_unavailable")
        raise SignalingError(code, str(exc) or code) from None


class HasSessions(HasOutbox, Protocol):
    """The hub as the link sees it: the outbox, and one person's sessions in a room here."""

    def sessions_of(self, room: str, identity: str) -> list[Session]: ...


def quality_payload(event: QualityChanged) -> dict[str, Any]:
    """``media.quality`` (docs/protocol.md §4): what one viewer peer now gets of one track."""
    return {"room_id": event.room, "peer": event.peer_id, "source": event.source_id,
            "layer": event.layer, "width": event.width, "height": event.height,
            "reason": event.reason}


def layers_payload(event: LayersWanted) -> dict[str, Any]:
    """``publish.layers`` (docs/protocol.md §4): the rids of a publisher's track to keep."""
    return {"room_id": event.room, "peer": event.peer_id, "source": event.source_id,
            "active": list(event.active)}


class MediaLink:
    def __init__(self, hub: HasSessions, plane: Plane | None, store: Store | None = None,
                 node_id: str = "") -> None:
        self.hub = hub
        self._plane = plane
        self._store, self._node_id = store, node_id  # where the room's tracks are recorded
        self.tracks: dict[str, dict[str, dict[str, Any]]] = {}  # room -> source id -> track
        self.recorded: set[str] = set()  # the rooms of ``tracks`` whose record was written
        self.waits = MediaWaits()  # joins that saw the room's media node look dead
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue(EVENT_QUEUE)
        # peer id -> (event, payload): its last adaptation notice, sent again on resume
        self._notices: dict[str, tuple[str, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        # issue 17: tells the room its channels changed (the hub sets it: interpretation.py)
        self.on_channels: Callable[[str], Awaitable[None]] | None = None
        # issue 18 §1: a track published or unpublished here (the hub's webhooks; synchronous)
        self.on_track: Callable[[str, str, dict[str, Any]], None] | None = None
        # issue 17: a channel's listener count changed (synchronous, coalesced by the hub)
        self.on_listeners: Callable[[str], None] | None = None

    @property
    def has_plane(self) -> bool:
        return self._plane is not None

    @property
    def plane(self) -> Plane:
        if self._plane is None:
            raise SignalingError("media_unavailable", "this node has no media plane")
        return self._plane

    def start(self) -> None:
        if self._plane is not None and self._task is None:
            self._plane.listen(self._heard)
            self._task = asyncio.create_task(self._run(), name="hub-media-events")

    def _heard(self, event: MediaEvent) -> None:
        if isinstance(event, ListenersChanged):  # never queued: a thousand would fill it
            if self.on_listeners is not None:
                self.on_listeners(event.room)
            return
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("media event queue full; %s not announced", event)

    async def _run(self) -> None:
        while True:
            event = await self._events.get()
            with contextlib.suppress(Exception):
                await self._announce(event)

    async def _announce(self, event: MediaEvent) -> None:
        """Record the room's tracks (for joins on other nodes), then tell the room."""
        if isinstance(event, QualityChanged | LayersWanted):
            await self._tell_owner(event)
            return
        if isinstance(event, PeerEnded):
            self._notices.pop(event.peer_id, None)
            return
        if isinstance(event, SpeakerChanged):  # to the room's members on every node
            await self.hub.outbox.send(room_channel(event.room), "speaker.changed", {
                "room_id": event.room, "participant": event.participant, "level": event.level})
            return
        if isinstance(event, ChannelChanged):
            if self.on_channels is not None:
                await self.on_channels(event.room)
            return
        if not isinstance(event, SourceAdded | SourceEnded) or event.relayed:
            return  # an edge's relayed tracks: the room's list is its origin's (issue 13 §3)
        if event.interpretation:
            return  # channels and booths are announced as ``channels.changed`` (issue 17)
        room = self.tracks.setdefault(event.room, {})
        if isinstance(event, SourceAdded):
            track = {"room_id": event.room, "participant": event.participant,
                     "source": event.source_id, "kind": event.kind, "codec": event.codec}
            room[event.source_id] = track
            name, payload = "track.published", track
        else:
            room.pop(event.source_id, None)
            name, payload = "track.unpublished", {
                "room_id": event.room, "participant": event.participant,
                "source": event.source_id, "kind": event.kind}
        if not room:
            self.tracks.pop(event.room, None)
        if self.on_track is not None:
            self.on_track(name.replace(".", "_"), event.room, {
                k: v for k, v in payload.items() if k != "room_id"})
        await self._end_moved(event.room)
        await self._record(event.room, list(room.values()))
        await self.hub.outbox.send(room_channel(event.room), name, payload)

    async def _tell_owner(self, event: QualityChanged | LayersWanted) -> None:
        """Send an adaptation report to the one session holding its peer (none: dropped)."""
        owner = self.owner_of(event.room, event.participant, event.peer_id)
        if owner is None:
            return
        if isinstance(event, QualityChanged):
            notice = ("media.quality", quality_payload(event))
        else:
            notice = ("publish.layers", layers_payload(event))
        self._notices[event.peer_id] = notice
        await self.hub.outbox.send(owner.sid, *notice)

    async def replay(self, session: Session) -> None:
        """A resumed session hears its peers' last adaptation notices again (on its new socket)."""
        for peer_id in list(session.peers):
            notice = self._notices.get(peer_id)
            if notice is not None:
                await self.hub.outbox.send(session.sid, *notice)

    def owner_of(self, room: str, identity: str, peer_id: str) -> Session | None:
        """The session of ``identity`` in ``room`` here that holds ``peer_id``, if any."""
        for session in self.hub.sessions_of(room, identity):
            if session.peers.get(peer_id) == room:
                return session
        return None

    async def _end_moved(self, room: str) -> None:
        """The room's media moved here from a node that died (issue 13, node loss): the tracks
        that node recorded ended, and members elsewhere still list them. Whoever drops the
        record first (this node here, or the dead node's sweeper, rooms/cluster/sweeper.py)
        announces them, once: ``drop_tracks`` is atomic."""
        if self._store is None:
            return
        try:
            recorded = await self._store.get_tracks(room)
            if recorded is None or recorded[0] == self._node_id:
                return
            ended = await self._store.drop_tracks(room, recorded[0])
        except RoomsError as exc:
            log.warning("tracks of room %s from another node not ended: %s", room, exc)
            return
        for track in ended:
            await self.hub.outbox.send(room_channel(room), "track.unpublished", unpublished(track))

    async def _record(self, room: str, tracks: list[dict[str, Any]]) -> None:
        """Keep the Store's copy of this room's tracks, so a join on another node lists them."""
        if self._store is None:
            return
        try:
            await self._store.put_tracks(room, self._node_id, tracks)
        except RoomsError as exc:  # a join elsewhere lists no tracks until the next change
            log.warning("tracks of room %s not recorded: %s", room, exc)
            return
        if tracks:
            self.recorded.add(room)
        else:
            self.recorded.discard(room)

    def room_tracks(self, room: str) -> list[dict[str, Any]]:
        return list(self.tracks.get(room, {}).values())

    async def close_peer(self, session: Session, peer_id: str) -> None:
        self._notices.pop(peer_id, None)
        room = session.peers.pop(peer_id, None)
        session.candidates.pop(peer_id, None)
        if room is not None and self._plane is not None:
            with contextlib.suppress(UnknownPeer):
                await self._plane.close(peer_id)

    def forget_closed(self, session: Session) -> None:
        """Drop the session's records of peers the plane no longer has."""
        if self._plane is not None:
            for peer_id in [p for p in session.peers if p not in self._plane.peers]:
                self._notices.pop(peer_id, None)
                session.peers.pop(peer_id, None)
                session.candidates.pop(peer_id, None)

    async def close_room_peers(self, session: Session, room: str) -> None:
        for peer_id in [p for p, r in session.peers.items() if r == room]:
            await self.close_peer(session, peer_id)

    async def close_publishers(self, session: Session, room: str) -> None:
        """End what ``session`` sends into ``room`` (demoted, muted): its tracks end."""
        for peer_id in [p for p, r in session.peers.items() if r == room]:
            if self._plane is not None and self._is_publisher(peer_id):
                await self.close_peer(session, peer_id)

    def _is_publisher(self, peer_id: str) -> bool:
        assert self._plane is not None
        peer = self._plane.peers.get(peer_id)
        return isinstance(peer, PublisherLeg)

    async def aclose(self) -> None:
        if self._task is not None:  # an announcement's store call may swallow one cancel
            await cancel_and_wait(self._task)
