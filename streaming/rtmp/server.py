"""RtmpServer: the asyncio side of the RTMP ingest (issue 16 §8): sockets ↔ sessions.

Each connection runs one :class:`~streaming.rtmp.session.RtmpSession` and, once the door
(:class:`RtmpGate`, implemented by signaling/rtmp_door.py) let its publish in, one
:class:`~streaming.rtmp.ingest.RtmpIngest` into the :class:`LocalPublisher` the door opened.
Limits, so a client cannot make the node hold much: at most ``max_connections`` at once (one
more is closed at once), the handshake through ``publish`` must finish within
``setup_timeout_s`` (slowloris), a publishing connection silent for ``idle_timeout_s`` is
closed, reads are 64 KiB at a time and the chunk reader bounds messages (4 MiB). Any protocol
fault closes only its own connection, with one log line.

RTMPS (issue 16 §8) is the same server given an :class:`ssl.SSLContext`: asyncio runs the TLS
handshake before the connection is handed over, bounded by ``setup_timeout_s`` as well
(``ssl_handshake_timeout``), and a failed handshake never reaches a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from typing import Protocol

from streaming.local_publisher import LocalPublisher
from streaming.rtmp.errors import RtmpError, RtmpRefused
from streaming.rtmp.flv import Unsupported
from streaming.rtmp.ingest import RtmpIngest
from streaming.rtmp.session import REJECTED, Media, Publish, RtmpSession, Unpublish

log = logging.getLogger(__name__)

READ_SIZE = 65_536
SEND_TIMEOUT_S = 10.0


class RtmpGate(Protocol):
    """The door: may this stream key publish, and into which room (signaling/rtmp_door.py)."""

    async def publish(self, key: str) -> LocalPublisher:
        """The local publisher to feed; raises :class:`RtmpRefused` with the onStatus code."""
        ...

    async def unpublish(self, publisher: LocalPublisher) -> None:
        """The encoder stopped or the connection dropped: end the visit."""
        ...


class RtmpServer:
    def __init__(self, gate: RtmpGate, host: str, port: int, *, max_connections: int = 32,
                 setup_timeout_s: float = 10.0, idle_timeout_s: float = 30.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.gate = gate
        self.tls = tls  # RTMPS: the server side of TLS, else plain RTMP
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.setup_timeout_s = setup_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.refused_connections = 0
        self._server: asyncio.Server | None = None
        # each connection's task and its socket's writer: a task cancelled before its first
        # step never runs its ``finally``, so aclose closes the writers itself
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self) -> None:
        """Listen; ``OSError`` if the port cannot be bound. ``port`` 0 picks a free one."""
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=READ_SIZE, ssl=self.tls,
            ssl_handshake_timeout=self.setup_timeout_s if self.tls is not None else None)
        self.port = self._server.sockets[0].getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self.max_connections:
            self.refused_connections += 1
            writer.close()
            return
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(lambda done: self._connections.pop(done, None))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(self, reader, writer)
        peer = writer.get_extra_info("peername")
        try:
            await connection.run()
        except RtmpRefused as exc:
            log.info("RTMP publish from %s refused: %s", peer, exc.reason)
        except (RtmpError, TimeoutError, ConnectionError) as exc:
            log.info("RTMP connection from %s closed: %s", peer, exc or type(exc).__name__)
        except Exception:
            log.exception("RTMP connection from %s failed", peer)
        finally:
            await connection.finish()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        connections = dict(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        for writer in connections.values():
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)


class _Connection:
    """One encoder's connection: read, feed the session, act on its events."""

    def __init__(self, server: RtmpServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.session = RtmpSession(int(time.monotonic() * 1000))
        self.publisher: LocalPublisher | None = None
        self.ingest: RtmpIngest | None = None
        self._kicked = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.server.setup_timeout_s
        while self.session.state != "ended":
            if self.publisher is None:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    raise TimeoutError("no publish within the setup time")
            else:
                timeout = self.server.idle_timeout_s
            data = await self._read(timeout)
            if not data:
                return
            out, events = self.session.feed(data)
            await self._send(out)
            for event in events:
                await self._event(event)

    async def _read(self, wait_s: float) -> bytes:
        reading = asyncio.ensure_future(self.reader.read(READ_SIZE))
        kicked = asyncio.ensure_future(self._kicked.wait())
        done, _ = await asyncio.wait({reading, kicked}, timeout=wait_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        kicked.cancel()
        if reading not in done:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
            if self._kicked.is_set():
                await self._send(self.session.stop("the room closed this stream"))
                return b""
            raise TimeoutError("the encoder went silent")
        return reading.result()

    async def _event(self, event: Publish | Media | Unpublish) -> None:
        if isinstance(event, Publish):
            await self._publish(event.key)
        elif isinstance(event, Media) and self.ingest is not None:
            try:
                self.ingest.media(event.kind, event.timestamp, event.body)
            except Unsupported as exc:
                await self._send(self.session.refuse(REJECTED, str(exc)))
                raise
        elif isinstance(event, Unpublish):
            self.session.state = "ended"

    async def _publish(self, key: str) -> None:
        try:
            publisher = await asyncio.wait_for(self.server.gate.publish(key),
                                               self.server.setup_timeout_s)
        except RtmpRefused as exc:
            await self._send(self.session.refuse(exc.code, exc.reason))
            raise
        self.publisher = publisher
        publisher.on_close(self._kicked.set)
        self.ingest = RtmpIngest(publisher)
        await self._send(self.session.start())
        log.info("RTMP publish into %s by %s (peer %s)", publisher.room, publisher.participant,
                 publisher.peer_id)

    async def _send(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), SEND_TIMEOUT_S)

    async def finish(self) -> None:
        """Whatever ended the connection: the transcoder stops, the visit ends, the socket
        closes; never raises."""
        if self.ingest is not None:
            with contextlib.suppress(Exception):
                await self.ingest.aclose()
        if self.publisher is not None and not self.publisher.closed.is_set():
            try:
                await self.server.gate.unpublish(self.publisher)
            except Exception:
                log.exception("RTMP visit %s did not end cleanly", self.publisher.peer_id)
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
