"""The organiser console's alerts (issue 18 §2): pure functions over rooms' health summaries
and nodes' load reports, so the console, ``GET /api/admin/overview`` and the tests agree.

- ``publisher_quiet``: a room with a publisher whose tracks sent nothing for
  ``quiet_alert_s`` (a camera unplugged, OBS frozen, a link gone while the peer lingers);
- ``loss_high``: a publisher's track loses more than ``loss_alert`` of its packets (every
  viewer sees the damage);
- ``node_full``: a node's load is above ``max_load`` (it takes no new rooms; docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from config import ClusterSettings
from rooms.cluster.health import RoomHealth
from rooms.cluster.report import NodeReport


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # publisher_quiet | loss_high | node_full
    node: str
    room: str | None  # None: the node's own
    value: float  # the measured figure (seconds, fraction lost, load)
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "node": self.node, "room": self.room,
                "value": round(self.value, 3), "threshold": self.threshold}


def room_alerts(room: RoomHealth, rules: ClusterSettings) -> list[Alert]:
    """What is wrong with one room now (nothing: an empty list)."""
    found: list[Alert] = []
    if room.publishers and room.quiet_s is not None and room.quiet_s >= rules.quiet_alert_s:
        found.append(Alert("publisher_quiet", room.node, room.room, room.quiet_s,
                           rules.quiet_alert_s))
    if room.publishers and room.loss > rules.loss_alert:
        found.append(Alert("loss_high", room.node, room.room, room.loss, rules.loss_alert))
    return found


def node_alerts(node: NodeReport, rules: ClusterSettings) -> list[Alert]:
    if node.load > rules.max_load:
        return [Alert("node_full", node.node_id, None, node.load, rules.max_load)]
    return []


def alerts(rooms: Iterable[RoomHealth], nodes: Iterable[NodeReport],
           rules: ClusterSettings) -> list[Alert]:
    """Every alert: the nodes' first (a full node explains its rooms), then the rooms'."""
    found = [a for n in nodes for a in node_alerts(n, rules)]
    return found + [a for r in rooms for a in room_alerts(r, rules)]
