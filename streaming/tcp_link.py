"""One ICE-TCP connection to the node's TCP port: framed reads, bounded framed writes.

The I/O half of streaming/tcp_mux.py (which decides what a frame is and whose it is). Read
with ``loop.add_reader`` like the UDP mux; every message goes out as an RFC 4571 frame
(streaming/tcp_framing.py). Nothing here ever waits: what the kernel does not take at once
waits in the link's write buffer, which has two bounds — media stops at ``media_limit``
(RTP is the first thing to go when a path is slow) and anything else (STUN, DTLS, RTCP) at
``control_limit``; over its bound a frame is dropped and counted.

**Media to a viewer** comes from the viewer's Egress, which sends datagrams on a socket (the
hot path is built around ``send`` on a non-blocking socket: streaming/egress.py). For a TCP
pair :meth:`TcpLink.media_socket` gives it one end of a ``SOCK_SEQPACKET`` socket pair (message
boundaries kept); the link reads the other end and writes each message framed. While the write
buffer is over ``media_limit`` the link stops reading that pair: the pair's kernel buffer fills,
the Egress's ``send`` raises ``BlockingIOError``, and the Egress's own bounded queue and drop
rule take over, exactly as for a full UDP socket. Never batched: one ``send`` per packet.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from aioice.ice import StunProtocol

from streaming.tcp_framing import MAX_FRAME, FrameReader, frame

Address = tuple[str, int]
RECV_SIZE = 65_536  # bytes read per wake-up: other connections' work runs in between
PUMP_BURST = 64  # media messages moved from the Egress's socket pair per wake-up
PAIR_BUFFER = 256 * 1024  # the Egress's socket pair: what it may hold before it blocks


class TcpLink:
    """One accepted TCP connection: reads frames, writes frames, closes once.

    ``on_frame(link, message)`` is called for each message received; ``on_close(link)`` once,
    whoever closed. ``owner`` and ``protocol`` are set by the mux when the first message names
    an ICE agent; ``validated`` when that agent answered a check on it with success.
    """

    def __init__(self, sock: socket.socket, peer: Address, bound: str, first_frame: int,
                 limits: tuple[int, int], on_frame: Callable[[TcpLink, bytes], None],
                 on_close: Callable[[TcpLink], None]) -> None:
        self.sock = sock
        self.peer = peer
        self.bound = bound  # the listener's address: which of the agent's candidates
        self.owner: Any = None  # the MuxPort (ICE agent) the first message named
        self.protocol: StunProtocol | None = None  # that agent's candidate on this listener
        self.validated = False
        self.closed = False
        self.oversize = False  # closed because a frame announced more than allowed
        self.dropped = 0  # frames dropped at a full write buffer
        self.received = 0  # bytes read
        self.requests: dict[bytes, None] = {}  # STUN requests written (RFC 6544 §7.1)
        self.media_limit, self.control_limit = limits
        self._reader = FrameReader(first_frame)
        self._out = bytearray()
        self._writing = False
        self._pair: socket.socket | None = None  # our end of the Egress's socket pair
        self._theirs: socket.socket | None = None  # the Egress's end (it gets duplicates)
        self._pumping = False
        self._on_frame = on_frame
        self._on_close = on_close
        self._loop = asyncio.get_running_loop()
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._readable)

    def allow_frames(self, size: int = MAX_FRAME) -> None:
        """Accept messages up to ``size`` from now on (after ICE validated the connection)."""
        self._reader.max_frame = size

    @property
    def buffered(self) -> int:
        return len(self._out)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.close()  # the peer closed its side
            return
        self.received += len(data)
        try:
            frames = self._reader.feed(data)
        except ValueError:
            self.close(oversize=True)
            return
        for message in frames:
            if self.closed:
                return
            self._on_frame(self, message)

    def write(self, data: bytes | memoryview, media: bool = False) -> bool:
        """Queue one framed message; False (dropped, counted) when over its buffer bound."""
        if self.closed or len(data) > MAX_FRAME:
            return False
        limit = self.media_limit if media else self.control_limit
        if len(self._out) + len(data) + 2 > limit:
            self.dropped += 1
            return False
        self._out += frame(data)
        if not self._writing:
            self._flush()
        return True

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close()
            return
        del self._out[:sent]
        if self._out and not self._writing:
            self._loop.add_writer(self.sock.fileno(), self._flush)
            self._writing = True
        elif not self._out and self._writing:
            self._loop.remove_writer(self.sock.fileno())
            self._writing = False
        if self._pair is not None and not self._pumping and len(self._out) < self.media_limit:
            self._resume_pump()

    def media_socket(self) -> socket.socket:
        """A socket whose every datagram leaves framed on this connection (the Egress's; the
        caller owns and closes it: a duplicate of one end of the link's socket pair)."""
        if self.closed:
            raise ConnectionError("the ICE-TCP connection is closed")
        theirs = self._theirs
        if theirs is None:
            self._pair, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            for end in (self._pair, theirs):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PAIR_BUFFER)
                end.setblocking(False)
            self._theirs = theirs
            self._resume_pump()
        dup = socket.socket(fileno=socket.dup(theirs.fileno()))
        dup.setblocking(False)
        return dup

    def _resume_pump(self) -> None:
        if self._pair is not None and not self._pumping:
            self._loop.add_reader(self._pair.fileno(), self._pump)
            self._pumping = True

    def _pump(self) -> None:
        pair = self._pair
        if pair is None:
            return
        for _ in range(PUMP_BURST):
            if len(self._out) >= self.media_limit:
                self._loop.remove_reader(pair.fileno())  # the Egress's sends block from here
                self._pumping = False
                return
            try:
                message = pair.recv(MAX_FRAME)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self.write(message, media=True)

    def close(self, oversize: bool = False) -> None:
        """Stop reading and writing and close the connection (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.oversize = oversize
        self._loop.remove_reader(self.sock.fileno())
        if self._writing:
            self._loop.remove_writer(self.sock.fileno())
        self.sock.close()
        if self._pair is not None:
            if self._pumping:
                self._loop.remove_reader(self._pair.fileno())
            self._pair.close()
            if self._theirs is not None:
                self._theirs.close()  # the Egress's duplicate stays open until it closes it
            self._pair = self._theirs = None
        self._out.clear()
        self._on_close(self)
