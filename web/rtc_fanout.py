"""python-socketio client managers whose local room emit costs no task per recipient.

python-socketio's ``AsyncManager.emit`` already encodes a room emit once, but then creates one
asyncio task per recipient and waits for all of them. Sending to an Engine.IO socket only puts
the packet on that socket's queue (its writer task does the I/O), so the tasks buy nothing; in a
1,000-viewer room they were a large part of each frame's cost (bench/chat_fanout.py). These
managers send sequentially instead; everything else (rooms, callbacks, the Redis pub/sub that
carries emits between nodes) is python-socketio's own.

A client that stops reading would otherwise make its Engine.IO queue grow without bound (the
queue is python-engineio's, unbounded). A recipient with ``max_backlog`` packets still queued is
skipped and disconnected instead; it reconnects, resumes its session and fetches the chat it
missed with ``join {after}`` (docs/protocol.md §6), so the slow client loses nothing and the
node's memory stays bounded.

``RedisFanout`` puts :class:`LocalFanout` between ``AsyncPubSubManager`` and ``AsyncManager`` in
the MRO, so the pub/sub manager's delivery of a message from another node (its ``super().emit``)
uses the fast path too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from rooms.lifecycle import cancel_and_wait
from web import rtc_frames

log = logging.getLogger(__name__)
# python-socketio internals RedisFanout reaches (checked when one is made; rtc_frames.py lists
# python-engineio's): its listener loop is replaced (its backoff, 1 s doubling to 60 s, kept
# cross-node presence away for ~53 s after a Redis outage), and its client is replaced through
# ``_redis_connect``, which sets ``redis``, ``pubsub`` and reads ``channel``.
HOOKS = ("socketio AsyncRedisManager._redis_listen_with_retries",
         "socketio AsyncRedisManager._redis_connect", "socketio AsyncRedisManager.pubsub",
         "socketio AsyncRedisManager.channel")
LISTEN_BACKOFF_S = (0.05, 1.0)  # first retry, cap: back within ~1 s of Redis
MAX_BACKLOG = 512  # packets in python-engineio's queue
MAX_BUFFER_BYTES = 1 << 20  # unread bytes after direct writes: ~15 s of a busy room


class LocalFanout(socketio.AsyncManager):  # type: ignore[misc]
    def __init__(self, *args: Any, max_backlog: int = MAX_BACKLOG,
                 max_buffer_bytes: int = MAX_BUFFER_BYTES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_backlog = max_backlog
        self.max_buffer_bytes = max_buffer_bytes
        self.lagging = 0  # recipients cut off for not reading
        self.direct = 0  # copies written straight to a websocket (web/rtc_frames.py)
        self._cutting: dict[str, asyncio.Task[None]] = {}

    async def emit(self, event: str, data: Any, namespace: str, room: str | None = None,
                   skip_sid: Any = None, callback: Any = None, to: str | None = None,
                   **kwargs: Any) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, **kwargs)
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace,
                                           data=[event, *args]).encode()
        texts = encoded if isinstance(encoded, list) else [encoded]
        frames = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in texts]
        wire_frame = rtc_frames.message_frame(encoded) if isinstance(encoded, str) else None
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        sockets = self.server.eio.sockets
        for sid, eio_sid in list(self.get_participants(namespace, room)):
            if sid in skip:
                continue
            socket = sockets.get(eio_sid)
            wire = rtc_frames.wire_of(socket)
            if wire_frame is not None and wire is not None and wire.ready(socket):
                self._write(sid, namespace, wire, wire_frame)
                continue
            if socket is not None and socket.queue.qsize() >= self.max_backlog:
                self._cut_off(sid, namespace)
                continue
            for frame in frames:
                await self.server._send_eio_packet(eio_sid, frame)

    def _write(self, sid: str, namespace: str, wire: rtc_frames.Wire, frame: bytes) -> None:
        """One copy straight to the client's transport; a client that does not read is cut."""
        if wire.backlog() > self.max_buffer_bytes:
            self._cut_off(sid, namespace)
            return
        wire.write(frame)
        self.direct += 1

    def _cut_off(self, sid: str, namespace: str) -> None:
        if sid in self._cutting:
            return
        self.lagging += 1
        log.warning("client %s does not read its socket: disconnecting it", sid)
        task = asyncio.get_running_loop().create_task(self.server.disconnect(sid, namespace))
        self._cutting[sid] = task
        task.add_done_callback(lambda _: self._cutting.pop(sid, None))


