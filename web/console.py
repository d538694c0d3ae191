"""The organiser's console over Socket.IO: namespace ``/console`` (issue 18 §2, docs/protocol.md
§"Console").

Connect with ``auth: {"token": <organiser token>}`` (room ``*``, ``moderate``) or ``{"api_key":
<the admin API key>}``; the one gate (:func:`rooms.gate.decide_organiser_console`) decides,
and a refusal is ``connect_error`` with ``{code, message}``. A connected console gets a
``console.snapshot`` (the admin API's overview, one page of rooms) every
``SNAPSHOT_INTERVAL_S`` and after each of its actions, and may ask:

- ``console.page {offset}``: which page of rooms its snapshots carry;
- ``console.room {room}``: the room's participants and their connection quality;
- ``console.kick|console.mute|console.close``: as the admin API's routes, through the same
  services, gate and hub (the room's clients get the same events).

Every event is acknowledged ``{ok: true, ...}`` or ``{ok: false, error: {code, message}}``.
Each node pushes to its own consoles only (``ignore_queue``): every node reads the same
overview from the directory. One task per node, started with the first console, owned here
and cancelled on close; at most ``MAX_CONSOLES`` consoles per node. A room's change (live,
ended, a track published or unpublished) is pushed at once, coalesced, on every node
(web/console_pulse.py). While the store is unreachable a snapshot is ``{error: {code:
"store_unavailable", ...}}``: the console keeps its connection, says so, and the next snapshot
after Redis returns has the figures again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from aiohttp import web

from rooms import gate
from rooms.bus import BusMessage, Inbox
from rooms.errors import NotAllowed, RoomsError
from rooms.events import Event
from rooms.lifecycle import cancel_and_wait
from rooms.organiser import OrganiserDesk
from rooms.room import RoomState
from rooms.token import AccessToken, TokenError, verify
from signaling.errors import Ack, failure
from web.admin_api import ADMIN, admin_key
from web.cluster import REPORTER_KEY
from web.console_pulse import CHANGE_KINDS, CHANGED, CHANGES_TOPIC, PUSH_INTERVAL_S, Pulse
from web.keys import BACKEND_KEY, HUB_KEY, SETTINGS_KEY
from web.rtc import SIO_KEY

log = logging.getLogger(__name__)
NAMESPACE = "/console"
SNAPSHOT_INTERVAL_S = 2.0
MAX_CONSOLES = 50
EXPIRED = {"error": {"code": "token_expired", "message": "the organiser token has expired"}}
TOKEN_MAX = 4_096
Action = Callable[[AccessToken, dict[str, Any]], Awaitable[Ack]]


class Console:
    """The consoles connected to this node: who each is, which page it reads; the push loop."""

    def __init__(self, app: web.Application, sio: socketio.AsyncServer) -> None:
        self.app, self.sio = app, sio
        self.organisers: dict[str, AccessToken] = {}
        self.pages: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.here = Pulse(self._changed_here, PUSH_INTERVAL_S, "console-change-here")
        self.there = Pulse(self.push_all, PUSH_INTERVAL_S, "console-change-there")
        self._bus_task: asyncio.Task[None] | None = None

    # -- pushes on change (web/console_pulse.py) ----------------------------------------------
    async def listen(self) -> None:
        """Hear this node's room changes (its webhook producer) and the other nodes' (bus)."""
        backend = self.app[BACKEND_KEY]
        backend.service.hooks.watchers.append(self.heard)
        inbox = await backend.bus.subscribe(CHANGES_TOPIC, maxsize=16)
        self._bus_task = asyncio.create_task(self._from_bus(inbox), name="console-bus")

    def heard(self, name: str, room: str) -> None:
        if name in CHANGE_KINDS:
            self.here.touch()

    async def _from_bus(self, inbox: Inbox) -> None:
        try:
            while True:
                message: BusMessage = await inbox.get()
                if message.kind == CHANGED and self.organisers:
                    self.there.touch()
        finally:
            await inbox.aclose()

    async def _changed_here(self) -> None:
        """Report this node's rooms now (a new publisher is in the store at once), tell the
        other nodes, push to this node's consoles."""
        reporter = self.app.get(REPORTER_KEY)
        if reporter is not None:
            await reporter.report_now()
        try:
            await self.app[BACKEND_KEY].bus.publish(CHANGES_TOPIC, CHANGED, {})
        except RoomsError as exc:  # Redis away: the other nodes' ticks catch up
            log.info("console change not sent to other nodes: %s", exc)
        await self.push_all()

    def desk(self) -> OrganiserDesk:
        backend = self.app[BACKEND_KEY]
        return OrganiserDesk(backend.service, backend.cluster)

    def who(self, auth: Any) -> AccessToken:
        """The organiser ``auth`` proves, or NotAllowed/TokenError saying why not."""
        auth = auth if isinstance(auth, dict) else {}
        settings = self.app[SETTINGS_KEY]
        key, token = auth.get("api_key"), auth.get("token")
        if isinstance(key, str) and key:
            expected = admin_key(settings)
            if expected is None or not hmac.compare_digest(key.encode(), expected.encode()):
                raise NotAllowed("unauthorized", "wrong API key")
            return ADMIN
        if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
            raise NotAllowed("token_missing", "send an organiser token or the API key")
        access = verify(settings.secret_value(), token, leeway_s=settings.token_leeway_s)
        gate.decide_organiser_console(access)
        return access

    async def connect(self, sid: str, auth: Any) -> None:
        if len(self.organisers) >= MAX_CONSOLES:
            raise NotAllowed("too_many_consoles", "too many consoles on this node")
        self.organisers[sid] = self.who(auth)
        self.pages[sid] = 0
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._push_loop(), name="console-push")

    def lapsed(self, sid: str) -> bool:
        """Has this console's token expired since it connected (issue 18 §2)? A console stays
        open for hours: its token is checked at connect and again before each action and push,
        so a token that ran out acts no more and sees no more (the API key never expires)."""
        access = self.organisers.get(sid)
        leeway = self.app[SETTINGS_KEY].token_leeway_s
        return access is not None and time.time() > access.expires_at + leeway

    def disconnect(self, sid: str) -> None:
        self.organisers.pop(sid, None)
        self.pages.pop(sid, None)

    async def snapshot(self, sid: str) -> dict[str, Any]:
        settings = self.app[SETTINGS_KEY]
        return await self.desk().overview(self.organisers[sid], settings.cluster,
                                          offset=self.pages.get(sid, 0))

    async def push(self, sid: str) -> None:
        await self.sio.emit("console.snapshot", await self._data(sid), to=sid,
                            namespace=NAMESPACE, ignore_queue=True)

    async def _push_loop(self) -> None:
        while self.organisers:
            await self.push_all()
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)

    async def push_all(self) -> None:
        """Each page that a console reads is computed once and sent to the consoles that read
        it."""
        made: dict[int, dict[str, Any]] = {}
        for sid in list(self.organisers):
            if self.lapsed(sid):
                await self.sio.emit("console.snapshot", EXPIRED, to=sid, namespace=NAMESPACE,
                                    ignore_queue=True)
                await self.sio.disconnect(sid, namespace=NAMESPACE)
                self.disconnect(sid)
                continue
            offset = self.pages.get(sid, 0)
            if offset not in made:
                made[offset] = await self._data(sid)
            await self.sio.emit("console.snapshot", made[offset], to=sid,
                                namespace=NAMESPACE, ignore_queue=True)

    async def _data(self, sid: str) -> dict[str, Any]:
        try:
            return await self.snapshot(sid)
        except KeyError:
            return {"error": {"code": "not_connected", "message": "the console left"}}
        except RoomsError as exc:  # Redis away: say so, keep the console
            return {"error": {"code": exc.code, "message": str(exc)}}

    async def aclose(self) -> None:
        watchers = self.app[BACKEND_KEY].service.hooks.watchers
        if self.heard in watchers:
            watchers.remove(self.heard)
        for task in (self._task, self._bus_task):
            if task is not None:
                await cancel_and_wait(task)
        await self.here.aclose()
        await self.there.aclose()

    # -- events -------------------------------------------------------------------------------
    async def page(self, sid: str, data: dict[str, Any]) -> Ack:
        offset = data.get("offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 10**6:
            return failure("bad_field", "offset must be a whole number")
        self.pages[sid] = offset
        return {"ok": True, **await self.snapshot(sid)}

    async def room(self, sid: str, data: dict[str, Any]) -> Ack:
        room = _text(data, "room")
        settings = self.app[SETTINGS_KEY]
        detail = await self.desk().room_health(self.organisers[sid], room, settings.cluster)
        return {"ok": True, **detail}

    async def kick(self, sid: str, data: dict[str, Any]) -> Ack:
        service = self.app[BACKEND_KEY].service
        event = await service.kick(self.organisers[sid], _text(data, "room"),
                                   _text(data, "identity"))
        return await self._acted(sid, event)

    async def mute(self, sid: str, data: dict[str, Any]) -> Ack:
        muted = data.get("muted", True)
        if not isinstance(muted, bool):
            return failure("bad_field", "muted must be true or false")
        service = self.app[BACKEND_KEY].service
        event = await service.mute(self.organisers[sid], _text(data, "room"),
                                   _text(data, "identity"), muted)
        return await self._acted(sid, event)

    async def close(self, sid: str, data: dict[str, Any]) -> Ack:
        service = self.app[BACKEND_KEY].service
        event = await service.set_state(self.organisers[sid], _text(data, "room"),
                                        RoomState.ENDED)
        return await self._acted(sid, event)

    async def _acted(self, sid: str, event: Event) -> Ack:
        hub = self.app.get(HUB_KEY)
        if hub is not None:  # the same events, with the same effects, as the admin API's
            await hub.moderated([event])
        await self.push(sid)
        return {"ok": True, "event": event.to_dict()}


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(f"{name} is required")
    return value


CONSOLE_KEY: web.AppKey[Console] = web.AppKey("console", Console)


def install(app: web.Application) -> None:
    """Register the namespace (after ``web.rtc.install``, whose server it shares)."""
    app.cleanup_ctx.append(_console_ctx)


async def _console_ctx(app: web.Application) -> AsyncIterator[None]:
    console = Console(app, app[SIO_KEY])
    app[CONSOLE_KEY] = console
    _register(app[SIO_KEY], console)
    await console.listen()
    yield
    await console.aclose()


def _register(sio: socketio.AsyncServer, console: Console) -> None:
    actions: dict[str, Callable[[str, dict[str, Any]], Awaitable[Ack]]] = {
        "console.page": console.page, "console.room": console.room,
        "console.kick": console.kick, "console.mute": console.mute,
        "console.close": console.close,
    }

    async def connect(sid: str, environ: Any, auth: Any = None) -> bool:
        try:
            await console.connect(sid, auth)
        except (NotAllowed, TokenError) as exc:
            data = {"code": exc.code, "message": str(exc)}
            raise socketio.exceptions.ConnectionRefusedError(exc.code, data) from None
        await console.push(sid)
        return True

    async def disconnect(sid: str, reason: Any = None) -> None:
        console.disconnect(sid)

    async def event(name: str, sid: str, *args: Any) -> Ack:
        action = actions.get(name)
        if action is None:
            return failure("unknown_event", f"no event {name!r} on {NAMESPACE}")
        if sid not in console.organisers:
            return failure("not_connected", "connect first")
        if console.lapsed(sid):
            return failure("token_expired", "the organiser token has expired; reconnect")
        data = args[0] if len(args) == 1 and isinstance(args[0], dict) else None
        if data is None:
            return failure("bad_payload", "send one JSON object per event")
        try:
            return await action(sid, data)
        except ValueError as exc:
            return failure("bad_field", str(exc))
        except RoomsError as exc:
            return failure(exc.code, str(exc))

    sio.on("connect", connect, namespace=NAMESPACE)
    sio.on("disconnect", disconnect, namespace=NAMESPACE)
    sio.on("*", event, namespace=NAMESPACE)
