"""The browser's real-time protocol: python-socketio on namespace ``/rtc`` (issue 5).

This module only adapts python-socketio to :class:`signaling.hub.Hub`: the connect handler
verifies the token in ``auth`` (refusing with ``{code, message}``), every other event goes to the
session's ordered mailbox and its acknowledgement is the handler's return value, and the hub
emits through :class:`SocketOutbox`. With ``redis_url`` set, python-socketio's
``AsyncRedisManager`` carries emits and channel membership across nodes (web/rtc_fanout.py only
makes its local room emit cheaper). The server and the hub
are opened and closed in one ``cleanup_ctx`` (after the rooms backend and the media plane).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import socketio
from aiohttp import web

from config import Settings
from signaling.errors import Ack, SignalingError, error_ack, failure
from signaling.hub import Hub, refusal
from web import rtc_frames, rtc_json
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.keys import HUB_KEY as HUB_KEY  # re-exported: handlers import it from here
from web.media import MEDIA_KEY
from web.rtc_fanout import LocalFanout, RedisFanout

log = logging.getLogger(__name__)
NAMESPACE = "/rtc"
SIO_KEY: web.AppKey[socketio.AsyncServer] = web.AppKey("socketio", socketio.AsyncServer)


class SocketOutbox:
    """The hub's :class:`signaling.hub.Outbox` over one ``socketio.AsyncServer``."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def send(self, to: str, event: str, payload: Mapping[str, Any]) -> None:
        await self.sio.emit(event, dict(payload), to=to, namespace=NAMESPACE)

    async def send_here(self, to: str, event: str, payload: Mapping[str, Any]) -> None:
        await self.sio.emit(event, dict(payload), to=to, namespace=NAMESPACE, ignore_queue=True)

    async def enter(self, sid: str, channel: str) -> None:
        await self.sio.enter_room(sid, channel, namespace=NAMESPACE)

    async def exit(self, sid: str, channel: str) -> None:
        await self.sio.leave_room(sid, channel, namespace=NAMESPACE)

    async def disconnect(self, sid: str) -> None:
        await self.sio.disconnect(sid, namespace=NAMESPACE)


def install(app: web.Application, settings: Settings) -> None:
    """Attach the Socket.IO server and its session lifecycle to ``app``."""
    manager: socketio.AsyncManager = LocalFanout()
    if settings.redis_url:
        manager = RedisFanout(settings.redis_url, channel="pavilion-rtc")
    sio = socketio.AsyncServer(
        async_mode="aiohttp", client_manager=manager, transports=["websocket"],
        cors_allowed_origins=[settings.base_url], logger=False, engineio_logger=False,
        # Past this the transport drops the connection; below it, the session refuses an
        # oversized event with an error ack (payload_too_large) and the client lives on.
        max_http_buffer_size=max(1 << 20, 4 * settings.signaling.max_payload_bytes),
        # Malformed or too-deep JSON becomes an acknowledged bad_json, not a traceback.
        serializer=rtc_json.RtcPacket,
    )
    rtc_frames.install(sio.eio)
    sio.attach(app)
    app[SIO_KEY] = sio
    app.cleanup_ctx.append(_hub_ctx)


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    sio, settings = app[SIO_KEY], app[SETTINGS_KEY]
    backend = app[BACKEND_KEY]
    hub = Hub(backend.service, backend.bus, SocketOutbox(sio), settings, app[MEDIA_KEY])
    app[HUB_KEY] = hub
    _register(sio, hub)
    if isinstance(sio.manager, RedisFanout):
        sio.manager.on_resubscribed = hub.presence_missed
    backend.keeper.on_rejoined = hub.announce  # back from a stall it was swept in (issue 13)
    await hub.start()
    yield
    backend.keeper.on_rejoined = None
    await hub.aclose()
    await sio.shutdown()
    if isinstance(sio.manager, RedisFanout):  # python-socketio leaves its Redis open
        await sio.manager.aclose()


def _register(sio: socketio.AsyncServer, hub: Hub) -> None:
    async def connect(sid: str, environ: Any, auth: Any = None) -> bool:
        try:
            await hub.connect(sid, auth)
        except Exception as exc:
            data = refusal(exc)
            if data["code"] == "internal_error":
                log.exception("connect of %s failed", sid)
            raise socketio.exceptions.ConnectionRefusedError(data["code"], data) from None
        return True

    async def disconnect(sid: str, reason: Any = None) -> None:
        await hub.disconnected(sid)

    async def event(name: str, sid: str, *args: Any) -> Ack:
        if len(args) > 1:
            return failure("bad_payload", "send one JSON object per event")
        try:
            return await hub.submit(sid, name, args[0] if args else None)
        except SignalingError as exc:
            return error_ack(exc)

    sio.on("connect", connect, namespace=NAMESPACE)
    sio.on("disconnect", disconnect, namespace=NAMESPACE)
    sio.on("*", event, namespace=NAMESPACE)
