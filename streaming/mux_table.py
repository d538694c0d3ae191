"""Who a datagram on the node's one UDP port belongs to: the pure demultiplexing rules.

No sockets here (streaming/udp_mux.py does the I/O). The first byte says what a datagram is
(RFC 7983 §7): 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP; anything else is dropped.

- A STUN binding *request* goes to the ICE agent whose local ufrag is the first half of its
  USERNAME (``<our ufrag>:<their ufrag>``, RFC 8445 §7.2.2); that agent checks the
  MESSAGE-INTEGRITY and answers. The source address is not trusted for this.
- A STUN *response* goes to the agent that sent the request (by transaction id).
- A remote address is *bound* to an agent only when ICE validated it (:meth:`DemuxTable.bind`:
  the agent answered a request from it with a success response, or a response from it carried
  valid MESSAGE-INTEGRITY); DTLS, RTP, RTCP and STUN indications route by bound address only,
  so a datagram from anywhere else is dropped and counted, never handed to a session.
- An address moves to another agent only by that agent's own ICE validation. Every map is
  bounded; an agent's entries go when it is removed.
"""

from __future__ import annotations

import enum
import struct
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

Owner = TypeVar("Owner", bound=Hashable)
Address = tuple[str, int]

STUN_HEADER = 20
MAGIC_COOKIE = 0x2112A442
ATTR_USERNAME = 0x0006
MAX_ADDRESSES_PER_OWNER = 8  # valid pairs per agent: host v4/v6, reflexive, relay, a move
MAX_TRANSACTIONS = 8_192  # outstanding STUN requests of the whole node (LRU)


class Kind(enum.Enum):
    STUN = "stun"
    DTLS = "dtls"
    RTP = "rtp"  # RTP and RTCP (RFC 5761 multiplexing)
    OTHER = "other"


class StunClass(enum.IntEnum):
    REQUEST = 0
    INDICATION = 1
    SUCCESS = 2
    ERROR = 3


class Drop(enum.Enum):
    """Why a datagram was dropped: the ``reason`` label of the dropped-datagram counter."""

    NOT_WEBRTC = "not_webrtc"  # first byte outside RFC 7983's ranges
    MALFORMED_STUN = "malformed_stun"
    UNKNOWN_USERNAME = "unknown_username"  # a request for no agent of this node
    UNKNOWN_TRANSACTION = "unknown_transaction"  # a response to nothing we asked
    UNKNOWN_ADDRESS = "unknown_address"  # DTLS/RTP/indication from no validated address
    # ICE-TCP (streaming/tcp_mux.py): why a connection was closed, or a frame not written
    TCP_NOT_STUN = "tcp_not_stun"  # first message not a STUN Binding request
    TCP_UNKNOWN_USERNAME = "tcp_unknown_username"  # ... naming no agent of this node
    TCP_FRAME_TOO_LARGE = "tcp_frame_too_large"  # a length over the limit (RFC 4571)
    TCP_TIMEOUT = "tcp_timeout"  # sent something, but not validated by ICE in time
    TCP_UNUSED = "tcp_unused"  # sent nothing in that time (a browser that found UDP does so)
    TCP_PENDING_FULL = "tcp_pending_full"  # too many connections not validated yet
    TCP_TOO_MANY = "tcp_too_many"  # an agent holds as many connections as it may
    TCP_WRITE_FULL = "tcp_write_full"  # a STUN/DTLS/RTCP frame over the write buffer's bound


def classify(first: int) -> Kind:
    """RFC 7983 §7 on the first byte of a datagram."""
    if first <= 3:
        return Kind.STUN
    if 20 <= first <= 63:
        return Kind.DTLS
    if 128 <= first <= 191:
        return Kind.RTP
    return Kind.OTHER


@dataclass(frozen=True, slots=True)
class StunHead:
    """What demultiplexing needs of a STUN message: class, transaction id, USERNAME."""

    cls: StunClass
    transaction: bytes
    username: str | None


def stun_head(data: bytes) -> StunHead | None:
    """Parse a STUN header and find USERNAME (RFC 8489 §5, §14.3); ``None`` if malformed."""
    if len(data) < STUN_HEADER:
        return None
    kind, length, cookie = struct.unpack_from("!HHI", data)
    if cookie != MAGIC_COOKIE or length % 4 or STUN_HEADER + length > len(data):
        return None
    cls = StunClass(((kind >> 7) & 0x2) | ((kind >> 4) & 0x1))
    username = None
    offset, end = STUN_HEADER, STUN_HEADER + length
    while offset + 4 <= end:
        attr, size = struct.unpack_from("!HH", data, offset)
        if offset + 4 + size > end:
            return None
        if attr == ATTR_USERNAME:
            username = data[offset + 4:offset + 4 + size].decode("utf-8", "replace")
            break
        offset += 4 + size + (-size % 4)
    return StunHead(cls, bytes(data[8:STUN_HEADER]), username)


