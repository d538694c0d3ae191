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
import socket
from collections import deque
from collections.abc import Callable
from struct import pack_into
from typing import Any

from streaming import aiortc_hooks
from streaming.vp8 import Vp8Fields, pid_modulus, write_pid

SRTP_BUFFER = 1500 + 16 + 148  # MTU + max SRTP trailer + slack (libsrtp SRTP_MAX_TRAILER_LEN)


def _connected_send(sock: socket.socket) -> Callable[[memoryview | bytes, Any], int]:
    def send(data: memoryview | bytes, _addr: Any) -> int:
        return sock.send(data)

    return send


class Egress:
    """Sends protected RTP and RTCP to one viewer; owns its duplicate socket.

    ``send_rtp`` returns False only when the packet was dropped because the queue is full (or
    libsrtp refused it): the caller decides what a drop means for its track (video waits for a
    keyframe). A network error is counted in ``errors`` and is not a drop.
    """

    __slots__ = (
        "_addr",
        "_cdata",
        "_length",
        "_loop",
        "_protect",
        "_queue",
        "_queue_limit",
        "_sendto",
        "_session",
        "_sock",
        "_view",
        "_writer_added",
        "closed",
        "dropped_packets",
        "errors",
        "sent_bytes",
        "sent_packets",
    )

    def __init__(
        self,
        session: Any,
        sock: socket.socket,
        addr: tuple[str, int] | None,
        queue_limit: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._session = session
        self._sock = sock
        self._addr = addr
        self._loop = loop
        self._queue: deque[bytes] = deque()
        self._queue_limit = queue_limit
        self._writer_added = False
        self._cdata, self._length, self._view = aiortc_hooks.srtp_buffers(SRTP_BUFFER)
        self._protect = aiortc_hooks.SRTP_PROTECT
        self._sendto: Callable[[memoryview | bytes, Any], int] = (
            sock.sendto if addr is not None else _connected_send(sock)
        )
        self.closed = False
        self.sent_packets = 0
        self.sent_bytes = 0  # protected bytes handed to the kernel (the node's egress bitrate)
        self.dropped_packets = 0
        self.errors = 0

    def retarget(self, sock: socket.socket, addr: tuple[str, int]) -> None:
        """Send from now on through ``sock`` to ``addr`` (the viewer's newly nominated pair).

        The old duplicate socket is closed; packets still queued go to the new path.
        """
        if self.closed:
            sock.close()
            return
        self._remove_writer()
        self._sock.close()
        self._sock, self._addr = sock, addr
        self._sendto = sock.sendto
        if self._queue:
            self._loop.add_writer(sock.fileno(), self._drain)
            self._writer_added = True

    @property
    def queued(self) -> int:
        return len(self._queue)

    def send_rtp(self, template: bytes | bytearray, seq: int, ts: int, ssrc: int) -> bool:
        """Copy ``template`` (plaintext RTP), set seq/ts/SSRC, protect in place, send.

        The hot path of the product: one copy, one ``pack_into``, one libsrtp call, one
        ``sendto``, and nothing allocated but the memoryview slice.
        """
        view = self._view
        length = self._length
        n = len(template)
        view[:n] = template
        pack_into("!HII", view, 2, seq, ts, ssrc)
        length[0] = n
        if self._protect(self._session, self._cdata, length):
            self.errors += 1
            return False
        data = view[: length[0]]
        if self._queue or self.closed:
            return self._transmit(data)
        try:
            self._sendto(data, self._addr)
        except BlockingIOError:
            return self._enqueue(bytes(data))
        except OSError:
            self.errors += 1  # see _transmit
            return True
        self.sent_packets += 1
        self.sent_bytes += length[0]
        return True

    def send_rtp_vp8(
        self,
        template: bytes | bytearray,
        seq: int,
        ts: int,
        ssrc: int,
        fields: Vp8Fields,
        pid_offset: int,
        tl0_offset: int,
    ) -> bool:
        """:meth:`send_rtp` with the VP8 PictureID and TL0PICIDX moved by this viewer's offsets
        (a viewer that switched simulcast layers, issue 14 §2); written in the working buffer,
        so the shared template stays as it is."""
        view = self._view
        n = len(template)
        view[:n] = template
        pack_into("!HII", view, 2, seq, ts, ssrc)
        if fields.pid_pos >= 0:
            write_pid(view, fields, (fields.pid + pid_offset) % pid_modulus(fields))
        if fields.tl0_pos >= 0:
            view[fields.tl0_pos] = (fields.tl0 + tl0_offset) & 0xFF
        self._length[0] = n
        if self._protect(self._session, self._cdata, self._length):
            self.errors += 1
            return False
        return self._transmit(view[: self._length[0]])

    def send_rtcp(self, packet: bytes) -> bool:
        """Protect (SRTCP) and send one RTCP compound packet."""
        n = len(packet)
        self._view[:n] = packet
        self._length[0] = n
        status = aiortc_hooks.srtp_protect_rtcp(self._session, self._cdata, self._length)
        if status:
            self.errors += 1
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
            self.errors += 1
            return True
        self.sent_packets += 1
        self.sent_bytes += len(data)
        return True

    def _enqueue(self, data: bytes) -> bool:
        if len(self._queue) >= self._queue_limit:
            self.dropped_packets += 1
            return False
        self._queue.append(data)
        if not self._writer_added:
            self._loop.add_writer(self._sock.fileno(), self._drain)
            self._writer_added = True
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
                self.errors += 1
            else:
                self.sent_packets += 1
                self.sent_bytes += len(queue[0])
            queue.popleft()
        self._remove_writer()

    def _remove_writer(self) -> None:
        if self._writer_added:
            self._loop.remove_writer(self._sock.fileno())
            self._writer_added = False

    def close(self) -> None:
        """Stop sending and close the duplicate socket (the connection's own socket stays)."""
        if self.closed:
            return
        self.closed = True
        self._remove_writer()
        self._queue.clear()
        self._sock.close()
