"""Each room's media health on this node, for the organiser's console (issue 18 §2).

Read every report interval (never per packet) from what the plane keeps anyway: a Source's
layers count the octets they received, a viewer's egress the bytes it sent, an intake leg's
receiver reports the fraction lost, a viewer's adaptation the loss its reports tell. The
:class:`HealthSampler` remembers the last totals so rates are over the interval, and when it
first saw each publisher: one that never sent a packet (a WHIP client that connected but sends
no media, an RTMP encoder that announced its tracks and froze) is quiet since then, so the
console's ``publisher_quiet`` alert covers it too. RTMP publishers (the plane's local
publishers) count as publishers with their bitrate like WHIP ones. The composition root turns
these figures into rooms' ``RoomHealth`` (rooms/cluster/health.py).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from streaming.intake import IntakeLeg
from streaming.local_publisher import LocalPublisher
from streaming.peer import Peer
from streaming.plane import MediaPlane
from streaming.publisher import PublisherLeg
from streaming.source import Source
from streaming.viewer import ViewerLeg
from streaming.viewer_adapt import LOSSY


@dataclass(frozen=True, slots=True)
class LinkFigures:
    identity: str
    peer: str
    direction: str  # "publish" | "view"
    bitrate_bps: int
    loss: float
    weak: bool
    keyframe_requests: int = 0
    layers: tuple[tuple[str, str], ...] = ()  # (track id, the layer it gets: rid, "" none)
    rtt_ms: float | None = None  # consent checks' smoothed round trip; None: none answered yet


@dataclass(slots=True)
class RoomFigures:
    room: str
    publishers: int = 0
    viewers: int = 0
    bitrate_bps: int = 0
    loss: float = 0.0
    keyframe_requests: int = 0
    weak_viewers: int = 0
    recording: bool = False
    hls: bool = False
    quiet_s: float | None = None
    links: list[LinkFigures] = field(default_factory=list)


class HealthSampler:
    """Per-room figures of one plane, rates over the span since the last :meth:`sample`."""

    def __init__(self, plane: MediaPlane) -> None:
        self.plane = plane
        self._totals: dict[str, int] = {}  # peer id -> octets (received or sent) at last sample
        self._seen: dict[str, float] = {}  # publisher's peer id -> when a sample first saw it
        self._at = 0.0

    def sample(self) -> list[RoomFigures]:
        now = asyncio.get_running_loop().time()
        span, self._at = (now - self._at if self._at else 0.0), now
        rooms: dict[str, RoomFigures] = defaultdict(lambda: RoomFigures(""))
        totals: dict[str, int] = {}
        seen: dict[str, float] = {}
        legs: list[Peer | LocalPublisher] = [*self.plane.peers.values(),
                                             *self.plane.locals.values()]
        for peer in legs:
            figures = rooms[peer.room]
            if isinstance(peer, ViewerLeg):
                link = self._viewer(peer, span, totals)
                figures.viewers += 1
                figures.weak_viewers += link.weak
                figures.keyframe_requests += link.keyframe_requests
            elif isinstance(peer, PublisherLeg | LocalPublisher):
                link = self._publisher(peer, span, totals)
                seen[peer.peer_id] = self._seen.get(peer.peer_id, now)
                figures.publishers += 1
                figures.bitrate_bps += link.bitrate_bps
                figures.loss = max(figures.loss, link.loss)
            else:
                continue
            figures.links.append(link)
        self._totals, self._seen = totals, seen
        for room, figures in rooms.items():
            figures.room = room
            self._room_state(figures, now)
        return [rooms[r] for r in sorted(rooms)]

    def _viewer(self, leg: ViewerLeg, span: float, totals: dict[str, int]) -> LinkFigures:
        sent = leg.tally().sent_bytes
        totals[leg.peer_id] = sent
        loss = leg.adaptation.loss
        layers = tuple((source.source_id, _layer_name(source, sub.layer))
                       for source, sub in leg.subscriptions if source.kind == "video")
        return LinkFigures(leg.participant, leg.peer_id, "view",
                           _rate(sent, self._totals.get(leg.peer_id), span), round(loss, 4),
                           loss > LOSSY, leg.keyframe_requests, layers, leg.rtt_ms)

    def _publisher(self, leg: IntakeLeg | LocalPublisher, span: float,
                   totals: dict[str, int]) -> LinkFigures:
        sources = [i.source for i in leg.inbounds if i.source is not None]
        received = sum(layer.octets for s in sources for layer in s.layers)
        totals[leg.peer_id] = received
        loss, rtt = 0.0, None  # a local (RTMP) publisher: TCP, no RTCP, no consent checks
        if isinstance(leg, IntakeLeg):
            loss = max((e.loss for i in leg.inbounds for e in i.encodings()), default=0) / 256
            rtt = leg.rtt_ms
        layers = tuple((s.source_id, ",".join(x.rid for x in s.layers if x.rid)) for s in sources)
        return LinkFigures(leg.participant, leg.peer_id, "publish",
                           _rate(received, self._totals.get(leg.peer_id), span),
                           round(loss, 4), loss > LOSSY, 0, layers, rtt)

    def _room_state(self, figures: RoomFigures, now: float) -> None:
        plane = self.plane
        figures.recording = plane.recording_of(figures.room) is not None
        figures.hls = figures.room in plane.packagers
        sources = [s for s in plane.sources.get(figures.room, {}).values() if not s.relayed]
        arrivals = [layer.last_arrival for s in sources for layer in s.layers]
        if arrivals and max(arrivals) > 0:
            figures.quiet_s = round(max(0.0, now - max(arrivals)), 2)
        elif figures.publishers:  # publishing, never a packet: quiet since it first showed
            first = min(self._seen[x.peer] for x in figures.links if x.peer in self._seen)
            figures.quiet_s = round(max(0.0, now - first), 2)


def _rate(total: int, before: int | None, span: float) -> int:
    if before is None or span <= 0:
        return 0
    return int(max(0, total - before) * 8 / span)


def _layer_name(source: Source, index: int) -> str:
    if index < 0 or index >= len(source.layers):
        return ""
    return source.layers[index].rid or "main"
