"""``Session``: one client connection's identity and its ONE ordered, bounded mailbox.

python-socketio runs every incoming event in its own task, so an SDP offer and the ICE
candidates that follow it could be handled out of order. A session therefore takes each event
synchronously at the door (:meth:`Session.submit`: name, rate, size, schema, mailbox room) and
one task per session handles the mailbox in arrival order. The door refuses with an error ack;
a flood (see :mod:`signaling.throttle`) calls ``on_flood`` once, and the adapter disconnects.

A session outlives its socket for the reconnect grace period: :meth:`detach` keeps its rooms and
media, :meth:`attach` gives it the new socket id, and only :meth:`aclose` ends it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from config import SignalingLimits, log_context
from rooms.lifecycle import cancel_and_wait
from rooms.token import AccessToken
from signaling.errors import Ack, SignalingError, error_ack, failure
from signaling.messages import CLIENT_EVENTS
from signaling.schema import Undecodable, decode, payload_size
from signaling.throttle import Throttle

log = logging.getLogger(__name__)
EVENT_TIMEOUT_S = 20.0
_serial = itertools.count(1)


class Dispatch(Protocol):
    """What handles a session's events in order (the :class:`signaling.hub.Hub`)."""

    async def __call__(self, session: Session, event: str, message: Any) -> Ack: ...


@dataclass(slots=True)
class _Item:
    event: str
    message: Any
    reply: asyncio.Future[Ack] = field(repr=False)


class Session:
    """One client: who it is, which rooms and media peers it holds, and its mailbox."""

    def __init__(
        self, sid: str, token: AccessToken, limits: SignalingLimits, dispatch: Dispatch, *,
        on_flood: Callable[[Session], Coroutine[Any, Any, None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = f"s{next(_serial)}-{secrets.token_urlsafe(12)}"  # the resume key
        self.sid = sid
        self.token = token
        self.limits = limits
        self.rooms: set[str] = set()
        self.peers: dict[str, str] = {}  # peer id -> room, media peers this session owns
        self.candidates: dict[str, int] = {}  # peer id -> trickled candidates so far
        self.detached_at: float | None = None
        self._dispatch = dispatch
        self._on_flood = on_flood
        self._clock = clock
        self._throttle = Throttle(limits.events_per_second, limits.event_burst, clock(),
                                  max_strikes=max(10, limits.event_burst))
        self._mailbox: asyncio.Queue[_Item] = asyncio.Queue(limits.mailbox_size)
        self._task: asyncio.Task[None] | None = None
        self._flood_reported = False
        self._flood_task: asyncio.Task[None] | None = None
        self.exited = asyncio.Event()

    @property
    def identity(self) -> str:
        return self.token.identity

    @property
    def log_id(self) -> str:
        """The id log lines name: the serial and a few characters, never the whole resume key."""
        serial, _, rest = self.id.partition("-")
        return f"{serial}-{rest[:4]}"

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"session-{self.id}")

    def submit(self, event: str, payload: object) -> Awaitable[Ack]:
        """Check an event at the door and queue it; the awaitable gives its acknowledgement.

        Synchronous up to the queueing, so events keep the order python-socketio started them in.
        """
        try:
            message = self._admit(event, payload)
        except SignalingError as exc:
            self._check_flood()
            return _done(error_ack(exc))
        reply: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        try:
            self._mailbox.put_nowait(_Item(event, message, reply))
        except asyncio.QueueFull:
            self._throttle.strike()
            self._check_flood()
            return _done(failure("mailbox_full", "too many events are waiting; slow down"))
        self._throttle.accepted()
        return reply

    def _admit(self, event: str, payload: object) -> Any:
        wait = self._throttle.admit(self._clock())
        if wait > 0:
            raise SignalingError("event_rate_limited", retry_after_s=round(wait, 3))
        if isinstance(payload, Undecodable):
            self._throttle.strike()
            raise SignalingError("bad_json", payload.reason)
        kind = CLIENT_EVENTS.get(event)
        if kind is None:
            raise SignalingError("unknown_event", f"no event named {event[:64]!r}")
        cap = self.limits.max_payload_bytes
        if payload_size(payload, cap) > cap:
            self._throttle.strike()
            raise SignalingError("payload_too_large", f"payload is larger than {cap} bytes")
        return decode(kind, payload)

    def _check_flood(self) -> None:
        if self._throttle.flooding and not self._flood_reported and self._on_flood is not None:
            self._flood_reported = True
            log.warning("session %s (%s) floods: disconnecting", self.log_id, self.identity)
            # Owned here, not cancelled by aclose(): the disconnect it causes is what closes us.
            self._flood_task = asyncio.get_running_loop().create_task(self._on_flood(self))

    async def _run(self) -> None:
        item: _Item | None = None
        try:
            while True:
                item = await self._mailbox.get()
                with log_context.bind(session=self.log_id, identity=self.identity,
                                      room=getattr(item.message, "room", None)):
                    ack = await self._handle(item)
                if not item.reply.done():
                    item.reply.set_result(ack)
        finally:
            if item is not None and not item.reply.done():
                item.reply.set_result(failure("session_closed", "the session has ended"))
            self._fail_pending()
            self.exited.set()

    async def _handle(self, item: _Item) -> Ack:
        try:
            async with asyncio.timeout(EVENT_TIMEOUT_S):
                return await self._dispatch(self, item.event, item.message)
        except TimeoutError:
            return failure("event_timeout", f"{item.event} took longer than {EVENT_TIMEOUT_S} s")
        except Exception as exc:
            if not isinstance(exc, SignalingError) and error_ack(exc)["error"]["code"] == (
                    "internal_error"):
                log.exception("event %s of session %s failed", item.event, self.log_id)
            return error_ack(exc)

    def _fail_pending(self) -> None:
        while not self._mailbox.empty():
            item = self._mailbox.get_nowait()
            if not item.reply.done():
                item.reply.set_result(failure("session_closed", "the session has ended"))

    def detach(self, now: float) -> None:
        """The socket is gone; keep rooms and media until :meth:`attach` or :meth:`aclose`."""
        self.detached_at = now

    def attach(self, sid: str) -> None:
        self.sid = sid
        self.detached_at = None

    async def aclose(self) -> None:
        """Stop the mailbox task; events still queued are answered ``session_closed``."""
        if self._task is not None:
            await cancel_and_wait(self._task)
        else:
            self._fail_pending()
            self.exited.set()


def _done(ack: Ack) -> Awaitable[Ack]:
    future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
    future.set_result(ack)
    return future
