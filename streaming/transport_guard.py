"""Foreign sources: only the peer's proven ICE addresses may feed its DTLS and SRTP.

aioice hands every datagram that is not STUN, from any address, to aiortc's DTLS transport, so
a DTLS ClientHello or an RTP/RTCP packet sent to a peer's port from somewhere else would reach
the session. RFC 7983 §7 tells the protocols apart by the first byte; in RFC 8445 a peer sends
data only on valid pairs (§12.1), a receiver takes data on any of its candidates but is wary of
what does not come from the selected pair (§12.2), and an address is in a valid pair only after
a STUN check authenticated with the ICE password succeeded with it (§7.2.5.3). Here, on each
local socket of a peer:

- STUN (first byte 0-3) always goes on to ICE, from any address: aioice checks its credentials,
  so a consent-checked new pair (ICE restart, renomination, RFC 8445 §7.3.1.5) still works;
- DTLS (20-63), RTP/RTCP (128-191) and anything else are kept only from the nominated pair's
  remote address, or from the remote address of another valid pair on that socket; everything
  else is dropped, also before any check succeeded, counted by kind for ``/metrics``
  (``pavilion_media_foreign_datagrams_total{kind}``) and logged at debug level, rate-limited.

Valid pairs besides the nominated one are kept because real clients send there: Chromium,
answering a server's offer as DTLS client, starts its handshake as soon as its own check of a
pair succeeded, before the node's ICE agent nominates one; dropping those delays every such
connection by a DTLS retransmission (seen in tests/pages/test_meeting_browser.py).

:func:`classify` and :func:`admitted` are pure, so a one-port demultiplexer (issue 19) applies
the same rule; :class:`TransportGuard` applies it to aioice's per-peer sockets
(streaming/aiortc_hooks.py ``filter_datagrams``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from aiortc.rtcdtlstransport import RTCDtlsTransport

from streaming import aiortc_hooks

Kind = Literal["stun", "dtls", "rtp", "other"]
KINDS: tuple[Kind, ...] = ("dtls", "rtp", "other")  # what may be dropped, as metric labels
LOG_INTERVAL_S = 10.0  # at most one debug line per peer this often
logger = logging.getLogger(__name__)

Address = tuple[str, int]


def classify(data: bytes) -> Kind:
    """The protocol of a datagram by its first byte (RFC 7983 §7; TURN channels never reach
    a peer's socket: aioice's TURN client unwraps them)."""
    if not data:
        return "other"
    first = data[0]
    if first < 4:
        return "stun"
    if 20 <= first < 64:
        return "dtls"
    if 128 <= first < 192:
        return "rtp"  # RTP and RTCP (RFC 5761 §4 tells them apart later)
    return "other"


def admitted(kind: Kind, source: Address, nominated: Address | None,
             valid: Callable[[Address], bool] = lambda _: False) -> bool:
    """Whether a datagram of ``kind`` from ``source`` may reach ICE, DTLS or SRTP, given the
    nominated pair's remote address on the socket it arrived on (None: none yet) and whether an
    address is that of another valid pair there (asked only when it is not the nominated one)."""
    return kind == "stun" or source == nominated or valid(source)


class ForeignCounts:
    """Datagrams dropped for coming from an address other than the nominated pair's, by kind
    (one per media plane; all time)."""

    def __init__(self) -> None:
        self.by_kind: dict[str, int] = dict.fromkeys(KINDS, 0)

    def add(self, kind: Kind) -> None:
        self.by_kind[kind] += 1

    def total(self) -> int:
        return sum(self.by_kind.values())


class TransportGuard:
    """The rule on every local socket of one peer's ICE connection.

    ``fast`` is the publisher intake's SRTP path (streaming/intake.py): it sees only datagrams
    this guard admitted, and returns True when it consumed one.
    """

    def __init__(self, dtls: RTCDtlsTransport, counts: ForeignCounts, peer_id: str) -> None:
        self.dtls = dtls
        self._nominated = aiortc_hooks.nominated_pairs(dtls)  # aioice's live dict
        self.counts = counts
        self.peer_id = peer_id
        self.dropped = 0
        self.fast: Callable[[bytes], bool] | None = None
        self._logged_at = 0.0
        self._unlogged = 0
        self._proven: set[tuple[int, Address]] = set()
        self._hooked: list[Any] = []

    def install(self) -> int:
        """Hook every local socket of the ICE connection; returns how many."""
        self._hooked = aiortc_hooks.filter_datagrams(self.dtls, self.on_datagram)
        return len(self._hooked)

    def uninstall(self) -> None:
        """Unhook the sockets and let go of the intake (the peer closed; issue 18 §5)."""
        aiortc_hooks.unfilter_datagrams(self._hooked)
        self._hooked = []
        self.fast = None

    def on_datagram(self, data: bytes, addr: Any, protocol: Any) -> bool:
        """True: consumed (dropped, or taken by ``fast``); False: on to aioice as before.

        The usual case (media from the nominated pair) is inlined: a dict lookup and a compare.
        """
        if data and data[0] < 4:
            return False  # STUN: to ICE, from anywhere
        pair = self._nominated.get(1)
        source = (addr[0], addr[1])  # an IPv6 four-tuple, as aioice does
        if pair is not None and pair.protocol is protocol and pair.remote_addr == source:
            return self.fast is not None and self.fast(data)
        return self._other(data, source, protocol)

    def _other(self, data: bytes, source: Address, protocol: Any) -> bool:
        """Not from the nominated pair: admitted from another valid pair, else dropped."""
        kind = classify(data)
        if not admitted(kind, source, None, lambda a: self._valid(protocol, a)):
            self._drop(kind, source)
            return True
        return self.fast is not None and self.fast(data)

    def _valid(self, protocol: Any, source: Address) -> bool:
        """A valid pair's address stays valid (no ICE restart here): remembered once found."""
        key = (id(protocol), source)
        if key in self._proven:
            return True
        if aiortc_hooks.valid_remote(self.dtls, protocol, source):
            self._proven.add(key)
            return True
        return False

    def _drop(self, kind: Kind, source: Address) -> None:
        self.dropped += 1
        self.counts.add(kind)
        now = time.monotonic()
        if now - self._logged_at < LOG_INTERVAL_S:
            self._unlogged += 1
            return
        logger.debug("peer %s: dropped a %s datagram from %s:%s, not its nominated pair"
                     " (%d more since the last line)", self.peer_id, kind, source[0], source[1],
                     self._unlogged)
        self._logged_at = now
        self._unlogged = 0
