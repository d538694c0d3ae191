"""Real-time side of trade meetings: notices and the room's end, over the node's Socket.IO hub.

:class:`SocketNotifier` implements :class:`rooms.booking_service.Notifier`. A notice goes to two
Socket.IO channels on namespace ``/rtc``: ``user:<identity>`` (any page of that person, once the
hub puts sessions there, see docs/meetings-api.md) and, for a meeting, the person's own channel
in the meeting room ``who:<room>:<identity>`` (so people already in the waiting room or the
meeting hear the reminder and the "ending soon" warning). With the Redis manager the emit reaches
every node. The durable copy is the notification feed; a lost emit loses nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web

from rooms.events import RoomChanged
from rooms.meeting_record import Notice
from signaling import room_events
from signaling.wire import who_channel
from web.rtc import HUB_KEY, NAMESPACE, SIO_KEY

log = logging.getLogger(__name__)


def user_channel(identity: str) -> str:
    return f"user:{identity}"


class SocketNotifier:
    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def notice(self, notice: Notice) -> None:
        sio = self._app.get(SIO_KEY)
        if sio is None:  # a node built without Socket.IO: the feed alone carries notices
            return
        payload = notice.to_dict()
        channels = [user_channel(notice.identity)]
        if notice.room_id:
            channels.append(who_channel(notice.room_id, notice.identity))
        for channel in channels:
            await sio.emit(notice.kind, payload, to=channel, namespace=NAMESPACE)

    async def room_closed(self, event: RoomChanged) -> None:
        """Announce ``room.closed`` to the room (every node), then take this node's sessions
        out of it: their media ends and their presence goes, as when a moderator closes it."""
        hub = self._app.get(HUB_KEY)
        if hub is None:
            return
        await hub.announce([event])
        room = event.room.id
        for (member_room, _identity), session in list(hub.members.items()):
            if member_room == room:
                try:
                    await room_events.depart(hub, session, room)
                except Exception:  # one session's trouble must not keep the others in
                    log.exception("ending %s for a session failed", room)
