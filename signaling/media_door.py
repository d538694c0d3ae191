"""``MediaDoor``: WHIP and WHEP sessions (RFC 9725; WHEP draft) as members of their room.

A tool that publishes (OBS over WHIP) or plays (a WHEP player, an edge node) enters the room like
a browser does: the one gate decides (:meth:`rooms.service.RoomService.join` with the door
``PUBLISH`` or ``SUBSCRIBE``, then ``check_publish``/``check_subscribe``), its identity becomes
present (listed, counted, kickable, kept alive by the node's heartbeat), and it holds the
room's media lease through that presence. So a locked room, a rehearsal, a waiting room, a ban
or an audience seat refuse WHIP and WHEP exactly as they refuse Socket.IO (issue 11, finding 2),
and a kick or a room's end closes the visit's peer (finding 11).

The HTTP side (web/media.py) only reads requests and translates :class:`rooms.errors.RoomsError`
and :class:`DoorBusy` into status codes. Caps: concurrent negotiations per node
(``media.max_negotiations``: 429 + Retry-After) and media peers per identity on this node
(``media.max_peers_per_identity``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config import LANGUAGES, log_context
from rooms.errors import RoomsError
from rooms.gate import Action
from rooms.token import AccessToken
from signaling import whip
from signaling.channel_offer import channel_source, check_audio_only, check_booths
from signaling.errors import SignalingError
from streaming import MediaEvent, PeerEnded, UnknownPeer
from streaming.local_publisher import LocalPublisher
from streaming.plane import Answer
from streaming.plane import MediaPlane as Plane

if TYPE_CHECKING:
    from signaling.hub import Hub

log = logging.getLogger(__name__)


class DoorBusy(SignalingError):
    """Too much at once (negotiations on this node, peers of one person): retry later."""

    def __init__(self, code: str, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(code, message, retry_after_s=retry_after_s)


@dataclass(frozen=True, eq=False)
class Visit:
    """One WHIP or WHEP session: whose, where, and its ICE session's ETag (RFC 9725 §4.3.1)."""

    kind: str  # "whip", "whep" or "rtmp" (issue 16 §8: no ICE, etag "-")
    room: str
    token: AccessToken
    peer_id: str
    etag: str
    remote_ufrag: str | None

    @property
    def identity(self) -> str:
        return self.token.identity


