"""The copies of one published packet, collected per socket and sent in one call.

:meth:`Source.on_rtp <streaming.source.Source.on_rtp>` protects each viewer's copy in place in
that viewer's Egress buffer and adds it here instead of sending it; at the end of the fan-out
(the same loop turn, no added delay) :meth:`SendBatch.flush` hands each socket's datagrams to
the backend in one call: one ``sendmmsg`` for every viewer on a node's shared UDP port, one per
viewer with per-peer ports. A datagram the socket had no room for goes to its Egress's bounded
queue, as a ``sendto`` that would block did; the Egresses whose queue was full are returned,
so their viewers skip to the next keyframe.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from streaming.send_backend import BLOCKED, REFUSED, SENT, Datagram, SendBackend

if TYPE_CHECKING:
    from streaming.egress import Egress


class Share:
    """The Egresses sending on one socket (``key``: its identity). Only a socket with two or
    more is batched: with per-peer ports each viewer's copy goes out at once, as before."""

    __slots__ = ("backend", "key", "users")

    def __init__(self, key: Any, backend: SendBackend) -> None:
        self.key = key
        self.backend = backend
        self.users = 0


_shares: dict[Any, Share] = {}  # this process's sockets that Egresses send on, by identity


def join(key: Any, backend: SendBackend) -> Share:
    """Count one more Egress on the socket ``key`` (sending through ``backend``)."""
    share = _shares.get(key)
    if share is None:
        share = _shares[key] = Share(key, backend)
    share.users += 1
    return share


def leave(share: Share) -> None:
    """One Egress less on ``share``'s socket (forgotten with the last one)."""
    share.users -= 1
    if share.users <= 0 and _shares.get(share.key) is share:
        del _shares[share.key]


class _Group:
    """The datagrams for one socket (by its kernel identity: duplicates share one)."""

    __slots__ = ("backend", "datagrams", "egresses", "fd", "sock")

    def __init__(self, backend: SendBackend, sock: socket.socket, fd: int) -> None:
        self.backend = backend
        self.sock = sock
        self.fd = fd
        self.datagrams: list[Datagram] = []
        self.egresses: list[Egress] = []


class SendBatch:
    """Datagrams waiting for the end of one fan-out; ``calls`` counts backend calls made."""

    __slots__ = ("_groups", "_status", "calls", "datagrams", "dropped", "rounds")

    def __init__(self) -> None:
        self._groups: dict[Any, _Group] = {}
        self._status = bytearray(64)
        self.calls = 0  # backend calls (system calls with sendmmsg), for tests and benchmarks
        self.datagrams = 0  # datagrams handed to the backend
        self.dropped: list[Egress] = []  # Egresses that dropped a packet, until taken
        self.rounds = 0  # flushes so far: an Egress's buffer is held while this has not moved

    def add(self, egress: Egress, share: Share, sock: socket.socket, data: Any,
            dest: Any) -> None:
        """Send ``data`` (a view of ``egress``'s buffer, which stays untouched until the flush)
        to ``dest`` (in the backend's form) on ``sock`` (one of ``share``'s) at the flush."""
        group = self._groups.get(share)
        if group is None:
            group = self._groups[share] = _Group(share.backend, sock, sock.fileno())
        group.datagrams.append((data, dest))
        group.egresses.append(egress)

    @property
    def pending(self) -> bool:
        return bool(self._groups)

    def __len__(self) -> int:
        return sum(len(group.datagrams) for group in self._groups.values())

    def flush(self) -> None:
        """Send everything collected; ``dropped`` gains the Egresses whose queue was full."""
        if not self._groups:
            return
        self.rounds += 1
        groups = list(self._groups.values())
        self._groups.clear()
        for group in groups:
            self._send(group)

    def _send(self, group: _Group) -> None:
        datagrams = group.datagrams
        n = len(datagrams)
        if len(self._status) < n:
            self._status = bytearray(n)
        status = self._status
        self.calls += 1
        self.datagrams += n
        try:
            sent = group.backend.send(group.sock, group.fd, datagrams, status)
        except OSError:
            sent = -1  # the socket is unusable (closed under us): every copy is an error
            status[:n] = bytes([REFUSED]) * n
        if sent == n:
            return
        for i, egress in enumerate(group.egresses):
            code = status[i]
            if code == SENT:
                continue
            if not egress.unsent(datagrams[i][0], code == BLOCKED):
                self.dropped.append(egress)

    def take_dropped(self) -> list[Egress]:
        """The Egresses that dropped a packet since the last call (usually none)."""
        if not self.dropped:
            return self.dropped
        dropped, self.dropped = self.dropped, []
        return dropped
