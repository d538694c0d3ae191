"""Protect-and-send for one viewer connection: in-place SRTP, ``sendto``, a bounded queue.

This is the bottom of the forwarding hot path (DESIGN.md §3): the packet is written once into
a libsrtp working buffer, its header fields set there, protected in place, and sent on a
duplicate of the nominated pair's socket, so no ``bytes`` object is made per viewer per packet.

When the kernel will not take a datagram (``BlockingIOError``: the viewer's path is full), the
protected packet goes to a bounded queue drained when the socket is writable again. A full
queue drops the packet and reports it, and the caller makes the viewer skip to the next
keyframe; nothing here ever waits, so one viewer can never slow the publisher or the others.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections import deque
from collections.abc import Callable
from struct import pack_into
from typing import TYPE_CHECKING, Any

from streaming import aiortc_hooks
from streaming.send_backend import SendBackend
from streaming.send_batch import SendBatch, Share, join, leave

if TYPE_CHECKING:
    from streaming.srtp_protection import RtpProtection

SRTP_BUFFER = 1500 + 16 + 148  # MTU + max SRTP trailer + slack (libsrtp SRTP_MAX_TRAILER_LEN)
MAX_PADDING = 255  # RFC 3550 §5.1: the last padding octet counts the padding, itself included
ZEROS = bytes(MAX_PADDING)
ABS_SEND_TIME_UNITS = 1 << 18  # abs-send-time is 6.18 fixed-point seconds, 24 bits


def _connected_send(sock: socket.socket) -> Callable[[memoryview | bytes, Any], int]:
    def send(data: memoryview | bytes, _addr: Any) -> int:
        return sock.send(data)

    return send


def write_padding_header(
    buf: memoryview | bytearray,
    seq: int,
    ts: int,
    ssrc: int,
    payload_type: int,
    ext_id: int,
    now: float,
) -> int:
    """Write a padding-only packet's RTP header (P bit set) into ``buf``; returns its length.

    With ``ext_id`` 1-14 the header has one one-byte extension element (RFC 8285 §4.2):
    abs-send-time, ``now`` as 24-bit 6.18 fixed-point seconds; 0 (or 15, reserved) writes none.
    """
    if not 1 <= ext_id <= 14:
        pack_into("!BBHII", buf, 0, 0xA0, payload_type & 0x7F, seq, ts, ssrc)
        return 12
    stamp = int(now * ABS_SEND_TIME_UNITS) & 0xFFFFFF
    pack_into(
        "!BBHIIHHI", buf, 0, 0xB0, payload_type & 0x7F, seq, ts, ssrc,
        0xBEDE, 1, (ext_id << 28) | (2 << 24) | stamp,
    )
    return 20


class Egress:
    """Sends protected RTP and RTCP to one viewer; owns its duplicate socket.

    ``send_rtp`` returns False only when the packet was dropped because the queue is full (or
    libsrtp refused it): the caller decides what a drop means for its track (video waits for a
    keyframe). A network error is counted in ``errors`` and is not a drop.
    """

    __slots__ = (
        "_addr",
        "_backend",
        "_batch",
        "_bytes",
        "_cdata",
        "_dest",
        "_errors",
        "_key",
        "_length",
        "_loop",
        "_owner",
        "_packets",
        "_protect",
        "_queue",
        "_queue_limit",
        "_round",
        "_rtp_ctx",
        "_rtp_owner",
        "_sendto",
        "_session",
        "_share",
        "_sock",
        "_view",
        "_writer_added",
        "closed",
        "dropped_packets",
        "port",
        "rtp_backend",
    )

    def __init__(
        self,
        session: Any,
        sock: socket.socket,
        addr: tuple[str, int] | None,
        queue_limit: int,
        loop: asyncio.AbstractEventLoop,
        backend: SendBackend | None = None,
        owner: object = None,
        rtp: RtpProtection | None = None,
    ) -> None:
        self._session = session  # libsrtp: SRTCP always, RTP unless ``rtp`` says otherwise
        # what owns the libsrtp session (pylibsrtp's Session): kept alive as long as we may
        # protect with it, in Python or in the compiled Port, whatever aiortc does with it
        self._owner = owner
        self._sock = sock
        self._addr = addr
        self._loop = loop
        self._queue: deque[bytes] = deque()
        self._queue_limit = queue_limit
        self._writer_added = False
        self._cdata, self._length, self._view = aiortc_hooks.srtp_buffers(SRTP_BUFFER)
        # issue 19: RTP through the compiled AES-GCM (streaming/srtp_protection.py) or libsrtp;
        # the Port below calls the same function with the same context
        self._rtp_owner = rtp.owner if rtp is not None else None
        self.rtp_backend = rtp.name if rtp is not None else "libsrtp"
        if rtp is None or rtp.name == "libsrtp":
            self._protect, self._rtp_ctx = aiortc_hooks.SRTP_PROTECT, session
        else:
            self._protect, self._rtp_ctx = aiortc_hooks.c_protect(rtp.function, rtp.ctx)
        self._sendto: Callable[[memoryview | bytes, Any], int] = (
            sock.sendto if addr is not None else _connected_send(sock)
        )
        self._backend = backend
        self._batch: SendBatch | None = None  # the batch holding our buffer until its flush
        self._round = -1  # that batch's round when it took our buffer
        self._dest: object = None  # the viewer's address as the backend wants it
        self._key: object = None  # the socket's kernel identity (None: never batched)
        self._share: Share | None = None  # the Egresses on that socket
        self.closed = False
        # issue 19 §4: the compiled fan-out's state for this connection (None: Python only)
        self.port: Any | None = None
        if backend is not None and addr is not None:
            self.port = backend.port(*((rtp.ctx, rtp.function) if rtp is not None
                                       else aiortc_hooks.srtp_addresses(session)))
        self._target(sock, addr)
        self._packets = 0  # what the Python paths sent; the Port counts its own
        self._bytes = 0
        self.dropped_packets = 0
        self._errors = 0

    @property
    def sent_packets(self) -> int:
        port = self.port
        return self._packets + (port.sent_packets if port is not None else 0)

    @property
    def sent_bytes(self) -> int:
        """Protected bytes handed to the kernel (the node's egress bitrate)."""
        port = self.port
        return self._bytes + (port.sent_bytes if port is not None else 0)

    @property
    def errors(self) -> int:
        port = self.port
        return self._errors + (port.errors if port is not None else 0)

    def retarget(self, sock: socket.socket, addr: tuple[str, int] | None) -> None:
        """Send from now on through ``sock`` to ``addr`` (the viewer's newly nominated pair;
        ``None``: ``sock`` is connected, an ICE-TCP pair's: streaming/tcp_link.py).

        The old duplicate socket is closed; packets still queued go to the new path.
        """
        if self.closed:
            sock.close()
            return
        self._hold()
        self._remove_writer()
        self._sock.close()
        self._sock, self._addr = sock, addr
        self._sendto = sock.sendto if addr is not None else _connected_send(sock)
        self._target(sock, addr)
        if self._queue:
            self._loop.add_writer(sock.fileno(), self._drain)
            self._writer_added = True
        self._sync()

    def _sync(self) -> None:
        """The compiled fan-out may send for us only with no backlog (order), while open, to
        an address it knows."""
        if self.port is not None:
            self.port.ready = not (self.closed or self._queue or self._key is None)

    def _target(self, sock: socket.socket, addr: tuple[str, int] | None) -> None:
        """Batching needs an unconnected socket, a backend and a packed destination; the key
        is the socket's inode, which its duplicates share (one shared port: one batch)."""
        if self._share is not None:
            leave(self._share)
            self._share = None
        if self._backend is None or addr is None:
            self._key = self._dest = None
            self._sync()
            return
        self._dest = self._backend.destination(addr, sock.family)
        inode = os.fstat(sock.fileno()).st_ino
        self._key = (id(self._backend), inode)
        self._share = join(self._key, self._backend)
        if self.port is not None:
            self.port.target(sock.fileno(), inode, self._dest)
        self._sync()

    def _hold(self) -> None:
        """Send what a batch holds of our buffer before the buffer is written again."""
        batch = self._batch
        if batch is not None:
            self._batch = None
            if batch.rounds == self._round:
                batch.flush()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def send_rtp(self, template: bytes | bytearray, seq: int, ts: int, ssrc: int) -> bool:
        """Copy ``template`` (plaintext RTP), set seq/ts/SSRC, protect in place, send.

        The hot path of the product: one copy, one ``pack_into``, one libsrtp call, one
        ``sendto``, and nothing allocated but the memoryview slice.
        """
        if self._batch is not None:
            self._hold()
        view = self._view
        length = self._length
        n = len(template)
        view[:n] = template
        pack_into("!HII", view, 2, seq, ts, ssrc)
        length[0] = n
        if self._protect(self._rtp_ctx, self._cdata, length):
            self._errors += 1
            return False
        data = view[: length[0]]
        if self._queue or self.closed:
            return self._transmit(data)
        try:
            self._sendto(data, self._addr)
        except BlockingIOError:
            return self._enqueue(bytes(data))
        except OSError:
            self._errors += 1  # see _transmit
            return True
        self._packets += 1
        self._bytes += length[0]
        return True

    def batch_rtp(
        self, batch: SendBatch, template: bytes | bytearray, seq: int, ts: int, ssrc: int
    ) -> bool:
        """:meth:`send_rtp`, but the protected packet joins ``batch`` and leaves at its flush
        (the end of this fan-out). Counted as sent now; :meth:`unsent` corrects the rare
        packet the flush could not send. A viewer with a backlog, or no batchable socket,
        sends at once as before."""
        share = self._share
        if share is None or share.users < 2 or self._queue or self.closed:
            return self.send_rtp(template, seq, ts, ssrc)
        held = self._batch
        if held is not None and held.rounds == self._round:
            held.flush()  # a second packet before the flush (not in Source.on_rtp)
        view = self._view
        length = self._length
        n = len(template)
        view[:n] = template
        pack_into("!HII", view, 2, seq, ts, ssrc)
        length[0] = n
        if self._protect(self._rtp_ctx, self._cdata, length):
            self._errors += 1
            return False
        n = length[0]
        batch.add(self, share, self._sock, view[:n], self._dest)
        self._batch = batch
        self._round = batch.rounds
        self._packets += 1
        self._bytes += n
        return True

    def unsent(self, data: memoryview | bytes, blocked: bool) -> bool:
        """A batched packet the flush did not send: queued when the socket was full (False
        when the queue is full too: dropped), counted as an error otherwise. The compiled
        fan-out hands its blocked copies here too (counted as sent by the Port: the Python
        counters go below zero by as much, the sums stay right)."""
        self._packets -= 1
        self._bytes -= len(data)
        if not blocked:
            self._errors += 1
            return True
        if self.closed:
            return True
        return self._enqueue(bytes(data))

    def send_padding(
        self,
        seq: int,
        ts: int,
        ssrc: int,
        payload_type: int,
        size: int,
        abs_send_time_id: int,
        now: float,
    ) -> bool:
        """Send one padding-only RTP packet of ``size`` padding octets (a bandwidth probe).

        The packet is a header with the P bit set (RFC 3550 §5.1) and no payload: ``size``
        octets of padding (1-255) whose last octet is their count, so the player's depacketizer
        skips it but its bandwidth estimator counts it. When ``abs_send_time_id`` is 1-14 the
        header carries abs-send-time (one-byte form, RFC 8285 §4.2) with ``now`` as 24-bit 6.18
        fixed-point seconds: Chromium's delay-based estimator (the source of its REMB) only
        sees packets that carry it, and padding without it made REMB collapse (docs/media.md
        "Estimation and layer choice"). ``now`` must be on the clock of the abs-send-time the
        viewer's media packets carry, or the estimator sees a jump. Send padding only between
        frames (after a packet with the marker bit): inside a frame it broke Chromium's frame
        assembly (measured).

        ``seq``, ``ts``, ``ssrc`` and ``payload_type`` are the viewer's (the caller takes a
        sequence number from the track's own space, so the player sees no gap). Padding is
        never queued: it is only worth sending into a path with room, so a full socket or a
        non-empty queue returns False and nothing is sent.
        """
        if not 1 <= size <= MAX_PADDING:
            raise ValueError("RTP padding must be 1 to 255 octets")
        if self.closed or self._queue:
            return False
        self._hold()
        view = self._view
        n = write_padding_header(view, seq, ts, ssrc, payload_type, abs_send_time_id, now)
        view[n : n + size - 1] = ZEROS[: size - 1]
        view[n + size - 1] = size
        self._length[0] = n + size
        if self._protect(self._rtp_ctx, self._cdata, self._length):
            self._errors += 1
            return False
        try:
            self._sendto(view[: self._length[0]], self._addr)
        except BlockingIOError:
            return False
        except OSError:
            self._errors += 1
            return False
        self._packets += 1
        self._bytes += self._length[0]
        return True

    def send_rtcp(self, packet: bytes) -> bool:
        """Protect (SRTCP) and send one RTCP compound packet."""
        self._hold()
        n = len(packet)
        self._view[:n] = packet
        self._length[0] = n
        status = aiortc_hooks.srtp_protect_rtcp(self._session, self._cdata, self._length)
        if status:
            self._errors += 1
            return False
        return self._transmit(self._view[: self._length[0]])

    def _transmit(self, data: memoryview) -> bool:
        if self.closed:
            return False
        if self._queue:
            return self._enqueue(bytes(data))
        try:
            if self._addr is None:
                self._sock.send(data)
            else:
                self._sock.sendto(data, self._addr)
        except BlockingIOError:
            return self._enqueue(bytes(data))
        except OSError:
            # ICMP port unreachable and the like (RFC 1122): the viewer is gone or not yet
            # listening; its connection's own state machine will close it. Not a queue drop.
            self._errors += 1
            return True
        self._packets += 1
        self._bytes += len(data)
        return True

    def _enqueue(self, data: bytes) -> bool:
        if len(self._queue) >= self._queue_limit:
            self.dropped_packets += 1
            return False
        self._queue.append(data)
        if not self._writer_added:
            self._loop.add_writer(self._sock.fileno(), self._drain)
            self._writer_added = True
        self._sync()
        return True

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            try:
                if self._addr is None:
                    self._sock.send(queue[0])
                else:
                    self._sock.sendto(queue[0], self._addr)
            except BlockingIOError:
                return
            except OSError:
                self._errors += 1
            else:
                self._packets += 1
                self._bytes += len(queue[0])
            queue.popleft()
        self._remove_writer()
        self._sync()

    def _remove_writer(self) -> None:
        if self._writer_added:
            self._loop.remove_writer(self._sock.fileno())
            self._writer_added = False

    def close(self) -> None:
        """Stop sending and close the duplicate socket (the connection's own socket stays)."""
        if self.closed:
            return
        self._hold()
        self.closed = True
        self._sync()
        if self._share is not None:
            leave(self._share)
            self._share = None
        self._remove_writer()
        self._queue.clear()
        self._sock.close()
