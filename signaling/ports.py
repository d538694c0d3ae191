"""What the event handlers need from the hub: the :class:`HubPort` protocol and ``Handler``.

The handlers (:mod:`signaling.room_events`, :mod:`signaling.media_events`) and
:mod:`signaling.snapshot` depend on this protocol, not on :class:`signaling.hub.Hub`; the hub
imports the handler tables and implements it. So the imports point one way:
``hub`` -> handlers -> ``ports`` -> ``media_link`` -> ``outbox``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from config import Settings, SignalingLimits
from rooms.events import Event
from rooms.service import RoomService
from rooms.store import Store
from rooms.token import AccessToken
from signaling.attendance import Attendance
from signaling.errors import Ack
from signaling.hls_link import HlsLink
from signaling.media_door import MediaDoor
from signaling.media_link import MediaLink
from signaling.outbox import Outbox
from signaling.recording_link import RecordingLink
from signaling.session import Session


class EdgePort(Protocol):
    """This node as an edge (web/cascade.py): serve a room whose media is elsewhere from one
    upstream pulled from its origin, instead of sending the client there."""

    async def serves(self, room_id: str) -> bool: ...

    async def place(self, room_id: str, identity: str) -> str | None:
        """``None``: serve the ordinary way; the origin's URL: serve here as its edge;
        ``WrongNode``: placement by load chose another node (rooms/cluster/audience.py)."""
        ...

    async def ensure(self, room: str, participant: str | None, origin: str,
                     language: str | None = None) -> None:
        """An upstream of ``room`` from ``origin``: ``participant``'s tracks, the latest, or
        (``language``, issue 17) that interpretation channel."""
        ...


class HubPort(Protocol):
    """The node's sessions, domain and media, as a handler sees them (:class:`Hub` is one)."""

    @property
    def service(self) -> RoomService: ...

    @property
    def store(self) -> Store: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def limits(self) -> SignalingLimits: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def media(self) -> MediaLink: ...

    @property
    def attendance(self) -> Attendance:
        """(room, identity) -> its sessions and WHIP/WHEP visits on this node."""
        ...

    @property
    def door(self) -> MediaDoor: ...

    @property
    def recordings(self) -> RecordingLink:
        """Recording control and the timeline (issue 15)."""
        ...

    @property
    def hls(self) -> HlsLink:
        """Live HLS of the rooms whose media is here (issue 16)."""
        ...

    @property
    def edge(self) -> EdgePort | None:
        """Set when ``[cluster] cascade`` is on (web/app.py)."""
        ...

    @property
    def room_size(self) -> dict[str, int]:
        """room -> members on every node (refreshed)."""
        ...

    def add_member(self, room: str, session: Session) -> None: ...

    def drop_member(self, room: str, session: Session) -> bool: ...

    async def follow_chat(self, room: str) -> None: ...

    def unfollow_chat(self, room: str) -> None: ...

    def sessions_of(self, room: str, identity: str) -> list[Session]: ...

    async def leave_room(self, token: AccessToken, room: str) -> None: ...

    async def announce(self, events: Iterable[Event]) -> None: ...

    async def close_room(self, room_id: str) -> None: ...


Handler = Callable[[HubPort, Session, Any], Awaitable[Ack]]
