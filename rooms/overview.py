"""The organiser's overview of the expo (issue 18 §2, §7): every live room with its health,
every node with its load, and the alerts; and one room's detail with each participant's
connection quality. Pure functions over what :class:`~rooms.organiser.OrganiserDesk` reads
(rooms from the Store, health and reports from the node directory), so the admin API's
``GET /api/admin/overview`` and the console's Socket.IO snapshots are one answer.
"""

from __future__ import annotations

from typing import Any

from config import ClusterSettings
from rooms.cluster.alerts import Alert, node_alerts, room_alerts
from rooms.cluster.health import LinkHealth, RoomDetail, RoomHealth, merge_summaries
from rooms.cluster.report import NodeReport
from rooms.participant import Participant
from rooms.room import Room, RoomKind, RoomState

DEFAULT_LIMIT = 50
MAX_LIMIT = 200  # one page of a big expo's rooms; the console pages through the rest
MAX_PARTICIPANTS = 200
MAX_ALERTS = 200  # the worst first: nodes, then the rooms in the overview's order
MEETING_OPENS_EARLY_S = 300.0  # a meeting's join links open 5 min early (docs/meetings-api.md)


def on_air(room: Room, now: float) -> bool:
    """Whether the overview lists ``room``: a live broadcast or forum, or a trade meeting in
    its session (from its join links' opening to its end plus grace). A meeting's room is
    never ``live``: it stays ``scheduled`` until it ends, yet the organiser wants to see who
    talks, or who did not come, while it runs."""
    if room.state is RoomState.LIVE:
        return True
    if room.kind is not RoomKind.MEETING or room.state is not RoomState.SCHEDULED:
        return False
    if room.starts_at is None or room.ends_at is None:
        return False
    return room.starts_at.timestamp() - MEETING_OPENS_EARLY_S <= now < room.ends_at.timestamp()


def _row(room: Room, present: int, health: RoomHealth | None,
         found: list[Alert]) -> dict[str, Any]:
    return {"id": room.id, "kind": room.kind.value, "pavilion": room.pavilion.value,
            "title": room.title.as_dict(), "state": room.state.value, "locked": room.locked,
            "present": present, "node": None if health is None else health.node,
            "health": None if health is None else health.to_dict(),
            "alerts": [a.to_dict() for a in found]}


Listed = tuple[Room, int, RoomHealth | None, list[Alert]]


def _rank(item: Listed) -> tuple[int, int, str]:
    room, _, health, found = item
    return (-len(found), -(health.viewers if health is not None else 0), room.id)


def overview(rooms: list[tuple[Room, int]], health: list[RoomHealth], nodes: list[NodeReport],
             rules: ClusterSettings, *, offset: int = 0,
             limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Rooms (those in trouble first, then the most watched), one page of them; every node;
    every alert (also of rooms beyond this page). Only the page's rows are built."""
    by_room = merge_summaries(health)
    listed: list[Listed] = []
    for room, present in rooms:
        summary = by_room.get(room.id)
        listed.append((room, present, summary,
                       [] if summary is None else room_alerts(summary, rules)))
    listed.sort(key=_rank)
    limit = max(1, min(limit, MAX_LIMIT))
    found = [a for n in nodes for a in node_alerts(n, rules)]
    found += [a for item in listed for a in item[3]]
    return {"rooms": [_row(*item) for item in listed[offset:offset + limit]],
            "total": len(listed), "offset": offset, "limit": limit,
            "nodes": [n.to_dict() for n in nodes],
            "alerts": [a.to_dict() for a in found[:MAX_ALERTS]], "alerts_total": len(found)}


def room_health(room: Room, people: list[Participant], detail: RoomDetail | None,
                rules: ClusterSettings) -> dict[str, Any]:
    """One room: its summary, its alerts, and each participant with their media links
    (what they send or get, the loss, the layer each viewer gets); a link whose identity is
    not a present participant (a WHEP viewer, an edge) is listed with ``present: false``."""
    links = list(detail.links) if detail is not None else []
    by_identity: dict[str, list[LinkHealth]] = {}
    for link in links:
        by_identity.setdefault(link.identity, []).append(link)
    rows = [{**p.to_dict(), "present": True,
             "links": [x.to_dict() for x in by_identity.pop(p.identity, [])]}
            for p in people[:MAX_PARTICIPANTS]]
    rows += [{"identity": identity, "present": False, "links": [x.to_dict() for x in found]}
             for identity, found in sorted(by_identity.items())]
    health = None if detail is None else detail.health
    return {"room": room.id, "kind": room.kind.value, "state": room.state.value,
            "node": None if health is None else health.node,
            "health": None if health is None else health.to_dict(),
            "alerts": [] if health is None else [a.to_dict() for a in room_alerts(health, rules)],
            "participants": rows}
