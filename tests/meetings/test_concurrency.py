"""Twenty buyers race for one slot from twenty nodes (separate Redis clients): exactly one wins."""

from __future__ import annotations

import asyncio

import pytest

from rooms.trade.store import BookingConflict
from tests.meetings.builders import request_for, slot
from tests.meetings.conftest import Stores

BUYERS = 20


async def test_twenty_buyers_racing_for_one_slot_leave_one_pending_request(
        stores: Stores) -> None:
    nodes = [stores.node() for _ in range(BUYERS)]
    s = slot()
    await nodes[0].add_slots([s])
    requests = [request_for(s, f"buyer-{n}") for n in range(BUYERS)]
    outcomes = await asyncio.gather(
        *(node.create_request(r, quota=5) for node, r in zip(nodes, requests, strict=True)),
        return_exceptions=True)
    winners = [r for r, o in zip(requests, outcomes, strict=True) if o is None]
    refusals = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    assert all(isinstance(o, BookingConflict) and o.code == "slot_taken" for o in refusals)
    assert await nodes[-1].holders([s.id]) == {s.id: winners[0].id}
    stored = await nodes[-1].list_requests(exhibitor="faw")
    assert [r.id for r in stored] == [winners[0].id], "losers wrote nothing"
    for n in range(BUYERS):
        others = await nodes[n].list_requests(buyer=f"buyer-{n}")
        assert len(others) == (1 if requests[n] is winners[0] else 0)


@pytest.mark.parametrize("rounds", [3])
async def test_racing_publishers_never_store_overlapping_slots(stores: Stores,
                                                               rounds: int) -> None:
    nodes = [stores.node() for _ in range(6)]
    for round_ in range(rounds):
        batch = [[slot(24 * (round_ + 1) + n * 0.25)] for n in range(6)]  # all overlap pairwise
        outcomes = await asyncio.gather(*(node.add_slots(b) for node, b in
                                          zip(nodes, batch, strict=True)),
                                        return_exceptions=True)
        assert sum(1 for o in outcomes if o is None) >= 1
    stored = await nodes[0].list_slots("faw")
    assert all(not a.overlaps(b) for a in stored for b in stored if a.id != b.id)
