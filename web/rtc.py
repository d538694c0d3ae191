"""The browser's real-time protocol: python-socketio on namespace ``/rtc`` (issue 5).

Owned by the signalling work; until it lands, no Socket.IO server is installed.
"""

from __future__ import annotations

from aiohttp import web

from config import Settings


def install(app: web.Application, settings: Settings) -> None:
    """Attach the Socket.IO server and its session lifecycle to ``app``."""
