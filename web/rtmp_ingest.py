"""The RTMP ingest's start-up (issue 16 §8): a cleanup context that listens on
``settings.host:settings.rtmp_port`` when the port is not 0, with the hub's
:class:`~signaling.rtmp_door.RtmpDoor` as its gate, and stops it (every connection ends, its
visit with it) before the hub and the plane close.

A port that cannot be bound is one clear error line, and the node serves on without RTMP:
HTTP, WebRTC and WHIP are not hostage to a venue feature (the line says how to turn it off).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web

from signaling.rtmp_door import RtmpDoor
from streaming.rtmp.server import RtmpServer
from web.keys import HUB_KEY, SETTINGS_KEY

log = logging.getLogger("pavilion")

RTMP_KEY = web.AppKey("rtmp_server", RtmpServer)


async def rtmp_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    if settings.rtmp_port == 0:
        yield
        return
    server = RtmpServer(RtmpDoor(app[HUB_KEY]), settings.host, settings.rtmp_port,
                        max_connections=settings.media.max_negotiations)
    try:
        await server.start()
    except OSError as exc:
        log.error("RTMP ingest off: cannot listen on %s:%d (%s); set rtmp_port (0 turns it off)",
                  settings.host, settings.rtmp_port,
                  os.strerror(exc.errno) if exc.errno else exc)
        yield
        return
    app[RTMP_KEY] = server
    log.info("RTMP ingest on rtmp://%s:%d/live", settings.host, server.port)
    yield
    await server.aclose()
