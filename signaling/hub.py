"""``Hub``: the node's Socket.IO side, socket-free: sessions, dispatch, and the events out.

The web adapter (web/rtc.py) turns python-socketio callbacks into :meth:`Hub.connect`,
:meth:`Hub.submit` and :meth:`Hub.disconnected`, and gives the hub an :class:`Outbox` (emit to a
channel, enter/leave a channel, disconnect). Every domain decision is a call on
:class:`rooms.service.RoomService`; every media operation a call on the media plane
(:class:`streaming.plane.MediaPlane`), so there is one media path for WHIP and Socket.IO alike.

Every session enters its person's ``user:<identity>`` channel on connect, so notices meant for a
person (trade meetings, web/meetings_notifier.py) reach each of its open pages on any node.

A session whose socket drops is *detached*, not ended: for ``reconnect_grace_s`` it keeps its
rooms, presence and media, and a client that reconnects with its session id resumes it; others
see no leave/join. Only when the grace ends does the session leave its rooms.

While the node drains (issue 13; web/drain.py) every session is told ``node.draining`` with
the node to move to (at once, and on connect or resume), and a socket that drops ends its
session at once: its client is moving to another node, and the rooms' leases should follow.

Every session enters its node's ``node:<id>`` channel too: when the other live nodes this node
sees change (:meth:`Hub.see_nodes`, every look at the directory), one emit there tells all of
them ``nodes``, so a page's failover list follows the directory, not the moment it connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from config import Settings, log_context
from rooms.bus import EVERY_NODE, Bus, BusMessage, node_topic
from rooms.content import ChatMessage, stream_id_key
from rooms.errors import RoomsError
from rooms.events import ChatPosted, Event, Reacted, RoomChanged
from rooms.lifecycle import cancel_and_wait
from rooms.service import RoomService
from rooms.token import AccessToken, Grant, TokenError, verify
from signaling import (
    interpretation,
    media_events,
    media_return,
    presence_sync,
    record_events,
    room_events,
    turn,
)
from signaling.attendance import Attendance
from signaling.batch import Batcher, Frame
from signaling.channel_pulse import ListenerPulse
from signaling.chat_tail import ChatTail
from signaling.errors import Ack, SignalingError
from signaling.hls_link import HlsLink
from signaling.media_door import MediaDoor
from signaling.media_link import MediaLink, Plane
from signaling.outbox import Outbox
from signaling.ports import EdgePort, Handler
from signaling.recording_link import RecordingLink
from signaling.session import Session
from signaling.wire import deliveries, node_channel, room_channel, user_channel

log = logging.getLogger(__name__)
HANDLERS: dict[str, Handler] = {**room_events.HANDLERS, **media_events.HANDLERS,
                                **record_events.HANDLERS, **interpretation.HANDLERS}
UNREAD_KEPT = 1_000  # per room: far more than a node writes in one tail round trip
ROOM_SIZE_REFRESH_S = 2.0  # how stale a room's all-node member count (batch interval) may be


@dataclass(frozen=True, slots=True)
class DrainNotice:
    """``node.draining``: go to ``node_url`` (null when no node is left) before the deadline."""

    node_id: str | None
    node_url: str | None
    deadline: float  # time.monotonic()

    def payload(self) -> dict[str, Any]:
        left = max(0.0, self.deadline - time.monotonic())
        return {"node_id": self.node_id, "node_url": self.node_url,
                "deadline_s": round(left, 1)}


class Hub:
    def __init__(self, service: RoomService, bus: Bus, outbox: Outbox, settings: Settings,
                 plane: Plane | None = None) -> None:
        self.service = service
        self.store = service.store
        self.bus = bus
        self.outbox = outbox
        self.settings = settings
        self.limits = settings.signaling
        self.sessions: dict[str, Session] = {}  # socket id -> session
        self.by_id: dict[str, Session] = {}  # session id -> session (resume)
        self.attendance = Attendance()  # (room, identity) -> its sessions and media visits here
        self.room_size: dict[str, int] = {}  # room -> members on every node (refreshed)
        self.batcher = Batcher(self._emit_frame, audience=self._room_audience)
        # With many nodes, chat reaches this node's members from the Store's stream (exactly
        # once, through outages), in frames of its own that never cross nodes.
        self.chat_tail: ChatTail | None = None
        self.chat_batcher: Batcher | None = None
        if settings.redis_url:
            self.chat_batcher = Batcher(self._emit_frame_here, audience=self._room_audience)
            self.chat_tail = ChatTail(self.store, self._chat_from_stream,
                                      here=settings.node_id)
            # a lost read: Redis may come back without what it acknowledged (issue 13 §6)
            self.chat_tail.on_trouble = service.journal.doubt
        # Messages this node wrote to a stream that its tail has not delivered yet: handed out
        # ahead of a journaled message if Redis goes meanwhile (each sender's order, issue 13).
        self._unread: dict[str, deque[ChatMessage]] = {}
        self.media = MediaLink(self, plane, self.store, settings.node_id)
        self.media.on_channels = self._plane_channels_changed
        self.listener_pulse = ListenerPulse(  # issue 17: listener counts, coalesced per room
            self._plane_channels_changed, interval_s=self.limits.listeners_push_s,
            max_rooms=self.limits.listeners_push_rooms)
        self.media.on_listeners = self.listener_pulse.touch
        self.media.on_track = self._track_hook
        self.door = MediaDoor(self)
        self.recordings = RecordingLink(service, bus, outbox, settings, plane)
        self.hls = HlsLink(service, settings, plane)  # issue 16: live HLS of broadcasts, forums
        self.edge: EdgePort | None = None  # this node as an edge (cascade), set by web/app.py
        self._expiries: dict[str, asyncio.Task[None]] = {}
        self.draining: DrainNotice | None = None
        # The other live nodes ``[{"id", "url"}]``, as the composition root last saw them in
        # the node directory (:meth:`see_nodes`): the ``session`` and ``nodes`` events list
        # them, so a page whose node dies knows where to go (issue 13, node loss).
        self.nodes: list[dict[str, str]] = []
        self._bus_task: asyncio.Task[None] | None = None
        self._sizes_task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[int] | None = None

    def _track_hook(self, name: str, room: str, data: dict[str, Any]) -> None:
        """``track_published`` / ``track_unpublished`` webhooks (issue 18 §1), from the node
        whose plane holds the track."""
        self.service.hooks.emit(name, data, room=room)

    def presence_missed(self) -> None:
        """The cross-node listener subscribed again after an outage (web/rtc_fanout.py): what
        other nodes published meanwhile is gone, so this node's members get each room's
        presence again (signaling/presence_sync.py); one re-send at a time."""
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.create_task(
                presence_sync.resync(self, list(self.attendance.people)), name="presence-sync")

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self.batcher.start()
        if self.chat_tail is not None and self.chat_batcher is not None:
            self.chat_batcher.start()
            self.chat_tail.start()
        self.media.start()
        if self.media.has_plane:
            self.media.plane.listen(self.door.on_event)
        self.recordings.start()
        self.hls.start()
        subscription = await self.bus.subscribe(node_topic(self.settings.node_id), EVERY_NODE)
        self._bus_task = asyncio.create_task(self._listen(subscription), name="hub-bus")
        self._sizes_task = asyncio.create_task(self._refresh_sizes(), name="hub-room-sizes")

    async def aclose(self) -> None:
        for session in list(self.by_id.values()):
            await self.end(session)
        for task in (self._bus_task, self._sizes_task, self._resync_task):
            if task is not None:
                await cancel_and_wait(task)
        await self.listener_pulse.aclose()
        await self.door.aclose()
        await self.recordings.aclose()
        await self.hls.aclose()
        await self.media.aclose()
        await self.batcher.aclose()
        if self.chat_tail is not None and self.chat_batcher is not None:
            await self.chat_tail.aclose()
            await self.chat_batcher.aclose()

    # -- sessions -----------------------------------------------------------------------------
    async def connect(self, sid: str, auth: object) -> Session:
        """Verify the token in ``auth``; resume the session it names or start a new one."""
        token_text, resume = _auth_fields(auth)
        token = verify(self.settings.secret_value(), token_text,
                       leeway_s=self.settings.token_leeway_s)
        old = self.by_id.get(resume) if resume else None
        if old is not None and old.identity == token.identity:
            # hold its expiry while the Store decides: ending it meanwhile (the grace ran out
            # during the checks) left a resumed session without rooms or mailbox, deaf to its
            # room (the meeting page never heard "closed": a reload right at the grace's end)
            expiry = self._expiries.pop(old.id, None)
            if expiry is not None:
                expiry.cancel()
            if await self._still_allowed(old, token) and self.by_id.get(old.id) is old:
                return await self._resume(old, sid, token)
            if expiry is not None and self.by_id.get(old.id) is old:
                await self.end(old)  # refused: it ends now, as its expiry would have
        session = Session(sid, token, self.limits, self.dispatch, on_flood=self._flooded)
        self.sessions[sid] = session
        self.by_id[session.id] = session
        with log_context.bind(node=self.settings.node_id):  # the mailbox task keeps it
            session.start()
        await self.outbox.enter(sid, user_channel(token.identity))  # notices to any page
        await self.outbox.enter(sid, node_channel(self.settings.node_id))  # ``nodes``
        await self.outbox.send(sid, "session", {"session": session.id, "resumed": False,
                                                "identity": token.identity,
                                                "ice_servers": self._ice_servers(token),
                                                "nodes": self.nodes})
        await self._tell_draining(sid)
        return session

    async def _still_allowed(self, session: Session, token: AccessToken) -> bool:
        """A resume swaps in the new token: it must still admit the session to each of its rooms
        (its room, grants, bans, the rooms' state). If not, the client gets a fresh session
        without rooms (issue 11, finding 1: a meeting host token resumed into a broadcast)."""
        if token.room != session.token.room or token.grants - session.token.grants:
            return False
        for room in session.rooms:
            try:
                await self.service.admit_entry(token, room)
            except RoomsError:
                return False
        return True

    def _ice_servers(self, token: AccessToken) -> list[dict[str, Any]]:
        """What the browser puts in its RTCPeerConnection configuration (``iceServers``): the
        configured servers and a TURN credential of its own, fresh on every connect and resume
        (signaling/turn.py)."""
        servers = turn.ice_servers(self.settings.ice_servers, self.settings.turn, token.identity,
                                   now=time.time())
        return [server.model_dump(exclude_none=True) for server in servers]

    async def _resume(self, session: Session, sid: str, token: Any) -> Session:
        """Give the session its new socket. If the old socket still looks alive (the client
        noticed the drop before the server did), the new one takes over and the old is closed."""
        task = self._expiries.pop(session.id, None)
        if task is not None:
            task.cancel()
        if session.detached_at is None and self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
            await self.outbox.disconnect(session.sid)
        session.token = token  # a fresh token may extend the expiry
        session.attach(sid)
        self.sessions[sid] = session
        await self.outbox.enter(sid, user_channel(token.identity))
        await self.outbox.enter(sid, node_channel(self.settings.node_id))
        for room in session.rooms:
            for channel in room_events.channels_of(self, session, room):
                await self.outbox.enter(sid, channel)
        await self.outbox.send(sid, "session", {"session": session.id, "resumed": True,
                                                "identity": token.identity,
                                                "ice_servers": self._ice_servers(token),
                                                "rooms": sorted(session.rooms),
                                                "peers": sorted(session.peers),
                                                "nodes": self.nodes})
        await self.media.replay(session)  # adaptation notices sent while it was away
        await self._tell_draining(sid)
        return session

    async def see_nodes(self, nodes: list[dict[str, str]]) -> None:
        """The other live nodes (not draining) as of the directory's latest look. When they
        differ from what the sessions here last got, every one of them gets ``nodes``: one
        emit to this node's channel (encoded once, queued per socket, no Redis round trip),
        however many sessions the node holds. Unchanged: nothing is sent."""
        if nodes == self.nodes:
            return
        self.nodes = nodes
        await self.outbox.send_here(node_channel(self.settings.node_id), "nodes",
                                    {"nodes": nodes})

    async def see_media_nodes(self, live: Iterable[str]) -> None:
        """Each look at the directory: the joins that found their room's media node dead hear
        its tracks if it is ``live`` again, and this node's own tracks are recorded and announced
        again if a sweep dropped them while it stalled (signaling/media_return.py)."""
        alive = [*live, self.settings.node_id]  # looking, this node is alive: it may have stalled
        await media_return.tell_waiting(self.media.waits, alive, time.monotonic(), self.store,
                                        self.outbox, self.by_id)
        if self.media.has_plane:
            await media_return.restore(self.media, self.store, self.settings.node_id,
                                       self.outbox)

    async def drain(self, notice: DrainNotice) -> None:
        """This node is leaving: tell every session (and every later one) where to go."""
        self.draining = notice
        for sid in list(self.sessions):
            await self._tell_draining(sid)

    async def _tell_draining(self, sid: str) -> None:
        if self.draining is not None:
            await self.outbox.send(sid, "node.draining", self.draining.payload())

    def submit(self, sid: str, event: str, payload: object) -> Awaitable[Ack]:
        session = self.sessions.get(sid)
        if session is None:
            raise SignalingError("session_closed")
        return session.submit(event, payload)

    async def dispatch(self, session: Session, event: str, message: Any) -> Ack:
        """Run one event's handler; a token that expired since connecting stops everything."""
        if session.token.expires_at + self.settings.token_leeway_s < time.time():
            raise TokenError("token_expired", "the access token has expired; reconnect")
        return await HANDLERS[event](self, session, message)

    async def disconnected(self, sid: str) -> None:
        """The socket closed: keep the session for the grace period (rooms, presence, media)."""
        session = self.sessions.pop(sid, None)
        if session is None or session.sid != sid:
            return
        grace = self.limits.reconnect_grace_s
        if grace <= 0 or not session.rooms or self.draining is not None:
            await self.end(session)
            return
        session.detach(time.monotonic())
        self._expiries[session.id] = asyncio.create_task(self._expire(session, grace))

    async def _expire(self, session: Session, grace: float) -> None:
        await asyncio.sleep(grace)
        self._expiries.pop(session.id, None)
        await self.end(session)

    async def end(self, session: Session) -> None:
        """Leave every room (others see ``participant.left``), close media, stop the mailbox."""
        task = self._expiries.pop(session.id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.by_id.pop(session.id, None)
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
        for room in list(session.rooms):
            try:
                await room_events.depart(self, session, room)
            except Exception:  # the other rooms are still left; what failed is said
                log.exception("session %s could not leave %s cleanly", session.log_id, room)
        await session.aclose()

    async def _flooded(self, session: Session) -> None:
        sid = session.sid
        await self.end(session)
        await self.outbox.disconnect(sid)

    @property
    def audience(self) -> Counter[str]:
        """room -> people in it on this node."""
        return self.attendance.people

    def add_member(self, room: str, session: Session) -> None:
        self.attendance.add(room, session.identity, session)

    def drop_member(self, room: str, session: Session) -> bool:
        """Forget the session in ``room``; true when its identity has nobody left there here."""
        last = self.attendance.remove(room, session.identity, session)
        if room not in self.attendance.people:
            self.batcher.forget(room)
            if self.chat_tail is not None and self.chat_batcher is not None:
                self.chat_tail.forget(room)
                self.chat_batcher.forget(room)
            self._unread.pop(room, None)
        return last

    async def follow_chat(self, room: str) -> None:
        """Before a member's first join here: this node follows the room's chat stream."""
        if self.chat_tail is not None:
            await self.chat_tail.follow(room)

    def unfollow_chat(self, room: str) -> None:
        """A join failed: stop following unless someone here is in the room."""
        if self.chat_tail is not None and room not in self.attendance.people:
            self.chat_tail.forget(room)

    def _chat_from_stream(self, message: ChatMessage) -> None:
        unread = self._unread.get(message.room_id)
        while unread and stream_id_key(unread[0].cursor) <= stream_id_key(message.cursor):
            unread.popleft()
        self._chat_here(message)

    def _chat_here(self, message: ChatMessage) -> None:
        if self.chat_batcher is not None and message.room_id in self.attendance.people:
            self.chat_batcher.add(message.room_id, "chat.message",
                                  ChatPosted(message).to_dict())

    def _chat_posted(self, tail: ChatTail, message: ChatMessage) -> None:
        """A message posted here, with many nodes. Written to the stream: the tail delivers it
        (remember it until then). Kept in the journal (Redis unreachable, issue 13 §6): deliver
        it to this node's members now, after this node's own messages the tail had not read
        when Redis went (so no sender's order breaks here); the tail skips them all later."""
        room = message.room_id
        if not message.waiting:
            if tail.unread(message):  # the tail may have delivered it before this ran
                self._unread.setdefault(room, deque(maxlen=UNREAD_KEPT)).append(message)
            return
        for early in self._unread.pop(room, ()):
            if tail.unread(early):
                tail.delivered_early(early)
                self._chat_here(early)
        self._chat_here(message)

    def sessions_of(self, room: str, identity: str) -> list[Session]:
        return self.attendance.of(room, identity, Session)

    async def leave_room(self, token: AccessToken, room: str) -> None:
        """The identity's last holder here left ``room``: presence goes, the room is told
        (leaving never ends a room, a meeting's host's neither: ``RoomService.leave``)."""
        await room_events.enforce(self, list(await self.service.leave(token, room)))
        if token.allows(Grant.INTERPRET):  # issue 17: the booth changed
            await self._channels_changed(room)

    async def _plane_channels_changed(self, room: str) -> None:
        """This plane's channels of ``room`` changed: recorded for the other nodes' joins,
        then announced (issue 17); a Store outage skips both (logged)."""
        try:
            await interpretation.record(self, room)
        except RoomsError as exc:
            log.warning("channels of %s not recorded: %s", room, exc)
        await self._channels_changed(room)

    async def _channels_changed(self, room: str) -> None:
        """``channels.changed`` to the room (issue 17); a Store outage skips it (logged)."""
        try:
            await interpretation.announce(self, room)
        except RoomsError as exc:
            log.warning("channels of %s not announced: %s", room, exc)

    # -- events out ---------------------------------------------------------------------------
    def _room_audience(self, room: str) -> int:
        """Who receives a frame this node makes for ``room``: its members on every node (a
        sender on a node with few members must not tick as fast as a meeting's frames when the
        room's 1,000 viewers are on another node: that node sends every frame to all of them)."""
        return max(self.audience[room], self.room_size.get(room, 0))

    async def count_rooms(self) -> None:
        """Refresh :attr:`room_size` of the rooms with members here (one count per room)."""
        for room in list(self.audience):
            try:
                self.room_size[room] = await self.store.count_present(room)
            except RoomsError:  # the store is down: keep the last count
                continue
        for room in set(self.room_size) - set(self.audience):
            del self.room_size[room]
        if self.chat_tail is not None:  # a WHIP/WHEP visit's room is left without drop_member
            self.chat_tail.prune(self.audience)

    async def _refresh_sizes(self) -> None:
        while True:
            await asyncio.sleep(ROOM_SIZE_REFRESH_S)
            try:
                await self.count_rooms()
                await self.lapse_invitations()
            except Exception:  # a bad count must not stop the refresh
                log.exception("counting room members or sweeping invitations failed")

    async def lapse_invitations(self) -> None:
        """Tell staff and the person of each stage invitation that lapsed on this node
        (``stage.invitation_lapsed``), cleared from the Store; swept with the room sizes, so
        the moderator's "Invited" mark goes within :data:`ROOM_SIZE_REFRESH_S`."""
        try:
            await self.announce(await self.service.lapse_invitations())
        except RoomsError:  # the store is down: the next sweep tries again
            log.warning("stage invitations not swept: state store unavailable")

    async def announce(self, events: Iterable[Event]) -> None:
        """Send what the domain reported: batched (chat, presence) or at once."""
        for event in events:
            self.service.hooks.report([event])  # issue 18 §1: webhooks, where it happened
            if isinstance(event, Reacted):
                self.batcher.react(event.room_id, event.reaction, event.total)
                continue
            if isinstance(event, ChatPosted):
                self.recordings.timeline.chat(event.message)  # issue 15 §5: the replay's chat
            if isinstance(event, RoomChanged) and event.change == "live":
                await self._auto_record(event.room.id)
                await self._start_hls(event.room.id)
            if isinstance(event, ChatPosted) and self.chat_tail is not None:
                self._chat_posted(self.chat_tail, event.message)  # each node: from the stream
                continue
            for delivery in deliveries(event):
                if delivery.batched:
                    room = delivery.channel.partition(":")[2]
                    self.batcher.add(room, delivery.event, delivery.payload)
                else:
                    await self.outbox.send(delivery.channel, delivery.event, delivery.payload)

    async def _start_hls(self, room_id: str) -> None:
        """A room went live: HLS if its kind has it and its video is published here already."""
        try:
            await self.hls.begin(room_id)
        except Exception:  # going live must not fail for want of HLS
            log.exception("room %s: HLS not started", room_id)

    async def _auto_record(self, room_id: str) -> None:
        """A room went live: recorded if its kind is in ``recordings.auto`` (issue 15 §3)."""
        if self.settings.recordings.auto:
            try:
                await self.recordings.auto(room_id)
            except Exception:  # going live must not fail for want of a recording
                log.exception("room %s: automatic recording not started", room_id)

    async def moderated(self, events: Iterable[Event]) -> None:
        """Announce moderation decided outside a session (the admin API) and apply it here:
        the same events and effects as a moderator's in-band action (``room_events.enforce``)."""
        await room_events.enforce(self, list(events))

    async def close_room(self, room_id: str) -> None:
        """The room ended (``room.closed`` is announced separately): every session in it, on
        this node and on every other node with members there (told over the Bus), leaves it,
        its media ends and its presence goes."""
        try:
            present = await self.store.list_participants(room_id)
        except RoomsError:  # the store is down: this node's sessions still leave
            log.warning("room %s closed without its roster: other nodes are not told", room_id)
            present = []
        await room_events.close_here(self, room_id)
        nodes = {p.node_id for p in present} - {"", self.settings.node_id}
        for node in sorted(nodes):
            await self.bus.publish(node_topic(node), "close", {"room_id": room_id})

    async def _emit_frame(self, room: str, frame: Frame) -> None:
        await self.outbox.send(room_channel(room), "batch", frame)

    async def _emit_frame_here(self, room: str, frame: Frame) -> None:
        await self.outbox.send_here(room_channel(room), "batch", frame)

    async def _listen(self, subscription: Any) -> None:
        """Orders from other nodes about sessions and visits held here (kick, deny, mute,
        close; RoomService sends identity orders to every node: a person may be here too)."""
        try:
            while True:
                message: BusMessage = await subscription.get()
                with contextlib.suppress(Exception):
                    await room_events.order_from_bus(self, message)
        finally:
            await subscription.aclose()


def _auth_fields(auth: object) -> tuple[str, str | None]:
    if isinstance(auth, str):
        return auth, None
    if not isinstance(auth, Mapping) or not isinstance(auth.get("token"), str):
        raise TokenError("token_missing", "connect with {token: <access token>} as auth")
    resume = auth.get("session")
    return auth["token"], resume if isinstance(resume, str) else None


def refusal(exc: BaseException) -> dict[str, str]:
    """The connect refusal's data: ``{code, message}`` (never a traceback)."""
    if isinstance(exc, TokenError | SignalingError):
        return {"code": exc.code, "message": str(exc)}
    return {"code": "internal_error", "message": "the server could not accept the connection"}
