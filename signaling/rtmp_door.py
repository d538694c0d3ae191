"""RtmpDoor: the RTMP ingest's door (issue 16 §8), the :class:`streaming.rtmp.server.RtmpGate`.

The stream key is an access token: verified (signature, expiry) like a WHIP bearer token, and
its room is the room published into. Then the one gate decides through
:meth:`signaling.media_door.MediaDoor.open_local` (grant, schedule, lock, ban, stage, lease,
caps), exactly as for WHIP; a refusal becomes onStatus ``NetStream.Publish.BadName`` (a key
that is no valid token: bad signature, expired, malformed) or ``NetStream.Publish.Rejected``
(a valid token the room refuses now, or a node that cannot take it), with a short reason. A
bad, expired or forged token never reaches the plane. In demo mode a token carrying
``create`` opens its own broadcast on first publish, as WHIP does.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from rooms.errors import RoomsError, WrongNode
from rooms.token import TokenError, verify
from signaling.errors import SignalingError
from streaming import UnknownPeer
from streaming.local_publisher import LocalPublisher
from streaming.rtmp import RtmpRefused
from streaming.rtmp.session import BAD_NAME, REJECTED

if TYPE_CHECKING:
    from signaling.hub import Hub

log = logging.getLogger(__name__)


class RtmpDoor:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, key: str) -> LocalPublisher:
        settings = self.hub.settings
        try:
            access = verify(settings.secret_value(), key, leeway_s=settings.token_leeway_s)
        except TokenError as exc:
            raise RtmpRefused(BAD_NAME, f"the stream key is no valid token ({exc.code})") from None
        room = access.room
        try:
            if settings.demo:
                await self.hub.service.open_demo_broadcast(access, room)
            _, local = await self.hub.door.open_local(room, access)
        except WrongNode as exc:
            raise RtmpRefused(REJECTED, f"room {room} is served by {exc.node_url}") from None
        except (RoomsError, SignalingError) as exc:
            raise RtmpRefused(REJECTED, f"{exc.code}: {exc.message}") from None
        return local

    async def unpublish(self, publisher: LocalPublisher) -> None:
        visit = self.hub.door.visits.get(publisher.peer_id)
        if visit is not None:
            await self.hub.door.close(visit)
        else:  # evicted meanwhile: the plane may still hold it
            with contextlib.suppress(UnknownPeer):
                await self.hub.media.plane.close(publisher.peer_id)
