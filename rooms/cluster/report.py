"""What a node says about itself every report interval: its usage, its load, whether it drains.

:class:`Usage` is one sample of what the node serves (taken by the composition root from the
media plane and the Socket.IO hub, which rooms/ cannot import); :func:`load_of` turns it into
the one figure placement compares; :class:`NodeReport` is what goes to the node directory
(JSON, with a TTL, so a dead node drops out: docs/state.md).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from config import ClusterSettings


@dataclass(frozen=True, slots=True)
class Usage:
    """One sample of what a node serves now (rates over the last report interval)."""

    cpu: float = 0.0  # CPU seconds per second of the node's process
    publishers: int = 0  # media peers sending to the node
    viewers: int = 0  # media peers the node sends to
    packets_per_s: float = 0.0  # RTP/RTCP sent to viewers
    egress_bps: float = 0.0  # bits per second sent to viewers
    sessions: int = 0  # Socket.IO sessions (connected or resumable)
    rooms: int = 0  # rooms whose media lease the node holds

    @property
    def peers(self) -> int:
        return self.publishers + self.viewers


def load_of(usage: Usage, limits: ClusterSettings) -> float:
    """The node's scarcest resource as a fraction of one node's capacity (1.0: full).

    CPU counts against one core (a node is one Python process); peers, sessions and egress
    against their configured capacities. The largest wins: a node with idle CPU but 300 viewers
    is as full as one burning a core, and a fresh peer shows in the count at once, before its
    CPU cost shows in the next sample.
    """
    return max(
        usage.cpu,
        usage.peers / limits.peer_capacity,
        usage.sessions / limits.session_capacity,
        usage.egress_bps / (limits.egress_capacity_mbps * 1e6),
    )


@dataclass(frozen=True, slots=True)
class NodeReport:
    """A node's last report: who, where, how loaded, and whether it is leaving."""

    node_id: str
    url: str
    load: float
    usage: Usage
    draining: bool = False
    reported_at: float = 0.0  # unix time of the report
    cascade: bool = False  # serves viewers of rooms held elsewhere (``[cluster] cascade``)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "usage": asdict(self.usage)})

    @classmethod
    def from_json(cls, text: str) -> NodeReport:
        data: dict[str, Any] = json.loads(text)
        return cls(node_id=str(data["node_id"]), url=str(data["url"]),
                   load=float(data["load"]), usage=Usage(**data["usage"]),
                   draining=bool(data["draining"]), reported_at=float(data["reported_at"]),
                   cascade=bool(data.get("cascade", False)))

    def to_dict(self) -> dict[str, Any]:
        """The admin API's view (docs/admin-api.md, ``GET /api/admin/nodes``)."""
        u = self.usage
        return {"id": self.node_id, "url": self.url, "load": round(self.load, 3),
                "rooms": u.rooms, "viewers": u.viewers, "draining": self.draining,
                "cpu": round(u.cpu, 3), "publishers": u.publishers, "peers": u.peers,
                "sessions": u.sessions, "packets_per_s": round(u.packets_per_s, 1),
                "egress_bps": round(u.egress_bps), "reported_at": self.reported_at}


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the composition root reads from the media plane and the hub for one report:
    counts now, and the plane's all-time send totals (the reporter turns them into rates)."""

    publishers: int = 0
    viewers: int = 0
    sessions: int = 0
    rooms: int = 0
    sent_packets: int = 0
    sent_bytes: int = 0
