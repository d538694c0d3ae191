"""Which node takes a room nobody holds yet: a pure decision over the nodes' last reports.

The rules (DESIGN.md §9, docs/deploy.md "Placement"), in order:

1. A draining node takes no new room: the least-loaded other node that is under its limit
   does, else the least-loaded other node at all, else nobody (``Nowhere``: media_unavailable).
2. A node over ``max_load`` takes no new room if another node under the limit can: the
   least-loaded of those does. If none is under it, the margin rule below decides among all
   (as LiveKit falls back to every node): refusing a visitor helps nobody when all are full.
3. Otherwise another node takes it only if its load is lower by more than
   ``placement_margin``: small differences are noise, and a margin keeps two nodes from
   sending a client back and forth. Each node decides from the same reports, so a client
   redirected once is not redirected again unless loads moved by more than the margin.

``placement = "first"`` keeps only rule 1: whoever sees the first client takes the room.
Ties go to the smaller node id, so every node picks the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config import ClusterSettings
from rooms.cluster.report import NodeReport


@dataclass(frozen=True, slots=True)
class Here:
    """This node takes the room."""


@dataclass(frozen=True, slots=True)
class There:
    """Another node should take it: send the client there."""

    node: NodeReport


@dataclass(frozen=True, slots=True)
class Nowhere:
    """No node can take a new room now (this one drains and it is alone)."""


Decision = Here | There | Nowhere


def choose(me: NodeReport, others: Sequence[NodeReport], rules: ClusterSettings) -> Decision:
    """Where a new room goes, seen from ``me`` (see the module's rules)."""
    live = sorted((n for n in others if n.node_id != me.node_id and not n.draining),
                  key=lambda n: (n.load, n.node_id))
    roomy = [n for n in live if n.load <= rules.max_load]
    if me.draining:
        best = _first(roomy or live)
        return Nowhere() if best is None else There(best)
    if rules.placement == "first":
        return Here()
    if me.load > rules.max_load and roomy:
        return There(roomy[0])
    best = _first(roomy or live)
    if best is not None and best.load + rules.placement_margin < me.load:
        return There(best)
    return Here()


def _first(nodes: Sequence[NodeReport]) -> NodeReport | None:
    return nodes[0] if nodes else None


def successor(me: NodeReport, others: Sequence[NodeReport],
              rules: ClusterSettings) -> NodeReport | None:
    """Where a draining node sends its clients: the node rule 1 would pick, or None."""
    leaving = NodeReport(me.node_id, me.url, me.load, me.usage, draining=True)
    decision = choose(leaving, others, rules)
    return decision.node if isinstance(decision, There) else None
