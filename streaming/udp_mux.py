"""Every peer of the node on one UDP port (issue 19 §1; docs/media.md "One UDP port").

:class:`UdpMux` owns the port's sockets (IPv4, and IPv6 where the host has it) and reads them
itself (``loop.add_reader``); :mod:`streaming.mux_table` says which ICE agent a datagram
belongs to. aioice still runs ICE for each peer: in place of a socket per host address, each
agent gets a :class:`MuxPort` whose virtual transports send on the shared socket and whose
host candidates carry ``announce_ip`` (or this host's addresses) and the one port
(:func:`streaming.aiortc_hooks.gather_on_mux`). An agent's entries go when aioice closes its
transports (the peer closes); the mux closes with the media plane.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import socket
import string
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aioice.ice import Connection, StunProtocol, get_host_addresses
from aioice.stun import parse_message

from streaming import aiortc_hooks
from streaming.errors import Capacity, UdpPortUnavailable
from streaming.mux_table import Address, DemuxTable, Drop, Kind, StunClass, stun_head
from streaming.virtual_transport import VirtualTransport

if TYPE_CHECKING:
    from streaming.tcp_mux import TcpMux

logger = logging.getLogger(__name__)

READ_BURST = 256  # datagrams read per wake-up of one socket: other work runs in between
SOCKET_BUFFER = 4 * 1024 * 1024  # every peer's traffic shares these (the kernel may cap them)
UFRAG_CHARS = string.ascii_letters + string.digits
UFRAG_LENGTH = 8  # RFC 8445 §5.3: at least 24 bits; unique on the node (checked)
MAX_DATAGRAM = 65_535


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


WILDCARDS = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}


def bind_sockets(port: int, hosts: list[str]) -> dict[str, socket.socket]:
    """Non-blocking UDP sockets on ``port``, one per address of ``hosts`` (a wildcard among
    them binds every address of its family); :class:`UdpPortUnavailable` if one cannot be
    bound."""
    sockets: dict[str, socket.socket] = {}
    for host in hosts:
        sock = socket.socket(_family(host), socket.SOCK_DGRAM)
        try:
            if _family(host) == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            for other in sockets.values():
                other.close()
            raise UdpPortUnavailable(f"media.udp_port: cannot bind UDP port {port} on {host}"
                                     f" ({exc.strerror})") from None
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
        sock.setblocking(False)
        sockets[host] = sock
    return sockets


def plan_addresses(announce_ip: str) -> tuple[list[str], dict[str, str]]:
    """The sockets to bind, and for each advertised address the socket (its bound address)
    it is served on. With ``announce_ip`` (NAT 1:1: not an address of this host) the wildcard
    socket of its family serves it; an ``announce_ip`` of this host gets a socket bound on it;
    without, each of this host's addresses gets its own socket, so a reply
    leaves from the address the client sent to (a wildcard socket's replies take the source
    address the route prefers, which on a host with several addresses may be another one, and
    ICE drops a response from an address it did not ask, RFC 8445 §7.2.5.2.1)."""
    if announce_ip and is_local(announce_ip):
        # an address of this host: bound itself, so replies leave from it (a wildcard socket
        # answered a client's check to 127.0.0.1 from 192.0.2.2; the client failed that pair
        # and got through only on a peer-reflexive one, or not at all under load: issue 19)
        return [announce_ip], {announce_ip: announce_ip}
    if announce_ip:
        wildcard = WILDCARDS[_family(announce_ip)]
        return [wildcard], {announce_ip: wildcard}
    hosts = get_host_addresses(use_ipv4=True, use_ipv6=True)
    if not hosts:
        raise UdpPortUnavailable("media.udp_port: this host has no address to offer clients;"
                                 " set media.announce_ip")
    return hosts, {host: host for host in hosts}


def is_local(host: str) -> bool:
    """Whether ``host`` is an address of this host (a socket can be bound on it)."""
    with socket.socket(_family(host), socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


class MuxTransport(VirtualTransport):
    """What one aioice ``StunProtocol`` sends through: one of the mux's shared sockets."""

    shared = True  # streaming.aiortc_hooks.shared_socket: the socket is the node's, not a peer's

    def __init__(self, port: MuxPort, sock: socket.socket, sockname: Address) -> None:
        super().__init__(port, sockname)
        self._sock = sock

    def sendto(self, data: Any, addr: Any = None) -> None:
        if not self._closing and addr is not None:
            self._port.mux.send(self._port, bytes(data), (addr[0], addr[1]), self._sock)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self._sock
        return super().get_extra_info(name, default)


