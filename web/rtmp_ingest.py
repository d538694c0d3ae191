"""The RTMP ingest's start-up (issue 16 §8): a cleanup context that listens on
``settings.host:settings.rtmp_port`` when the port is not 0, and, for RTMPS, on
``settings.rtmps_port`` behind TLS (the PEM chain ``rtmps_cert`` and key ``rtmps_key``), each
with the hub's :class:`~signaling.rtmp_door.RtmpDoor` as its gate, and stops them (every
connection ends, its visit with it) before the hub and the plane close.

A port that cannot be bound, or a certificate that cannot be loaded, is one clear error line,
and the node serves on without that listener: HTTP, WebRTC and WHIP are not hostage to a
venue feature (the line says how to turn it off).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncIterator

from aiohttp import web

from config.settings import Settings
from signaling.rtmp_door import RtmpDoor
from streaming.rtmp.server import RtmpServer
from web.keys import HUB_KEY, SETTINGS_KEY

log = logging.getLogger("pavilion")

RTMP_KEY = web.AppKey("rtmp_server", RtmpServer)
RTMPS_KEY = web.AppKey("rtmps_server", RtmpServer)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """The server side of RTMPS: the PEM chain and key, TLS 1.2 or later (the default
    context's floor); ``OSError`` or ``ssl.SSLError`` if they cannot be loaded."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def _listen(app: web.Application, port: int,
                  tls: ssl.SSLContext | None) -> RtmpServer | None:
    settings = app[SETTINGS_KEY]
    scheme, knob = ("rtmps", "rtmps_port") if tls is not None else ("rtmp", "rtmp_port")
    server = RtmpServer(RtmpDoor(app[HUB_KEY]), settings.host, port,
                        max_connections=settings.media.max_negotiations, tls=tls)
    try:
        await server.start()
    except OSError as exc:
        log.error("%s ingest off: cannot listen on %s:%d (%s); set %s (0 turns it off)",
                  scheme.upper(), settings.host, port,
                  os.strerror(exc.errno) if exc.errno else exc, knob)
        return None
    log.info("%s ingest on %s://%s:%d/live", scheme.upper(), scheme, settings.host, server.port)
    return server


async def _rtmps(app: web.Application, settings: Settings) -> RtmpServer | None:
    try:  # reading two files: off the event loop
        tls = await asyncio.to_thread(tls_context, settings.rtmps_cert, settings.rtmps_key)
    except (OSError, ssl.SSLError) as exc:
        log.error("RTMPS ingest off: cannot load rtmps_cert/rtmps_key (%s)", exc)
        return None
    return await _listen(app, settings.rtmps_port, tls)


async def rtmp_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    servers: list[RtmpServer] = []
    if settings.rtmp_port != 0 and (plain := await _listen(app, settings.rtmp_port, None)):
        app[RTMP_KEY] = plain
        servers.append(plain)
    if settings.rtmps_port != 0 and (secure := await _rtmps(app, settings)):
        app[RTMPS_KEY] = secure
        servers.append(secure)
    yield
    for server in servers:
        await server.aclose()
