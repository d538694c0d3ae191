"""Which remote ICE candidates the node may send connectivity checks to (pure, table-tested).

A client's candidate is an address the node will send STUN binding requests to, and later
media (RFC 8445 §6.1.4, §7.2). Used as given, an offer turns the node into a reflector: checks
go to multicast groups, to the broadcast address, to the node's own loopback services, or into
the private network the node sits in. :func:`verdict` is the one decision, for candidates in an
offer (stripped before aiortc sees them) and trickled ones (RFC 8838) alike:

- always refused: unparsable lines (RFC 8839 §5.1 grammar), port 0 or above 65535, multicast
  (224.0.0.0/4, ff00::/8), the limited broadcast 255.255.255.255 and the rest of 240.0.0.0/4
  (RFC 1112 §4 reserved), unspecified / "this network" (0.0.0.0/8, ``::``), and host names
  (mDNS names too, below);
- refused unless configured (``MediaLimits``): loopback (127.0.0.0/8, ``::1``) with
  ``allow_loopback_candidates``; private and link-local ranges (RFC 1918, RFC 6598 shared
  100.64.0.0/10, RFC 3927 169.254.0.0/16, RFC 4193 fc00::/7, RFC 4291 fe80::/10) with
  ``allow_private_candidates``;
- TCP candidates (RFC 6544) of any ``tcptype``: the node never opens a connection (its own
  ICE-TCP candidates are passive, streaming/tcp_mux.py), so a check to one could only fail
  (a browser's active candidates all carry the discard port 9); a client that connects to the
  node's passive candidate is learned from its check on that connection, as below;
- mDNS names (``*.local``, draft-ietf-mmusic-mdns-ice-candidates) are never passed on, whatever
  the policy (issue 14 §7): aioice resolves them by multicast query with a 1 s timeout *before*
  aiortc returns the answer, so every Chromium viewer (a page without camera permission offers
  only such names) waited a second for nothing. The client's own checks reach the node from that
  address anyway, and the node learns it there as a peer-reflexive candidate (RFC 8445
  §7.3.1.3; draft-ietf-mmusic-mdns-ice-candidates §3.3.2 expects exactly this when a name
  cannot be resolved). Such a learned address answers a check that carried the session's ICE
  password, so it is no address a client could aim the node at.

An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is judged as the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                "169.254.0.0/16", "fc00::/7", "fe80::/10")
)
_UNSPECIFIED = ipaddress.ip_network("0.0.0.0/8")
_RESERVED = ipaddress.ip_network("240.0.0.0/4")  # 255.255.255.255 is its last address


@dataclass(frozen=True, slots=True)
class CandidatePolicy:
    """What the node's configuration allows beyond public unicast addresses."""

    allow_loopback: bool = False
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class RemoteCandidate:
    """The fields of a candidate line the decision needs (RFC 8839 §5.1)."""

    transport: str
    host: str
    port: int


def parse(line: str) -> RemoteCandidate:
    """The candidate of an ``a=candidate:`` line, a ``candidate:`` string, or the bare value.

    ``candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>``;
    raises ``ValueError`` with a sentence when the line does not have that shape.
    """
    text = line.strip().removeprefix("a=").removeprefix("candidate:")
    fields = text.split()
    if len(fields) < 8 or fields[6] != "typ":
        raise ValueError("an ICE candidate needs foundation, component, transport, priority,"
                         " address, port and 'typ <type>'")
    if not (fields[1].isdigit() and fields[3].isdigit() and fields[5].isdigit()):
        raise ValueError("an ICE candidate's component, priority and port must be numbers")
    return RemoteCandidate(fields[2].lower(), fields[4], int(fields[5]))


def verdict(line: str, policy: CandidatePolicy) -> str | None:
    """``None`` when the node may check the candidate; otherwise why not, in a few words."""
    try:
        candidate = parse(line)
    except ValueError:
        return "unparsable"
    if not 0 < candidate.port <= 65_535:
        return "port out of range"
    if candidate.transport == "tcp":
        return "tcp: the node connects to no one"  # learned from its check instead
    if candidate.host.lower().endswith(".local"):
        return "mDNS name"  # learned from the client's checks instead (module docstring)
    try:
        address = _unmapped(ipaddress.ip_address(candidate.host))
    except ValueError:
        return "not an IP address"
    return address_verdict(address, policy)


def address_verdict(address: Address, policy: CandidatePolicy) -> str | None:
    """The decision for one address (see the module docstring for the ranges)."""
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address in _UNSPECIFIED:
        return "unspecified"
    if address.version == 4 and address in _RESERVED:
        return "broadcast" if int(address) == 0xFFFF_FFFF else "reserved"
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if any(address in net for net in _PRIVATE if net.version == address.version):
        return None if policy.allow_private else "private"
    return None


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
