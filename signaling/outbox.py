"""``Outbox``: how the hub reaches clients (python-socketio in web/rtc.py; every node via Redis).

Its own module, below :mod:`signaling.media_link` and :mod:`signaling.ports`, so that what
sends events out names this type without importing the hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Outbox(Protocol):
    """How the hub reaches clients (python-socketio in web/rtc.py; every node via Redis)."""

    async def send(self, to: str, event: str, payload: Mapping[str, Any]) -> None:
        """Emit to a channel or a single socket id."""
        ...

    async def send_here(self, to: str, event: str, payload: Mapping[str, Any]) -> None:
        """Emit to this node's members of a channel only (what every node sends its own)."""
        ...

    async def enter(self, sid: str, channel: str) -> None: ...

    async def exit(self, sid: str, channel: str) -> None: ...

    async def disconnect(self, sid: str) -> None: ...


class HasOutbox(Protocol):
    """Whatever holds the node's :class:`Outbox` (the hub), read at each send."""

    @property
    def outbox(self) -> Outbox: ...
