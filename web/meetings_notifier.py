"""Real-time side of trade meetings: notices and the room's end, over the node's Socket.IO hub.

:class:`SocketNotifier` implements :class:`rooms.trade.service.Notifier`. A notice goes to the
person's Socket.IO channel ``user:<identity>`` on namespace ``/rtc``: the hub puts every session
there on connect (docs/protocol.md), so any open page of that person hears it, including one in
the meeting's waiting room or the meeting itself (the reminder, the "ending soon" warning), and
hears it once (a second emit to the meeting's ``who:`` channel would deliver it twice). With the
Redis manager the emit reaches every node. The durable copy is the notification feed; a lost emit
loses nothing.
"""

from __future__ import annotations

from aiohttp import web

from rooms.events import RoomChanged
from rooms.trade.record import Notice
from signaling.wire import user_channel
from web.rtc import HUB_KEY, NAMESPACE, SIO_KEY


class SocketNotifier:
    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def notice(self, notice: Notice) -> None:
        sio = self._app.get(SIO_KEY)
        if sio is None:  # a node built without Socket.IO: the feed alone carries notices
            return
        await sio.emit(notice.kind, notice.to_dict(), to=user_channel(notice.identity),
                       namespace=NAMESPACE)

    async def room_closed(self, event: RoomChanged) -> None:
        """Announce ``room.closed`` to the room (every node), then take every session out of
        it (``Hub.close_room``): media ends and presence goes, as when a moderator closes it."""
        hub = self._app.get(HUB_KEY)
        if hub is None:
            return
        await hub.moderated([event])