class RedisFanout(socketio.AsyncRedisManager, LocalFanout):  # type: ignore[misc]
    """``AsyncRedisManager`` whose local delivery is :class:`LocalFanout`'s, and which closes
    what it opens.

    python-socketio's manager never stops its listening task (``AsyncServer.shutdown`` only
    stops Engine.IO) nor closes its Redis client and pub/sub connection, and each reconnect
    (``_redis_connect``, after a publish or listen error) replaces the client without closing the
    old one: the connections were collected unclosed (``ResourceWarning``s the tests used to
    filter). Here a replaced client is closed in the background and :meth:`aclose` stops the
    task and closes the rest; web/rtc.py calls it after ``sio.shutdown()``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in ("_redis_listen_with_retries", "_redis_connect"):
            if not callable(getattr(socketio.AsyncRedisManager, name, None)):
                raise RuntimeError(f"python-socketio changed: cannot hook {name} ({HOOKS})")
        super().__init__(*args, **kwargs)
        self._retiring: set[asyncio.Task[None]] = set()
        self.listen_retries = 0  # reconnections of the pub/sub listener
        # called once the listener is subscribed again after a failure (web/rtc.py: the hub
        # re-sends presence, signaling/presence_sync.py)
        self.on_resubscribed: Callable[[], None] | None = None

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        """python-socketio's loop with a short backoff: 50 ms doubling to 1 s, not 1 s to 60 s.

        Pub/sub loses what is published while unsubscribed; chat does not depend on it
        (signaling/chat_tail.py), presence and the rest come back within ~1 s of Redis."""
        first, cap = LISTEN_BACKOFF_S
        retry_sleep, subscribed = first, False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed, retry_sleep = True, first
                    if self.listen_retries and self.on_resubscribed is not None:
                        self.on_resubscribed()  # what was published meanwhile is lost
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                log.warning("Socket.IO Redis listener: %s; retrying in %.2f s", exc, retry_sleep)
                subscribed = False
                self.listen_retries += 1
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, cap)

    def _redis_connect(self) -> None:
        old: Any = getattr(self, "redis", None)
        old_pubsub: Any = getattr(self, "pubsub", None)
        super()._redis_connect()
        if old is not None:
            task = asyncio.get_running_loop().create_task(_close_client(old, old_pubsub))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        """Stop listening and close every Redis connection this manager opened."""
        thread = getattr(self, "thread", None)
        if isinstance(thread, asyncio.Task):  # its reads may swallow one cancel (3.11)
            with contextlib.suppress(Exception):
                await cancel_and_wait(thread)
        await asyncio.gather(*self._retiring, return_exceptions=True)
        client: Any = getattr(self, "redis", None)
        if client is not None:
            await _close_client(client, getattr(self, "pubsub", None))
            self.redis = None
            self.connected = False


async def _close_client(client: Any, pubsub: Any) -> None:
    """Close a pub/sub connection and its client; a dead Redis must not stop a shutdown."""
    try:
        if pubsub is not None:
            await pubsub.aclose()
        await client.aclose()
        manager = getattr(client.connection_pool, "sentinel_manager", None)  # redis+sentinel://
        for sentinel in getattr(manager, "sentinels", ()):
            await sentinel.aclose()
    except Exception as exc:  # closing is best effort: say why, go on
        log.warning("closing a Socket.IO Redis connection failed: %s", exc)
