"""Presence after a Redis outage (issue 13 §6: "cross-node ... presence back within 5 s"): two
in-process nodes on one real redis-server, stopped and started again. Presence events cross
nodes over pub/sub, which loses what is published while a node's listener reconnects; each node
therefore re-sends its members the room's list (``presence.sync``, signaling/presence_sync.py)
once its listener is back. A member's view (the events and syncs it got, in order) holds the
person who joined on the other node right after Redis returned, within 5 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from rooms.participant import Participant, Role
from signaling.presence_sync import listing
from tests.cluster.test_redis_outage import BACK_WITHIN_S, ROOM, _join, _nodes
from tests.fixtures.redis_server import RedisServer
from tests.signaling.rtc_client import RtcClient

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def view(client: RtcClient) -> set[str]:
    """Who ``client`` believes is in the room, from what it received, in order."""
    people: set[str] = set()
    for name, data in client.events:
        if name == "participant.joined":
            people.add(data["participant"]["identity"])
        elif name in ("participant.left", "participant.removed"):
            people.discard(data["identity"])
        elif name == "presence.sync":
            people = {p["identity"] for p in data["participants"]}
    return people


async def test_members_see_who_joined_on_another_node_right_after_redis_came_back(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    redis = redis_factory()
    a, b = await _nodes(redis, pavilion_app)
    a1, b1 = await _join(a, "a1"), await _join(b, "b1")
    await asyncio.to_thread(redis.stop)
    await asyncio.sleep(1.5)
    await asyncio.to_thread(redis.start)
    back = time.monotonic()
    b2 = await _join_when_back(b, "b2")  # at once: A's listener may still be reconnecting
    synced = await a1.wait_for("presence.sync", within=BACK_WITHIN_S)
    assert "a1" in {p["identity"] for p in synced["participants"]}  # held here: listed
    while not {"a1", "b1", "b2"} <= view(a1):
        assert time.monotonic() - back < BACK_WITHIN_S, view(a1)
        await asyncio.sleep(0.05)
    print(f"\neveryone, b2 (joined on B as Redis came back) too, in a1's list on A after "
          f"{time.monotonic() - back:.2f} s")
    for client in (a1, b1, b2):
        await client.close()


async def _join_when_back(node: Any, who: str) -> RtcClient:
    while True:
        try:
            return await _join(node, who)
        except AssertionError:  # store_unavailable until the node's client reconnects
            await asyncio.sleep(0.05)


def test_the_sync_lists_hidden_people_for_staff_only_and_the_stage_first() -> None:
    people = [Participant(f"v{i}", ROOM, f"V{i}", Role.VIEWER, joined_at=float(i))
              for i in range(250)]
    people += [Participant("rec", ROOM, "Rec", Role.VIEWER, hidden=True, joined_at=300.0),
               Participant("spk", ROOM, "Spk", Role.SPEAKER, on_stage=True, joined_at=400.0)]
    public, staff = listing(people, staff=False), listing(people, staff=True)
    assert public["participant_count"] == 251 and staff["participant_count"] == 252
    assert public["participants"][0]["identity"] == "spk"
    assert len(public["participants"]) == 200
    assert "rec" not in {p["identity"] for p in public["participants"]}
