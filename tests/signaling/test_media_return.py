"""``MediaWaits``: the joins owed their room's tracks once its media node is seen again (pure).

The whole path, with a real node frozen and thawed, is tests/cluster/test_node_stall.py.
"""

from __future__ import annotations

from signaling.media_return import MediaWait, MediaWaits


def test_a_wait_is_due_when_its_node_is_live_again_and_only_once() -> None:
    waits = MediaWaits()
    waits.note("node-a", "room-1", "s1", now=0.0)
    waits.note("node-b", "room-2", "s2", now=0.0)
    assert waits.due(["node-c"], now=1.0) == []
    assert waits.due(["node-a", "node-c"], now=2.0) == [MediaWait("node-a", "room-1", "s1", 0.0)]
    assert waits.due(["node-a"], now=3.0) == []
    assert len(waits) == 1


def test_a_wait_older_than_keep_goes_without_being_due() -> None:
    waits = MediaWaits(keep_s=60.0)
    waits.note("node-a", "room-1", "s1", now=0.0)
    waits.note("node-a", "room-1", "s2", now=30.0)
    assert waits.due([], now=61.0) == []
    assert [w.session_id for w in waits.due(["node-a"], now=62.0)] == ["s2"]


def test_a_session_joining_again_keeps_one_wait_with_the_newest_node() -> None:
    waits = MediaWaits()
    waits.note("node-a", "room-1", "s1", now=0.0)
    waits.note("node-b", "room-1", "s1", now=5.0)
    assert len(waits) == 1
    assert waits.due(["node-a"], now=6.0) == []
    assert waits.due(["node-b"], now=6.0) == [MediaWait("node-b", "room-1", "s1", 5.0)]


def test_waits_are_bounded_the_oldest_go_first() -> None:
    waits = MediaWaits(most=3)
    for n in range(5):
        waits.note("node-a", "room", f"s{n}", now=float(n))
    assert len(waits) == 3
    assert [w.session_id for w in waits.due(["node-a"], now=5.0)] == ["s2", "s3", "s4"]
