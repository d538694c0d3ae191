"""ICE-TCP (RFC 6544) on the node's one TCP port: passive host candidates beside the UDP mux's.

For clients whose networks let no UDP through (issue 19 §1; docs/media.md "ICE-TCP"). Every
ICE agent on the UDP mux (streaming/udp_mux.py) also gets, per advertised address, a host
candidate ``tcp ... typ host tcptype passive`` on ``[media] tcp_port``: the client connects,
the node never does (RFC 6544 §4.5; an active or S-O candidate of ours would need outgoing
connections through the client's NAT, which is what such networks block anyway).

A connection's messages are RFC 4571 frames (streaming/tcp_framing.py). Its **first** message
must be a STUN Binding request whose USERNAME names one of the node's agents (the mux's ufrag
table, RFC 8445 §7.2.2); anything else closes it, counted. The connection then belongs to that
agent for its life: each message goes to the agent's TCP candidate as a datagram from the
connection's remote address, and the agent's sends to that address are written framed on it.
Until the agent answered a check on it with success (aioice does only for one it
authenticated), nothing but STUN passes (RFC 7983 rules as on UDP: streaming/mux_table.py);
a connection not validated within ``validate_s`` of accept is closed (a slow-loris holds an fd
for seconds, not forever). aioice learns the address as a peer-reflexive candidate from the
check and its triggered check goes back on the same connection (RFC 6544 §7.2).

STUN requests are not retransmitted over TCP (RFC 6544 §7.1, RFC 8489 §6.2.2: TCP is the
reliable transport): a request aioice sends again with a transaction id already written on
the connection is not written again; the transaction still ends on aioice's own timer.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aioice.candidate import Candidate, candidate_foundation
from aioice.ice import StunProtocol

from streaming import aiortc_hooks
from streaming.errors import TcpPortUnavailable
from streaming.mux_table import Address, Drop, Kind, StunClass, classify, stun_head
from streaming.tcp_link import TcpLink
from streaming.virtual_transport import VirtualTransport

if TYPE_CHECKING:
    from streaming.udp_mux import MuxPort, UdpMux

logger = logging.getLogger(__name__)

# RFC 6544 §4.2: local preference = 2^13 * direction-pref + other-pref; for host candidates
# active 6, passive 4, S-O 2. The type preference is libwebrtc's for host TCP (90), below every
# UDP host (126) and server-reflexive (100) one, so a client that can use UDP does (§4.5 asks
# that UDP be preferred: head-of-line blocking makes TCP media worse).
TYPE_PREFERENCE_HOST_TCP = 90
DIRECTION_PASSIVE = 4
OTHER_PREFERENCE = 8_191
ACCEPT_BURST = 32  # connections accepted per wake-up of one listener
LISTEN_BACKLOG = 128
REQUESTS_REMEMBERED = 32  # STUN transaction ids per connection (retransmission suppression)


@dataclass(frozen=True, slots=True)
class TcpLimits:
    """What a TCP client may make the node hold (DESIGN.md §6)."""

    max_pending: int = 128  # connections not validated yet, node-wide
    max_pending_per_ip: int = 32  # ... from one address (a NAT): no one host takes them all
    validate_s: float = 5.0  # accept -> validated by ICE, or closed
    first_frame: int = 1_500  # bytes per message until validated (a check is ~100-200)
    max_links_per_agent: int = 8  # as many as the UDP mux keeps addresses per agent
    media_buffer: int = 256 * 1024  # write buffer over which media is dropped (~0.5 s at 4 Mbit/s)
    control_buffer: int = 512 * 1024  # ... over which STUN, DTLS and RTCP are dropped too
    udp_first_s: float = 0.5  # a controlling agent's TCP checks wait this (UDP may win)


def passive_priority(component: int, other_preference: int = OTHER_PREFERENCE) -> int:
    """RFC 8445 §5.1.2.1 with RFC 6544 §4.2's local preference for a passive host candidate."""
    local = (DIRECTION_PASSIVE << 13) | (other_preference & 0x1FFF)
    return (TYPE_PREFERENCE_HOST_TCP << 24) + (local << 8) + (256 - component)


def passive_candidate(component: int, host: str, port: int) -> Candidate:
    """Our ``tcptype passive`` host candidate at ``host``:``port`` (RFC 6544 §4.5)."""
    return Candidate(
        foundation=candidate_foundation("host", "tcp", host), component=component,
        transport="tcp", priority=passive_priority(component), host=host, port=port,
        type="host", tcptype="passive",
    )


def bind_listeners(port: int, hosts: list[str]) -> dict[str, socket.socket]:
    """Non-blocking listening sockets on ``port``, one per address of ``hosts``;
    :class:`TcpPortUnavailable` if one cannot be bound."""
    listeners: dict[str, socket.socket] = {}
    for host in hosts:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart over TIME_WAIT
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
            sock.listen(LISTEN_BACKLOG)
        except OSError as exc:
            sock.close()
            for other in listeners.values():
                other.close()
            raise TcpPortUnavailable(f"media.tcp_port: cannot bind TCP port {port} on {host}"
                                     f" ({exc.strerror})") from None
        sock.setblocking(False)
        listeners[host] = sock
    return listeners


