"""Which node serves one more viewer of a cascaded room: a pure decision over the nodes' reports.

A broadcast's or forum's media lives on its *origin* (the lease holder); with ``[cluster]
cascade`` other nodes serve its viewers as *edges*, each from one upstream pulled from the
origin (docs/media.md "Cascade", issue 13 §3). :func:`seat` decides, seen from the node a
viewer reached (``Seat.me``), in this order:

1. **The origin, a viewer**: it serves the viewer itself while it serves fewer than
   ``origin_max_viewers`` viewers of the room, is under ``max_load`` and not draining. Past
   that, the least-loaded other cascading node under ``max_load`` (not draining) takes it; if
   none is under the limit, the origin keeps it (refusing a visitor helps nobody).
2. **The origin, an edge's pull**: it feeds at most ``cascade_max_edges`` edges of the room
   directly; a new edge's pull past that goes to the least-loaded live edge it already feeds
   (depth 2: that edge feeds the new one from its own upstream). A known edge pulling again
   (re-pull) is always fed here.
3. **An edge** (this node does not hold the room): it serves the viewer, or a deeper edge's
   pull, while under ``max_load`` and not draining; past that, a viewer goes to the
   least-loaded other cascading node under the limit (the origin included), else stays.

Edges' pulls are never counted as viewers. Ties go to the smaller node id, so every node picks
the same one; a node's own report is never a candidate for "another node".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from config import ClusterSettings
from rooms.cluster.placement import Decision, Here, There
from rooms.cluster.report import NodeReport


@dataclass(frozen=True, slots=True)
class Seat:
    """What one node knows when a viewer (or an edge's pull) of ``room`` reaches it."""

    me: NodeReport
    origin: str  # node id holding the room's lease
    others: Sequence[NodeReport] = ()  # the other nodes' last reports
    viewers: int = 0  # viewers of the room this node serves itself (edges' pulls excluded)
    edges: Sequence[str] = field(default=())  # node ids pulling the room from this node
    edge: str | None = None  # the caller's node id when the caller is an edge pulling

    @property
    def at_origin(self) -> bool:
        return self.me.node_id == self.origin


def seat(s: Seat, rules: ClusterSettings) -> Decision:
    """Where this viewer (or edge) is served, seen from ``s.me`` (the module's rules)."""
    if s.edge is not None:
        return _edge_pull(s, rules) if s.at_origin else Here()
    if _fits(s.me, rules) and (not s.at_origin or s.viewers < rules.origin_max_viewers):
        return Here()
    best = _least_loaded([n for n in _peers(s) if _fits(n, rules)])
    return Here() if best is None else There(best)


def _edge_pull(s: Seat, rules: ClusterSettings) -> Decision:
    if s.edge in s.edges or len(s.edges) < rules.cascade_max_edges:
        return Here()
    fed = [n for n in _peers(s) if n.node_id in s.edges and n.node_id != s.edge
           and not n.draining]
    best = _least_loaded([n for n in fed if n.load <= rules.max_load] or fed)
    return Here() if best is None else There(best)


def _peers(s: Seat) -> list[NodeReport]:
    """The other live cascading nodes (an edge is one; the origin always serves its room)."""
    return [n for n in s.others if n.node_id != s.me.node_id
            and (n.cascade or n.node_id == s.origin)]


def _fits(node: NodeReport, rules: ClusterSettings) -> bool:
    return not node.draining and node.load <= rules.max_load


def _least_loaded(nodes: Sequence[NodeReport]) -> NodeReport | None:
    return min(nodes, key=lambda n: (n.load, n.node_id), default=None)