class MuxPort:
    """One ICE agent (an aioice ``Connection``) on the mux: its protocols, one per address."""

    def __init__(self, mux: UdpMux, connection: Connection, ufrag: str) -> None:
        self.mux = mux
        self.connection = connection
        self.ufrag = ufrag
        self.protocols: list[StunProtocol] = []
        self._by_socket: dict[str, StunProtocol] = {}  # bound address -> its candidate
        self._open: set[asyncio.BaseTransport] = set()
        # who is told when the agent's only working path is gone (:meth:`UdpMux.watch_paths`);
        # weak: the port must not keep a closed peer's consent watch (and the peer) alive
        self._on_lost: weakref.WeakMethod[Callable[[], None]] | None = None

    def add_protocol(self, component: int, host: str, bound: str,
                     sock: socket.socket) -> StunProtocol:
        """A host candidate at ``host`` (advertised) served by the socket bound on ``bound``."""
        candidate = Candidate(
            foundation=candidate_foundation("host", "udp", host), component=component,
            transport="udp", priority=candidate_priority(component, "host"),
            host=host, port=self.mux.port, type="host",
        )
        protocol = self.attach(candidate, MuxTransport(self, sock, (host, self.mux.port)))
        self._by_socket[bound] = protocol
        return protocol

    def attach(self, candidate: Candidate, transport: asyncio.BaseTransport) -> StunProtocol:
        """A ``StunProtocol`` for ``candidate`` sending through ``transport`` (the UDP mux's,
        or an ICE-TCP one: streaming/tcp_mux.py); the port goes when all its transports
        closed."""
        protocol = StunProtocol(self.connection)
        protocol.local_candidate = candidate
        self._open.add(transport)
        protocol.connection_made(transport)
        self.protocols.append(protocol)
        return protocol

    def receive(self, data: bytes, addr: Address, bound: str) -> None:
        """Hand a datagram that arrived on the socket bound on ``bound`` to the candidate it
        serves (the plane's intake may have replaced its ``datagram_received``: looked up
        each time)."""
        protocol = self._by_socket.get(bound)
        if protocol is None:
            self.mux.count_drop(Drop.UNKNOWN_ADDRESS)  # no candidate on that address
            return
        protocol.datagram_received(data, addr)

    def authentic(self, data: bytes) -> bool:
        """A STUN response carries MESSAGE-INTEGRITY with the remote password (as aioice
        checks it, RFC 8489 §9.1.4): it validates the address it came from."""
        password = self.connection.remote_password
        if password is None:
            return False
        try:
            return parse_message(data).check_message_integrity(password.encode("utf8"))
        except ValueError:
            return False

    def transport_closed(self, transport: asyncio.BaseTransport) -> None:
        self._open.discard(transport)
        if not self._open:
            self.mux.remove(self)
        loop = asyncio.get_running_loop()
        for protocol in self.protocols:
            if protocol.transport is transport:
                loop.call_soon(protocol.connection_lost, None)
        if not self._open:  # after those calls: protocols <-> transports <-> this port is a
            loop.call_soon(self._forget)  # cycle that would wait for a full collection

    def path_closed(self, protocol: StunProtocol, addr: Address) -> None:
        """Nothing sent from ``protocol``'s candidate reaches ``addr`` any more (its ICE-TCP
        connection closed). If that was the agent's nominated pair and no other valid pair
        can carry data, its watcher is told at once (RFC 7675 §5.1: consent is lost when the
        transport is gone); otherwise ICE goes on (the client may nominate a pair that still
        works, and consent checks follow the nominated pair)."""
        lost = self._on_lost() if self._on_lost is not None else None
        if lost is not None and aiortc_hooks.only_path_gone(self.connection, protocol, addr):
            lost()

    def _forget(self) -> None:
        self.protocols.clear()
        self._by_socket.clear()
        self._on_lost = None