class TcpMuxTransport(VirtualTransport):
    """What one agent's TCP candidate sends through: framed writes on its connections."""

    shared = False  # never batched (streaming/aiortc_hooks.shared_socket)

    def __init__(self, tcp: TcpMux, port: MuxPort, bound: str, sockname: Address) -> None:
        super().__init__(port, sockname)
        self._tcp = tcp
        self._bound = bound

    def sendto(self, data: Any, addr: Any = None) -> None:
        if not self._closing and addr is not None:
            self._tcp.send(self._port, bytes(data), (addr[0], addr[1]), self._bound)

    def media_socket(self, addr: Address) -> socket.socket:
        """A socket whose datagrams leave framed on the connection from ``addr``
        (streaming/aiortc_hooks.pair_socket: a viewer's Egress sends on it)."""
        return self._tcp.media_socket(self._port, self._bound, addr)

    def reaches(self, addr: Address) -> bool:
        """Only while the connection from ``addr`` is open: it is the only way there."""
        return not self._closing and self._tcp.reaches(self._port, self._bound, addr)


class TcpMux:
    """The node's one TCP port: accepts, claims each connection for an agent, frames."""

    def __init__(self, mux: UdpMux, port: int, limits: TcpLimits = TcpLimits()) -> None:
        self.mux = mux
        self.port = port
        self.limits = limits
        self._listeners = bind_listeners(port, sorted(set(mux.addresses.values())))
        self._links: dict[tuple[str, Address], TcpLink] = {}  # (listener, peer) -> claimed
        self._by_owner: dict[MuxPort, list[TcpLink]] = {}
        self._protocols: dict[tuple[MuxPort, str], StunProtocol] = {}
        self._pending: dict[TcpLink, asyncio.TimerHandle] = {}  # not validated yet
        self._pending_ips: collections.Counter[str] = collections.Counter()
        self._open: set[TcpLink] = set()
        self.accepted = 0
        self.received = 0  # messages read
        self.send_errors = 0  # aioice sent to an address with no connection of its agent
        self._loop = asyncio.get_running_loop()
        for bound, listener in self._listeners.items():
            self._loop.add_reader(listener.fileno(), self._accept, listener, bound)
        self.closed = False

    @property
    def links(self) -> int:
        """Open connections (validated or not)."""
        return len(self._open)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def open_protocols(self, port: MuxPort, component: int) -> list[StunProtocol]:
        """``port``'s passive TCP candidates: one per advertised address, on this port. With
        UDP candidates beside them, a controlling agent's TCP checks wait a moment, so UDP is
        nominated where it works (aiortc_hooks.defer_tcp_checks)."""
        if self.mux.udp_candidates:
            aiortc_hooks.defer_tcp_checks(port.connection, self.limits.udp_first_s)
        protocols = []
        for host, bound in self.mux.addresses.items():
            transport = TcpMuxTransport(self, port, bound, (host, self.port))
            protocol = port.attach(passive_candidate(component, host, self.port), transport)
            self._protocols[(port, bound)] = protocol
            protocols.append(protocol)
        return protocols

    def _accept(self, listener: socket.socket, bound: str) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors (EMFILE) and the like: try later
                logger.warning("media.tcp_port: accept failed (%s)", exc.strerror)
                return
            if (len(self._pending) >= self.limits.max_pending
                    or self._pending_ips[addr[0]] >= self.limits.max_pending_per_ip):
                sock.close()
                self.mux.count_drop(Drop.TCP_PENDING_FULL)
                continue
            self.accepted += 1
            link = TcpLink(sock, (addr[0], addr[1]), bound, self.limits.first_frame,
                           (self.limits.media_buffer, self.limits.control_buffer),
                           self._frame, self._closed)
            self._open.add(link)
            self._pending[link] = self._loop.call_later(self.limits.validate_s,
                                                        self._expire, link)
            self._pending_ips[addr[0]] += 1

    def _frame(self, link: TcpLink, message: bytes) -> None:
        self.received += 1
        if link.owner is None:
            self._claim(link, message)
            return
        kind = classify(message[0])
        if kind is Kind.OTHER:
            self.mux.count_drop(Drop.NOT_WEBRTC)
            return
        if kind is not Kind.STUN and not link.validated:
            self.mux.count_drop(Drop.UNKNOWN_ADDRESS)  # nothing but STUN before a success
            return
        self._deliver(link, message, kind)

    def _deliver(self, link: TcpLink, message: bytes, kind: Kind) -> None:
        protocol = link.protocol
        if protocol is None:
            return
        protocol.datagram_received(message, link.peer)  # may be the intake's or the guard's
        if kind is Kind.STUN:
            aiortc_hooks.learned_over_tcp(link.owner.connection, link.peer)

    def _claim(self, link: TcpLink, message: bytes) -> None:
        """The first message: a Binding request naming an agent, or the connection closes."""
        head = stun_head(message) if message[0] <= 3 else None
        if head is None or head.cls is not StunClass.REQUEST:
            self._refuse(link, Drop.TCP_NOT_STUN)
            return
        owner = self.mux.table.named(head.username)
        protocol = self._protocols.get((owner, link.bound)) if owner is not None else None
        if owner is None or protocol is None:
            self._refuse(link, Drop.TCP_UNKNOWN_USERNAME)
            return
        if len(self._by_owner.get(owner, ())) >= self.limits.max_links_per_agent:
            self._refuse(link, Drop.TCP_TOO_MANY)
            return
        link.owner, link.protocol = owner, protocol
        self._by_owner.setdefault(owner, []).append(link)
        self._links[(link.bound, link.peer)] = link
        self._deliver(link, message, Kind.STUN)

    def _refuse(self, link: TcpLink, reason: Drop) -> None:
        self.mux.count_drop(reason)
        link.close()

    def send(self, port: MuxPort, data: bytes, addr: Address, bound: str) -> None:
        """Write what ``port``'s agent sends to ``addr`` on its connection from there."""
        link = self._links.get((bound, addr))
        if link is None or link.owner is not port or not data:
            self.send_errors += 1  # no connection (closed, or an address we cannot reach)
            return
        head = stun_head(data) if data[0] <= 3 else None
        if head is not None and head.cls is StunClass.REQUEST:
            if head.transaction in link.requests:
                return  # a retransmission: not over TCP (RFC 6544 §7.1)
        if not link.write(data):
            self.mux.count_drop(Drop.TCP_WRITE_FULL)
            return
        if head is not None and head.cls is StunClass.REQUEST:
            link.requests[head.transaction] = None
            if len(link.requests) > REQUESTS_REMEMBERED:
                del link.requests[next(iter(link.requests))]
        elif head is not None and head.cls is StunClass.SUCCESS:
            self._validate(link)  # aioice answers success only to a check it authenticated

    def reaches(self, port: MuxPort, bound: str, addr: Address) -> bool:
        """Whether ``port``'s agent has an open connection from ``addr`` on ``bound``."""
        link = self._links.get((bound, addr))
        return link is not None and link.owner is port and not link.closed

    def media_socket(self, port: MuxPort, bound: str, addr: Address) -> socket.socket:
        link = self._links.get((bound, addr))
        if link is None or link.owner is not port:
            raise ConnectionError(f"no ICE-TCP connection from {addr[0]}:{addr[1]}")
        return link.media_socket()

    def _validate(self, link: TcpLink) -> None:
        if link.validated:
            return
        link.validated = True
        link.allow_frames()
        self._unpend(link)

    def _unpend(self, link: TcpLink) -> bool:
        """``link`` waits no more (validated, expired or closed); whether it was waiting."""
        handle = self._pending.pop(link, None)
        if handle is None:
            return False
        handle.cancel()
        self._pending_ips[link.peer[0]] -= 1
        if not self._pending_ips[link.peer[0]]:
            del self._pending_ips[link.peer[0]]
        return True

    def _expire(self, link: TcpLink) -> None:
        if self._unpend(link) and not link.closed:
            self.mux.count_drop(Drop.TCP_TIMEOUT if link.received else Drop.TCP_UNUSED)
            link.close()

    def _closed(self, link: TcpLink) -> None:
        self._open.discard(link)
        self._unpend(link)
        if link.oversize:
            self.mux.count_drop(Drop.TCP_FRAME_TOO_LARGE)
        if self._links.get((link.bound, link.peer)) is link:
            del self._links[(link.bound, link.peer)]
        mine = self._by_owner.get(link.owner) if link.owner is not None else None
        if mine is not None and link in mine:  # not when its agent or the node closes it
            mine.remove(link)
            if not mine:
                del self._by_owner[link.owner]
            if link.validated and link.protocol is not None:
                # the client went (FIN or RST): if ICE was using this connection, consent is
                # lost now (RFC 7675 §5.1), not when its checks time out
                link.owner.path_closed(link.protocol, link.peer)

    def forget(self, port: MuxPort) -> None:
        """``port``'s agent closed: its connections close, its candidates go."""
        for link in self._by_owner.pop(port, []):
            link.close()
        for bound in self.mux.addresses.values():
            self._protocols.pop((port, bound), None)

    def close(self) -> None:
        """Stop accepting and close every connection (the plane closed its peers first)."""
        if self.closed:
            return
        self.closed = True
        for listener in self._listeners.values():
            self._loop.remove_reader(listener.fileno())
            listener.close()
        self._listeners.clear()
        for link in list(self._open):
            link.close()
