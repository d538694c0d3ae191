"""Where one more viewer of a cascaded room goes (rooms/cluster/audience.py), as a table
(issue 13 §3: viewers placed on edges by load; depth 2 by the origin's edge fan-out limit).

``me`` is the node the viewer reached; ``o`` holds the room in every row. A node spec is
``"a=0.3"`` (``d``: draining, ``x``: not cascading). Rules: max_load 0.85,
origin_max_viewers 2, cascade_max_edges 2, unless a row says.
"""

from __future__ import annotations

from typing import Any

import pytest

from config import ClusterSettings
from rooms.cluster import NodeReport, Usage
from rooms.cluster.audience import Seat, seat
from rooms.cluster.placement import Here, There


def node(spec: str) -> NodeReport:
    name, _, rest = spec.partition("=")
    load = float(rest.rstrip("dx"))
    return NodeReport(name, f"http://{name}", load, Usage(cpu=load), draining="d" in rest,
                      cascade="x" not in rest)


ROWS: list[tuple[str, str, list[str], int, list[str], str | None, dict[str, Any], str]] = [
    # (why, me, others, my viewers of the room, edges I feed, caller's edge, rules, expected)
    ("origin under its viewer limit", "o=0.1", ["b=0.0"], 1, [], None, {}, "here"),
    ("origin at its viewer limit: the least-loaded edge", "o=0.1", ["b=0.4", "c=0.2"], 2,
     [], None, {}, "c"),
    ("origin over its load limit, few viewers", "o=0.9", ["b=0.4"], 0, [], None, {}, "b"),
    ("origin full, every other node over the limit: keeps the viewer", "o=0.1",
     ["b=0.9", "c=1.5"], 2, [], None, {}, "here"),
    ("a draining node takes no viewer", "o=0.1", ["b=0.0d", "c=0.5"], 2, [], None, {}, "c"),
    ("a node that does not cascade takes no viewer", "o=0.1", ["b=0.0x", "c=0.5"], 2, [],
     None, {}, "c"),
    ("ties go to the smaller id", "o=0.1", ["c=0.2", "b=0.2"], 5, [], None, {}, "b"),
    ("origin_max_viewers 0: every viewer to an edge", "o=0.0", ["b=0.5"], 0, [], None,
     {"origin_max_viewers": 0}, "b"),
    ("an edge under its limit serves the viewer", "b=0.3", ["o=0.1"], 40, [], None, {}, "here"),
    ("an edge over its limit: another node", "b=0.9", ["o=0.5", "c=0.2"], 0, [], None, {}, "c"),
    ("an edge over its limit: the origin may take it", "b=0.9", ["o=0.5x"], 0, [], None, {},
     "o"),
    ("an edge over its limit, all full: keeps it", "b=0.9", ["o=0.9"], 0, [], None, {}, "here"),
    ("origin feeds a first edge", "o=0.1", ["b=0.1"], 9, [], "b", {}, "here"),
    ("an edge pull is no viewer: origin at its viewer limit still feeds it", "o=0.9",
     ["b=0.1"], 9, ["c"], "b", {}, "here"),
    ("origin at its edge limit: the new edge pulls from the least-loaded edge", "o=0.1",
     ["b=0.5", "c=0.3", "d=0.0"], 0, ["b", "c"], "d", {}, "c"),
    ("a fed edge over its limit is the last choice", "o=0.1", ["b=0.9", "c=0.95", "d=0.0"], 0,
     ["b", "c"], "d", {}, "b"),
    ("a known edge re-pulling is fed again", "o=0.1", ["b=0.5", "c=0.3"], 0, ["b", "c"], "b",
     {}, "here"),
    ("edges fed are gone (no report): the origin feeds it", "o=0.1", ["d=0.0"], 0, ["b", "c"],
     "d", {}, "here"),
    ("an edge feeds a deeper edge", "b=0.5", ["o=0.1"], 3, [], "c", {}, "here"),
]


@pytest.mark.parametrize(("why", "me", "others", "viewers", "edges", "edge", "rules",
                          "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_seat(why: str, me: str, others: list[str], viewers: int, edges: list[str],
              edge: str | None, rules: dict[str, Any], expected: str) -> None:
    settings = ClusterSettings(**{"origin_max_viewers": 2, "cascade_max_edges": 2, **rules})
    decision = seat(Seat(node(me), "o", [node(n) for n in others], viewers, edges, edge),
                    settings)
    if expected == "here":
        assert decision == Here()
    else:
        assert isinstance(decision, There) and decision.node.node_id == expected


def test_a_report_says_whether_its_node_cascades() -> None:
    report = NodeReport("a", "http://a", 0.1, Usage(), cascade=True)
    assert NodeReport.from_json(report.to_json()) == report
    old = report.to_json().replace(', "cascade": true', "")  # a node of the previous release
    assert NodeReport.from_json(old).cascade is False