class UdpMux:
    """The node's one UDP port: reads, demultiplexes, and sends for every ICE agent."""

    def __init__(self, port: int, announce_ip: str, max_agents: int,
                 udp_candidates: bool = True) -> None:
        hosts, served = plan_addresses(announce_ip)
        self.udp_candidates = udp_candidates  # False: TCP candidates only (a test of ICE-TCP)
        self.tcp: TcpMux | None = None  # ICE-TCP on [media] tcp_port (streaming/tcp_mux.py)
        self._sockets = bind_sockets(port, hosts)
        self.port = port
        self.table: DemuxTable[MuxPort] = DemuxTable(max_agents)
        # advertised address -> the bound address of the socket serving it
        self.addresses = {host: bound for host, bound in served.items() if bound in self._sockets}
        self.dropped: collections.Counter[str] = collections.Counter()
        self.received = 0
        self.send_errors = 0
        self._loop = asyncio.get_running_loop()
        for bound, sock in self._sockets.items():
            self._loop.add_reader(sock.fileno(), self._readable, sock, bound)
        self.closed = False

    def sockets(self) -> list[socket.socket]:
        """The bound sockets: one per address of this host, or one wildcard (``announce_ip``).
        A viewer's copies leave on the one its nominated pair uses."""
        return list(self._sockets.values())

    def open_port(self, connection: Connection, component: int) -> list[StunProtocol]:
        """Register ``connection`` (gathering now) with a fresh unique ufrag; its host
        candidates: one per advertised address, all on the one port."""
        if self.closed:
            raise ConnectionError("the UDP mux is closed")
        if len(self.table) >= self.table.max_owners:
            raise Capacity("the node's UDP port serves as many peers as it may")
        ufrag = self._new_ufrag()
        port = MuxPort(self, connection, ufrag)
        self.table.add(port, ufrag)
        aiortc_hooks.set_local_ufrag(connection, ufrag)
        protocols = [port.add_protocol(component, host, bound, self._sockets[bound])
                     for host, bound in self.addresses.items() if self.udp_candidates]
        if self.tcp is not None:
            protocols += self.tcp.open_protocols(port, component)
        return protocols

    def watch_paths(self, connection: Connection, on_lost: Callable[[], None]) -> None:
        """Call ``on_lost`` (a bound method, held weakly) when ``connection``'s nominated pair
        loses its transport and no other valid pair is left (:meth:`MuxPort.path_closed`):
        the peer's consent watch ends it as for lost consent (streaming/consent.py)."""
        port = self.table.named(connection.local_username)
        if port is not None and port.connection is connection:
            port._on_lost = weakref.WeakMethod(on_lost)

    def remove(self, port: MuxPort) -> None:
        self.table.remove(port)
        if self.tcp is not None:
            self.tcp.forget(port)

    def _new_ufrag(self) -> str:
        while True:
            ufrag = "".join(secrets.choice(UFRAG_CHARS) for _ in range(UFRAG_LENGTH))
            if not self.table.has_ufrag(ufrag):
                return ufrag

    def count_drop(self, reason: Drop) -> None:
        self.dropped[reason.value] += 1

    def send(self, port: MuxPort, data: bytes, addr: Address, sock: socket.socket) -> None:
        if data and data[0] <= 3:
            head = stun_head(data)
            if head is not None and head.cls is StunClass.REQUEST:
                self.table.asked(port, head.transaction)
            elif head is not None and head.cls is StunClass.SUCCESS:
                # aioice answers success only to a check it authenticated (RFC 8445 §7.3)
                self.table.bind(port, addr)
        if _family(addr[0]) != sock.family:
            self.send_errors += 1  # aioice pairs by family: a bug if it happens
            return
        try:
            sock.sendto(data, addr)
        except OSError:  # full buffer (STUN and DTLS retransmit) or an unreachable address
            self.send_errors += 1

    def _readable(self, sock: socket.socket, bound: str) -> None:
        for _ in range(READ_BURST):
            try:
                data, addr = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error reported on the socket: nothing to deliver
                continue
            self.deliver(data, (addr[0], addr[1]), bound)

    def deliver(self, data: bytes, addr: Address, bound: str) -> None:
        """Route one received datagram (see :mod:`streaming.mux_table`)."""
        self.received += 1
        first = data[0] if data else 255
        if 20 <= first <= 63 or 128 <= first <= 191:  # DTLS, RTP/RTCP: the per-packet path
            owner = self.table.owner_of(addr)
            if owner is None:
                self.count_drop(Drop.UNKNOWN_ADDRESS)
            else:
                owner.receive(data, addr, bound)
            return
        route = self.table.route(data, addr)
        port = route.owner
        if port is None:
            self.count_drop(route.drop or Drop.NOT_WEBRTC)
            return
        if (route.kind is Kind.STUN and route.head is not None
                and route.head.cls is StunClass.SUCCESS
                and self.table.owner_of(addr) is not port and port.authentic(data)):
            self.table.bind(port, addr)
        port.receive(data, addr, bound)

    def close(self) -> None:
        """Stop reading and close the sockets (the plane closed its peers first)."""
        if self.closed:
            return
        self.closed = True
        tcp, self.tcp = self.tcp, None  # it points back here: no cycle left for the collector
        if tcp is not None:
            tcp.close()
        for sock in self._sockets.values():
            self._loop.remove_reader(sock.fileno())
            sock.close()
        self._sockets.clear()
