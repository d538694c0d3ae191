"""What a node says about the health of each room whose media it serves (issue 18 §2).

Every report interval the node that holds a room's media writes a compact
:class:`RoomHealth` per room (and, apart, each room's :class:`RoomDetail`: its participants'
connection quality) into the node directory with the reports' TTL, so the organiser's console
and ``GET /api/admin/overview`` on *any* node see every room of the expo. The figures are read
from the media plane by the composition root (rooms/ cannot import streaming/). JSON in, JSON
out: plain values, no behaviour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

MAX_ROOMS_PER_NODE = 500  # a node's summary stays one small key even at an expo's peak
MAX_PARTICIPANTS = 100  # a room's detail lists the worst links first, up to this many


@dataclass(frozen=True, slots=True)
class RoomHealth:
    """One room as its media node sees it now (rates over the last report interval)."""

    room: str
    node: str
    publishers: int = 0  # publishing peers (WHIP, Socket.IO, RTMP) here
    viewers: int = 0  # viewing peers here (WHEP, Socket.IO)
    bitrate_bps: int = 0  # what the publishers send, all tracks together
    loss: float = 0.0  # the worst fraction lost on a publisher's track (0..1)
    keyframe_requests: int = 0  # PLI/FIR the room's viewers sent (their connections' totals)
    weak_viewers: int = 0  # viewers whose link loses more than the adaptation tolerates
    recording: bool = False
    hls: bool = False
    quiet_s: float | None = None  # since the last packet (none yet: since the publisher came)
    reported_at: float = 0.0  # unix time

    def to_dict(self) -> dict[str, Any]:
        return {"room": self.room, "node": self.node, "publishers": self.publishers,
                "viewers": self.viewers, "bitrate_bps": self.bitrate_bps, "loss": self.loss,
                "keyframe_requests": self.keyframe_requests, "weak_viewers": self.weak_viewers,
                "recording": self.recording, "hls": self.hls, "quiet_s": self.quiet_s,
                "reported_at": self.reported_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomHealth:
        quiet = data.get("quiet_s")
        return cls(room=str(data["room"]), node=str(data["node"]),
                   publishers=int(data["publishers"]), viewers=int(data["viewers"]),
                   bitrate_bps=int(data["bitrate_bps"]), loss=float(data["loss"]),
                   keyframe_requests=int(data["keyframe_requests"]),
                   weak_viewers=int(data["weak_viewers"]), recording=bool(data["recording"]),
                   hls=bool(data["hls"]), quiet_s=None if quiet is None else float(quiet),
                   reported_at=float(data["reported_at"]))


@dataclass(frozen=True, slots=True)
class LinkHealth:
    """One media connection of a participant: what it sends or receives, and how well."""

    identity: str
    peer: str  # the media peer's id
    direction: str  # "publish" (they send to us) or "view" (we send to them)
    bitrate_bps: int = 0
    loss: float = 0.0  # fraction lost (0..1): their reports (view) or our reception (publish)
    weak: bool = False
    keyframe_requests: int = 0
    layers: dict[str, str] = field(default_factory=dict)  # track id -> layer it gets ("" none)
    rtt_ms: float | None = None  # round trip of the consent checks; None: not measured (yet)

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "peer": self.peer, "direction": self.direction,
                "bitrate_bps": self.bitrate_bps, "loss": self.loss, "weak": self.weak,
                "keyframe_requests": self.keyframe_requests, "layers": dict(self.layers),
                "rtt_ms": self.rtt_ms}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkHealth:
        return cls(identity=str(data["identity"]), peer=str(data["peer"]),
                   direction=str(data["direction"]), bitrate_bps=int(data["bitrate_bps"]),
                   loss=float(data["loss"]), weak=bool(data["weak"]),
                   keyframe_requests=int(data["keyframe_requests"]),
                   layers={str(k): str(v) for k, v in dict(data["layers"]).items()},
                   rtt_ms=_optional(data.get("rtt_ms")))  # absent: a node of an older release


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class RoomDetail:
    """A room's summary and its media connections, worst first (at most MAX_PARTICIPANTS)."""

    health: RoomHealth
    links: tuple[LinkHealth, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"health": self.health.to_dict(),
                           "links": [link.to_dict() for link in self.links]})

    @classmethod
    def from_json(cls, text: str) -> RoomDetail:
        data: dict[str, Any] = json.loads(text)
        return cls(RoomHealth.from_dict(data["health"]),
                   tuple(LinkHealth.from_dict(x) for x in data["links"]))


def worst_first(links: list[LinkHealth]) -> tuple[LinkHealth, ...]:
    """The links a room's detail keeps: weak ones first, then by loss, capped."""
    ranked = sorted(links, key=lambda x: (not x.weak, -x.loss, x.identity, x.peer))
    return tuple(ranked[:MAX_PARTICIPANTS])


def merge_summaries(health: list[RoomHealth]) -> dict[str, RoomHealth]:
    """One summary per room. A cascaded room (docs/media.md "Cascade") is reported by its
    origin and by each edge serving its viewers: the viewers, weak links and keyframe requests
    add up; the rest is the origin's (the node with its publishers)."""
    by_room: dict[str, RoomHealth] = {}
    for h in sorted(health, key=lambda h: (h.room, -h.publishers, h.node)):
        first = by_room.get(h.room)
        if first is None:
            by_room[h.room] = h
            continue
        by_room[h.room] = replace(first, viewers=first.viewers + h.viewers,
                                  weak_viewers=first.weak_viewers + h.weak_viewers,
                                  keyframe_requests=first.keyframe_requests + h.keyframe_requests)
    return by_room


def merge_details(details: list[RoomDetail]) -> RoomDetail | None:
    """One room's detail from every node that reported it (its origin and its edges, each
    under its own key): the merged summary, every node's links, worst first."""
    if not details:
        return None
    health = merge_summaries([d.health for d in details])[details[0].health.room]
    return RoomDetail(health, worst_first([x for d in details for x in d.links]))


def summaries_json(rooms: list[RoomHealth]) -> str:
    return json.dumps([r.to_dict() for r in rooms[:MAX_ROOMS_PER_NODE]])


def summaries_from_json(text: str) -> list[RoomHealth]:
    return [RoomHealth.from_dict(x) for x in json.loads(text)]
