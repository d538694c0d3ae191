"""Subscription: one viewer of one Source (DESIGN.md §3's "down track").

It holds what differs per viewer: the viewer's SSRC and payload type, the header extension id
table, the :class:`~streaming.forwarder.Forwarder` offsets, the :class:`~streaming.egress.Egress`
it sends through, whether it waits for a keyframe, and the counters a sender report needs.
The Source's fan-out loop reads these attributes directly; this class adds no per-packet calls.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from dataclasses import dataclass, replace
from itertools import count
from struct import pack

from streaming.egress import Egress
from streaming.forwarder import Forwarder
from streaming.rtp_header import extension_map_table

RTCP_SR = 200
RTCP_SDES = 202
RTCP_BYE = 203
SDES_CNAME = 1


MID = "urn:ietf:params:rtp-hdrext:sdes:mid"  # values differ per peer: never forwarded


@dataclass(frozen=True, slots=True)
class Route:
    """How a viewer receives one Source: its payload type, SSRC and extension id table."""

    payload_type: int
    ssrc: int
    extension_table: bytes  # 256 bytes, see streaming.rtp_header.extension_map_table
    clock_rate: int
    viewer_extensions: tuple[tuple[str, int], ...] = ()
    cname: str = ""  # the viewer peer's CNAME, as its SDP announces (a=ssrc:... cname:)


def sdes_cname(ssrc: int, cname: str) -> bytes:
    """An RTCP SDES packet with one chunk: ``ssrc``'s CNAME (RFC 3550 §6.5, §6.5.1).

    Every compound RTCP packet carries one (RFC 3550 §6.1); the items end with a null octet and
    the chunk is padded to 32 bits.
    """
    text = cname.encode()[:255]
    chunk = pack("!IBB", ssrc, SDES_CNAME, len(text)) + text + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return pack("!BBH", 0x81, RTCP_SDES, len(chunk) // 4) + chunk


def extension_table(source_ids: dict[str, int], viewer_ids: dict[str, int]) -> bytes:
    """Publisher id -> viewer id for every extension both negotiated (``mid`` excluded)."""
    mapping = {
        source_id: viewer_ids[uri]
        for uri, source_id in source_ids.items()
        if uri in viewer_ids and uri != MID
    }
    return extension_map_table(mapping)


TEMPLATE_KEYS_KEPT = 65_536  # interned keys: far more than a node's viewers switch at once
_template_keys: OrderedDict[tuple[object, int, int], int] = OrderedDict()
_next_key = count(1)


def template_key(group: tuple[int, bytes], pid_offset: int, tl0_offset: int) -> int:
    """One small int per (template group, VP8 PictureID and TL0PICIDX offsets): viewers with
    equal keys share one packet template in a fan-out. An int, not the tuple, because the loop
    looks it up for every copy (streaming/_fastsend.c): hashing and comparing nested tuples
    reached four or five objects per viewer, scattered over the heap (issue 19). Interned in
    a bounded table (least recently used goes first); a key interned again after leaving it
    gets a new number, so two viewers may hold different numbers for one template (they then
    get two equal templates), never one number for two."""
    raw = (group, pid_offset, tl0_offset)
    key = _template_keys.get(raw)
    if key is None:
        key = _template_keys[raw] = next(_next_key)
        if len(_template_keys) > TEMPLATE_KEYS_KEPT:
            _template_keys.popitem(last=False)
    else:
        _template_keys.move_to_end(raw)
    return key


try:  # the compiled fan-out reads these in place (streaming/_fastsend.c, issue 19)
    from streaming._fastsend import Counts as _Counts
except ImportError:  # not built: the same names in Python (the fallback, issue 19 §2)

    class _Counts:  # type: ignore[no-redef]
        __slots__ = ("octets", "packets", "ssrc", "waiting_keyframe")

        packets: int
        octets: int
        ssrc: int
        waiting_keyframe: bool


class Subscription(_Counts):
    """One viewer's copy of one track (its counters, SSRC and keyframe wait: ``_Counts``)."""

    __slots__ = (
        "egress",
        "ended",
        "forwarder",
        "group",
        "kind",
        "layer",
        "left_at",
        "left_layer",
        "out_pid",
        "out_tl0",
        "payload_type",
        "pid_offset",
        "route",
        "sdes",
        "started",
        "switch_seq",
        "switches",
        "template_key",
        "tl0_offset",
        "viewer_id",
    )

    def __init__(self, viewer_id: str, kind: str, route: Route, egress: Egress) -> None:
        self.viewer_id = viewer_id
        self.kind = kind
        self.route = route
        self.egress = egress
        self.ssrc = route.ssrc
        self.payload_type = route.payload_type
        self.sdes = sdes_cname(route.ssrc, route.cname) if route.cname else b""
        # viewers negotiating the same payload type and extension ids share one packet template
        self.group = (route.payload_type, route.extension_table)
        self.forwarder = Forwarder(random.getrandbits(16), random.getrandbits(32))
        self.waiting_keyframe = kind == "video"
        self.packets = 0
        self.octets = 0
        self.ended = False
        # simulcast (issue 14 §2): the layer it gets (-1: none yet, or paused), where it left
        # the previous one, and the offsets that keep VP8 picture numbers continuous
        self.layer = -1
        self.started = False
        self.left_layer = -1
        self.left_at = 0.0
        self.switch_seq = -1  # first viewer sequence number on the current layer
        self.switches = 0  # layer changes after its first layer
        self.pid_offset = 0
        self.tl0_offset = 0
        self.out_pid = -1  # the last PictureID / TL0PICIDX this viewer was sent (-1: none)
        self.out_tl0 = -1
        # viewers with equal keys share one packet template in a simulcast VP8 fan-out
        self.template_key = template_key(self.group, 0, 0)

    @property
    def viewer_extensions(self) -> dict[str, int]:
        return dict(self.route.viewer_extensions)

    def set_extension_table(self, table: bytes) -> None:
        self.route = replace(self.route, extension_table=table)
        self.group = (self.route.payload_type, table)
        self.template_key = template_key(self.group, self.pid_offset, self.tl0_offset)

    def sender_report(self, ntp: int, source_ts: int) -> bytes:
        """A compound RTCP packet: SR (RFC 3550 §6.4.1) in the viewer's SSRC and timestamp
        space, then the SDES with the viewer peer's CNAME (§6.1).

        NTP time is the publisher's, so audio and video of one publisher stay in sync at the
        player; the RTP timestamp is translated by this viewer's offset.
        """
        return pack(
            "!BBHIQIII",
            0x80,
            RTCP_SR,
            6,
            self.ssrc,
            ntp,
            self.forwarder.viewer_ts(source_ts),
            self.packets & 0xFFFFFFFF,
            self.octets & 0xFFFFFFFF,
        ) + self.sdes

    def bye(self) -> bytes:
        """An RTCP BYE (RFC 3550 §6.6): the player ends the track at once."""
        return pack("!BBHI", 0x81, RTCP_BYE, 1, self.ssrc)