class MediaDoor:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.visits: dict[str, Visit] = {}  # peer id -> visit
        self._negotiating = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def negotiation(self) -> Iterator[None]:
        """A slot among the node's concurrent negotiations (WHIP, WHEP and Socket.IO alike)."""
        cap = self.hub.settings.media.max_negotiations
        if self._negotiating >= cap:
            raise DoorBusy("too_many_negotiations",
                           f"this node is negotiating {cap} sessions; retry shortly")
        self._negotiating += 1
        try:
            yield
        finally:
            self._negotiating -= 1

    def check_peers(self, identity: str) -> None:
        """Refuse a new media peer past ``media.max_peers_per_identity`` for one person here."""
        cap = self.hub.settings.media.max_peers_per_identity
        plane = self.hub.media.plane
        held = sum(1 for peer in plane.peers.values() if peer.participant == identity)
        held += sum(1 for local in plane.locals.values() if local.participant == identity)
        if held >= cap:
            raise DoorBusy("too_many_peers", f"at most {cap} media sessions per person",
                           retry_after_s=5.0)

    async def open(self, kind: str, room: str, token: AccessToken, offer: str,
                   participant: str | None = None, *,
                   media: bool = True, channel: str | None = None) -> tuple[Visit, Answer]:
        """:meth:`_open`, its log lines (and its peer's tasks) carrying the room and identity."""
        with log_context.bind(room=room, identity=token.identity):
            return await self._open(kind, room, token, offer, participant, media=media,
                                    channel=channel)

    async def _open(self, kind: str, room: str, token: AccessToken, offer: str,
                    participant: str | None = None, *,
                    media: bool = True, channel: str | None = None) -> tuple[Visit, Answer]:
        """Enter ``room`` through WHIP (``kind="whip"``) or WHEP and negotiate the offer.

        ``media=False`` enters without claiming the room's lease: a WHEP viewer served by an
        edge from its upstream (web/cascade.py), while the lease stays with the origin.
        ``channel`` (issue 17): WHIP ``?channel=``, an interpreter's audio into that channel
        (they enter with ``interpret``, not ``publish``); WHEP ``?language=``, the stage video,
        that channel's audio and the floor's as a second audio track.

        Raises ``RoomsError`` (the gate's refusal, ``WrongNode``), ``DoorBusy``, or the plane's
        ``MediaError``/``NegotiationError``; on any failure the presence it made is undone.
        """
        door = Action.PUBLISH if kind == "whip" else Action.SUBSCRIBE
        if kind == "whip" and channel is not None:
            door = Action.INTERPRET
        hub, plane = self.hub, self.hub.media.plane
        with self.negotiation():
            self.check_peers(token.identity)
            joined = await hub.service.join(token, room, media=media, door=door)
            marker = object()  # holds the presence while negotiating
            first = hub.attendance.add(room, token.identity, marker)
            try:
                if first:
                    await hub.announce([joined])
                answer = await self._negotiate(kind, room, token, offer, participant, channel)
            except BaseException:
                await self._release(room, token, marker)
                raise
        visit = Visit(kind, room, token, answer.peer_id, whip.etag(_ufrag(answer.sdp) or "-"),
                      _ufrag(offer))
        hub.attendance.add(room, token.identity, visit)
        hub.attendance.remove(room, token.identity, marker)
        self.visits[answer.peer_id] = visit
        if answer.peer_id not in plane.peers:  # it failed before it was registered here
            await self.ended(answer.peer_id)
        return visit, answer

    async def open_local(self, room: str, token: AccessToken) -> tuple[Visit, LocalPublisher]:
        """Enter ``room`` to publish from this node (the RTMP ingest, issue 16 §8): the same
        gate, presence, lease and caps as WHIP (:meth:`open`), and a
        :class:`~streaming.local_publisher.LocalPublisher` instead of a negotiated peer."""
        hub, plane = self.hub, self.hub.media.plane
        with self.negotiation():
            self.check_peers(token.identity)
            joined = await hub.service.join(token, room, media=True, door=Action.PUBLISH)
            marker = object()
            first = hub.attendance.add(room, token.identity, marker)
            try:
                if first:
                    await hub.announce([joined])
                await hub.service.check_publish(token, room)
                local = plane.publish_local(room, token.identity)
            except BaseException:
                await self._release(room, token, marker)
                raise
        visit = Visit("rtmp", room, token, local.peer_id, "-", None)
        hub.attendance.add(room, token.identity, visit)
        hub.attendance.remove(room, token.identity, marker)
        self.visits[local.peer_id] = visit
        return visit, local

    async def _negotiate(self, kind: str, room: str, token: AccessToken, offer: str,
                         participant: str | None, channel: str | None) -> Answer:
        service, plane = self.hub.service, self.hub.media.plane
        if kind == "whip" and channel is not None:
            await service.check_channel(token, room, channel)
            check_audio_only(offer)
            return await plane.publish(room, token.identity, offer, channel)
        if kind == "whip":
            await service.check_publish(token, room)
            return await plane.publish(room, token.identity, offer)
        await service.check_subscribe(token, room)
        chosen = None
        if channel is not None:
            chosen = listening(plane, room, channel)
        elif participant is not None:
            chosen = plane.sources_of(room, participant)
            if not chosen:
                raise SignalingError("no_such_track",
                                     f"{participant[:64]!r} publishes nothing in this room")
            await check_booths(self.hub, token, room, chosen)
        return await plane.subscribe_whep(room, token.identity, offer, chosen)

    def visit(self, kind: str, room: str, peer_id: str, token: AccessToken) -> Visit:
        """The caller's own visit, for PATCH and DELETE (``no_such_session`` otherwise)."""
        visit = self.visits.get(peer_id)
        if visit is None or visit.kind != kind or visit.room != room:
            raise SignalingError("no_such_session", "no such session")
        if visit.identity != token.identity:
            raise SignalingError("not_yours", "this session belongs to someone else")
        return visit

    async def close(self, visit: Visit) -> None:
        """End a visit (DELETE, kick, room end): its peer closes and :meth:`ended` follows."""
        try:
            await self.hub.media.plane.close(visit.peer_id)
        except UnknownPeer:  # the connection had already failed and was closed
            await self.ended(visit.peer_id)

    def on_event(self, event: MediaEvent) -> None:
        """The plane's listener: a visit's peer left (closed, failed): the visit ends."""
        if isinstance(event, PeerEnded) and event.peer_id in self.visits:
            task = asyncio.get_running_loop().create_task(self.ended(event.peer_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def ended(self, peer_id: str) -> None:
        visit = self.visits.pop(peer_id, None)
        if visit is not None:
            await self._release(visit.room, visit.token, visit)

    async def _release(self, room: str, token: AccessToken, holder: object) -> None:
        """Drop one holder; the person leaves the room when it was their last one here."""
        if not self.hub.attendance.remove(room, token.identity, holder):
            return
        try:
            await self.hub.leave_room(token, room)
        except RoomsError as exc:  # presence then expires with its TTL
            log.warning("visit of %s in %s left without presence update: %s",
                        token.identity, room, exc)

    async def evict(self, room: str, identity: str) -> None:
        """Close every visit of ``identity`` in ``room`` (kicked, denied, the room ended)."""
        for visit in self.hub.attendance.of(room, identity, Visit):
            self.hub.attendance.remove(room, identity, visit)
            self.visits.pop(visit.peer_id, None)
            with contextlib.suppress(UnknownPeer):
                await self.hub.media.plane.close(visit.peer_id)

    async def end_publishing(self, room: str, identity: str) -> None:
        """Close the WHIP visits of ``identity`` in ``room`` (muted, demoted)."""
        for visit in self.hub.attendance.of(room, identity, Visit):
            if visit.kind in ("whip", "rtmp"):
                await self.close(visit)

    async def aclose(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


def listening(plane: Plane, room: str, language: str) -> list[str]:
    """What a WHEP player of ``language`` gets (issue 17): the stage video, the channel's
    audio, then the floor's audio (a second audio m-line), each where it exists."""
    if language not in LANGUAGES:
        raise SignalingError("bad_language", f"unknown language {language[:16]!r}")
    floor = plane.live_sources(room)
    chosen = [floor["video"].source_id] if "video" in floor else []
    chosen.append(channel_source(language))  # none live: no_such_track (404)
    if "audio" in floor:
        chosen.append(floor["audio"].source_id)
    return chosen


def _ufrag(sdp: str) -> str | None:
    try:
        return whip.ice_ufrag(sdp)
    except ValueError:
        return None