@dataclass(frozen=True, slots=True)
class Route(Generic[Owner]):
    """The owner a datagram goes to, or the reason it is dropped (exactly one is set)."""

    owner: Owner | None
    kind: Kind
    head: StunHead | None = None
    drop: Drop | None = None


class DemuxTable(Generic[Owner]):
    """ufrag → owner, validated remote address → owner, our request's transaction → owner."""

    def __init__(self, max_owners: int, max_transactions: int = MAX_TRANSACTIONS,
                 max_addresses: int = MAX_ADDRESSES_PER_OWNER) -> None:
        self.max_owners = max_owners
        self._max_transactions = max_transactions
        self._max_addresses = max_addresses
        self._by_ufrag: dict[str, Owner] = {}
        self._ufrags: dict[Owner, str] = {}
        self._by_address: dict[Address, Owner] = {}
        self._addresses: dict[Owner, OrderedDict[Address, None]] = {}
        self._transactions: OrderedDict[bytes, Owner] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ufrags)

    def has_ufrag(self, ufrag: str) -> bool:
        return ufrag in self._by_ufrag

    def add(self, owner: Owner, ufrag: str) -> None:
        """Register an ICE agent by its local ufrag (unique on the node; the caller picks)."""
        if ufrag in self._by_ufrag or owner in self._ufrags:
            raise ValueError(f"ICE ufrag {ufrag!r} or its agent is already registered")
        if len(self._ufrags) >= self.max_owners:
            raise OverflowError("the UDP mux holds as many ICE agents as it may")
        self._by_ufrag[ufrag] = owner
        self._ufrags[owner] = ufrag
        self._addresses[owner] = OrderedDict()

    def remove(self, owner: Owner) -> None:
        """Forget an agent and every address and transaction bound to it (idempotent)."""
        ufrag = self._ufrags.pop(owner, None)
        if ufrag is not None:
            del self._by_ufrag[ufrag]
        for address in self._addresses.pop(owner, {}):
            if self._by_address.get(address) == owner:
                del self._by_address[address]
        for transaction in [t for t, o in self._transactions.items() if o == owner]:
            del self._transactions[transaction]

    def bind(self, owner: Owner, address: Address) -> None:
        """ICE validated ``address`` for ``owner``: route its datagrams there from now on."""
        mine = self._addresses.get(owner)
        if mine is None:
            return  # removed meanwhile
        previous = self._by_address.get(address)
        if previous is not None and previous != owner:
            self._addresses[previous].pop(address, None)
        self._by_address[address] = owner
        mine[address] = None
        mine.move_to_end(address)
        while len(mine) > self._max_addresses:
            stale, _ = mine.popitem(last=False)
            if self._by_address.get(stale) == owner:
                del self._by_address[stale]

    def asked(self, owner: Owner, transaction: bytes) -> None:
        """``owner`` sent a STUN request: its response is routed back by transaction id."""
        if owner not in self._ufrags:
            return
        self._transactions[transaction] = owner
        self._transactions.move_to_end(transaction)
        while len(self._transactions) > self._max_transactions:
            self._transactions.popitem(last=False)

    def named(self, username: str | None) -> Owner | None:
        """The agent whose local ufrag is the first half of ``username`` (``<ours>:<theirs>``,
        RFC 8445 §7.2.2), or None."""
        return self._by_ufrag.get((username or "").partition(":")[0])

    def owner_of(self, address: Address) -> Owner | None:
        return self._by_address.get(address)

    def owners(self) -> list[Owner]:
        return list(self._ufrags)

    def addresses(self, owner: Owner) -> list[Address]:
        return list(self._addresses.get(owner, ()))

    def transactions(self) -> int:
        return len(self._transactions)

    def route(self, data: bytes, address: Address) -> Route[Owner]:
        """Where ``data`` from ``address`` goes (see the module's rules)."""
        kind = classify(data[0]) if data else Kind.OTHER
        if kind is Kind.OTHER:
            return Route(None, kind, drop=Drop.NOT_WEBRTC)
        if kind is not Kind.STUN:
            return self._by_bound(kind, address, None)
        head = stun_head(data)
        if head is None:
            return Route(None, kind, drop=Drop.MALFORMED_STUN)
        if head.cls is StunClass.REQUEST:
            owner = self.named(head.username)
            if owner is None:
                return Route(None, kind, head, Drop.UNKNOWN_USERNAME)
            return Route(owner, kind, head)
        if head.cls is StunClass.INDICATION:
            return self._by_bound(kind, address, head)
        owner = self._transactions.pop(head.transaction, None)
        if owner is None:
            return Route(None, kind, head, Drop.UNKNOWN_TRANSACTION)
        return Route(owner, kind, head)

    def _by_bound(self, kind: Kind, address: Address, head: StunHead | None) -> Route[Owner]:
        owner = self._by_address.get(address)
        if owner is None:
            return Route(None, kind, head, Drop.UNKNOWN_ADDRESS)
        return Route(owner, kind, head)
