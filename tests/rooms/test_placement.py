"""Where a room nobody holds goes (rooms/cluster/placement.py), as a table (issue 13).

``me`` is the node asked to claim; the others are their last reports. Loads are fractions of a
node's capacity; the rules are the defaults (max_load 0.85, margin 0.2) unless a row says.
"""

from __future__ import annotations

from typing import Any

import pytest

from config import ClusterSettings
from rooms.cluster import NodeReport, Usage, load_of
from rooms.cluster.placement import Here, Nowhere, There, choose, successor


def node(spec: str) -> NodeReport:
    """``"a=0.3"``, ``"b=0.1d"`` (draining)."""
    name, _, rest = spec.partition("=")
    draining = rest.endswith("d")
    load = float(rest.rstrip("d"))
    return NodeReport(name, f"http://{name}", load, Usage(cpu=load), draining=draining)


ROWS: list[tuple[str, str, list[str], dict[str, Any], str]] = [
    # (why, me, others, rules, expected: "here", "nowhere" or the node chosen)
    ("alone, idle", "a=0.1", [], {}, "here"),
    ("alone, over its limit: refusing helps nobody", "a=2.0", [], {}, "here"),
    ("alone and draining", "a=0.1d", [], {}, "nowhere"),
    ("others idle too: within the margin", "a=0.3", ["b=0.15", "c=0.2"], {}, "here"),
    ("another clearly lower", "a=0.5", ["b=0.2"], {}, "b"),
    ("the least loaded of the lower ones", "a=0.6", ["b=0.3", "c=0.1", "d=0.2"], {}, "c"),
    ("ties go to the smaller id", "a=0.6", ["c=0.1", "b=0.1"], {}, "b"),
    ("a draining node is never chosen", "a=0.6", ["b=0.0d", "c=0.3"], {}, "c"),
    ("a wider margin keeps the room here", "a=0.5", ["b=0.2"], {"placement_margin": 0.4},
     "here"),
    ("over the limit: any node under it, margin or not", "a=0.9", ["b=0.8"], {}, "b"),
    ("over, all over: the margin rule among all", "a=3.0", ["b=1.0", "c=2.9"], {}, "b"),
    ("over, all over, within the margin", "a=1.0", ["b=0.9"], {"max_load": 0.5}, "here"),
    ("draining: the least loaded under the limit", "a=0.0d", ["b=0.5", "c=0.9"], {}, "b"),
    ("draining: over-limit nodes if nothing else", "a=0.0d", ["b=1.5", "c=0.9"], {}, "c"),
    ("draining: draining nodes are no help", "a=0.0d", ["b=0.1d"], {}, "nowhere"),
    ("'first': whoever is asked takes it", "a=0.9", ["b=0.0"], {"placement": "first"}, "here"),
    ("'first' still drains", "a=0.9d", ["b=0.0"], {"placement": "first"}, "b"),
    ("its own stale report is not another node", "a=0.9", ["a=0.0"], {}, "here"),
]


@pytest.mark.parametrize(("why", "me", "others", "rules", "expected"), ROWS,
                         ids=[row[0] for row in ROWS])
def test_placement(why: str, me: str, others: list[str], rules: dict[str, Any],
                   expected: str) -> None:
    decision = choose(node(me), [node(o) for o in others], ClusterSettings(**rules))
    got = ("here" if isinstance(decision, Here) else "nowhere" if isinstance(decision, Nowhere)
           else decision.node.node_id if isinstance(decision, There) else "?")
    assert got == expected, why


def test_a_draining_node_sends_its_clients_where_a_new_room_would_go() -> None:
    rules = ClusterSettings()
    assert successor(node("a=0.9"), [node("b=0.4"), node("c=0.2")], rules) == node("c=0.2")
    assert successor(node("a=0.0"), [node("b=0.1d")], rules) is None


def test_load_is_the_scarcest_resource() -> None:
    rules = ClusterSettings(peer_capacity=100, session_capacity=1_000, egress_capacity_mbps=100)
    assert load_of(Usage(cpu=0.3), rules) == 0.3
    assert load_of(Usage(cpu=0.1, publishers=2, viewers=48), rules) == 0.5
    assert load_of(Usage(cpu=0.1, sessions=700), rules) == 0.7
    assert load_of(Usage(cpu=0.1, egress_bps=90e6), rules) == pytest.approx(0.9)
