"""Each client's websocket, reachable so a room frame is written to it without a task per client.

python-engineio sends through a queue and one writer task per socket: every packet costs a queue
put, a task wake-up, a ``get`` and the websocket frame built anew for each recipient. For a
1,000-viewer room that was ~77 µs of server CPU per frame (bench/chat_fanout.py), and because a
frame's 1,000 copies left one after another, the last copy waited ~80 ms for the first: the
latency target of issue 5 (p99 < 100 ms) cannot be met that way.

Here the frame is built once (RFC 6455 §5.2: FIN + text opcode, unmasked from a server, no
compression; RFC 7692 §6 lets an endpoint send uncompressed messages even where
permessage-deflate was negotiated) and written to each recipient's TCP transport directly.
That is safe only when nothing python-engineio holds for the client can be overtaken: its
writer task pops a packet from the queue a loop iteration before it writes it, so an empty
queue is not enough. :meth:`Wire.ready` compares the packets ever put in the queue
(:class:`CountingQueue`) with those its writer finished writing, and asks for no write in
flight; otherwise the caller uses the queue as before (tests/signaling/test_wire.py interleaves
both paths and checks the order). A client that stops reading shows as bytes piling up in its
transport (:meth:`Wire.backlog`), which the caller bounds.

:func:`install` swaps python-engineio's aiohttp websocket wrapper (the ``_async['websocket']``
entry of its server, a private hook named in :data:`HOOKS`) for :class:`WireSocket`, which
records itself on the Engine.IO socket as ``pavilion_wire``, and makes the server's
``create_queue`` (which python-engineio calls for each socket's queue) return a
:class:`CountingQueue`. Pavilion serves websocket only, so every packet of the queue is
written by the writer task through :meth:`WireSocket.send`.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from engineio.async_drivers.aiohttp import WebSocket

HOOKS = ("engineio AsyncServer._async['websocket']", "engineio AsyncServer.create_queue",
         "engineio AsyncSocket._websocket_handler")
TEXT_FIN = 0x81  # FIN bit + opcode 0x1 (text), RFC 6455 §5.2


def text_frame(payload: bytes) -> bytes:
    """One unmasked, uncompressed websocket text frame carrying ``payload`` (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        header = bytes((TEXT_FIN, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", TEXT_FIN, 127, size)
    return header + payload


def message_frame(socketio_text: str) -> bytes:
    """The websocket frame of an Engine.IO v4 MESSAGE packet (``"4"`` + the Socket.IO text)."""
    return text_frame(b"4" + socketio_text.encode())


class CountingQueue(asyncio.Queue[Any]):
    """python-engineio's per-socket queue, counting every packet ever put in it."""

    puts = 0

    def put_nowait(self, item: Any) -> None:  # Queue.put ends here too
        super().put_nowait(item)
        self.puts += 1


class Wire:
    """What the fan-out needs of one client's websocket: its transport and whether it is idle."""

    transport: Any = None
    busy = 0  # python-engineio's own writes in flight (awaiting the transport to drain)
    written = 0  # python-engineio's own writes finished
    ended = False

    @property
    def closed(self) -> bool:
        """No more data frames: the connection ended (or, below, its close handshake began)."""
        return self.ended

    def ready(self, socket: Any) -> bool:
        """True when a frame written now cannot overtake anything queued for this client."""
        transport = self.transport
        return (not self.closed and self.busy == 0 and transport is not None
                and not transport.is_closing()
                and getattr(socket.queue, "puts", -1) == self.written)

    def backlog(self) -> int:
        """Bytes written to this client that the kernel has not taken yet."""
        return int(self.transport.get_write_buffer_size()) if self.transport else 0

    def write(self, frame: bytes) -> None:
        self.transport.write(frame)


class WireSocket(WebSocket, Wire):  # type: ignore[misc]
    """python-engineio's aiohttp websocket wrapper, recorded on its Engine.IO socket."""

    async def __call__(self, environ: dict[str, Any]) -> Any:
        self.transport = environ["aiohttp.request"].transport
        owner = getattr(self.handler, "__self__", None)  # the Engine.IO socket being upgraded
        if owner is not None:
            owner.pavilion_wire = self
        try:
            return await super().__call__(environ)
        finally:
            self.ended = True

    @property
    def closed(self) -> bool:
        """Also before the handshake and once a close frame went out (RFC 6455 §5.5.1: no data
        frame may follow it)."""
        sock = self._sock
        return self.ended or sock is None or not sock.prepared or sock.closed

    async def send(self, message: Any) -> None:
        self.busy += 1
        try:
            await super().send(message)
        finally:
            self.busy -= 1
            self.written += 1


def install(engineio_server: Any) -> None:
    """Make every websocket of ``engineio_server`` a :class:`WireSocket`."""
    drivers = getattr(engineio_server, "_async", None)
    if not isinstance(drivers, dict) or drivers.get("websocket") is not WebSocket:
        raise RuntimeError(f"python-engineio changed: cannot hook {HOOKS[0]}")
    if not callable(getattr(engineio_server, "create_queue", None)):
        raise RuntimeError(f"python-engineio changed: cannot hook {HOOKS[1]}")
    engineio_server._async = {**drivers, "websocket": WireSocket}
    engineio_server.create_queue = CountingQueue


def wire_of(socket: Any) -> Wire | None:
    """The :class:`Wire` of an Engine.IO socket, if it is a websocket opened after install."""
    wire = getattr(socket, "pavilion_wire", None)
    return wire if isinstance(wire, Wire) else None
