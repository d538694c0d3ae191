"""One BookingStore contract, run on MemoryBookingStore and on a real redis-server."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from rooms.trade.record import Notice, SideRecord
from rooms.trade.request import Action, RequestState, Side, transition
from rooms.trade.store import BookingConflict
from tests.meetings.builders import NOW, profile, request_for, slot
from tests.meetings.conftest import Stores


async def test_profiles_round_trip(stores: Stores) -> None:
    store = stores.node()
    assert await store.get_profile("faw") is None
    await store.put_profile(profile("faw"))
    await store.put_profile(profile("alpha", team=()))
    assert await store.get_profile("faw") == profile("faw")
    assert [p.id for p in await store.list_profiles()] == ["alpha", "faw"]


async def test_slots_of_one_host_never_overlap(stores: Stores) -> None:
    store = stores.node()
    first, later = slot(24), slot(25)
    await store.add_slots([first, later])
    assert await store.list_slots("faw") == [first, later]
    clash = slot(24.25)  # 15 minutes into the first one
    with pytest.raises(BookingConflict) as refused:
        await store.add_slots([slot(30), clash])
    assert (refused.value.code, refused.value.other) == ("slot_overlap", first.id)
    assert len(await store.list_slots("faw")) == 2, "nothing of the refused batch was written"
    await store.add_slots([slot(24.5)])  # touching the end is not overlapping
    await store.add_slots([slot(24.25, host="faw-li")])  # another host of the same exhibitor
    assert len(await store.list_slots("faw")) == 4


async def test_a_slot_is_held_by_one_request_only(stores: Stores) -> None:
    store = stores.node()
    s = slot()
    await store.add_slots([s])
    mine = request_for(s, "kim")
    await store.create_request(mine, quota=5)
    with pytest.raises(BookingConflict) as taken:
        await store.create_request(request_for(s, "ivanov"), quota=5)
    assert (taken.value.code, taken.value.other) == ("slot_taken", mine.id)
    assert await store.holders([s.id]) == {s.id: mine.id}
    assert await store.get_request(mine.id) == mine
    assert [r.id for r in await store.list_requests(exhibitor="faw")] == [mine.id]
    assert [r.id for r in await store.list_requests(buyer="ivanov")] == []
    with pytest.raises(BookingConflict) as held:
        await store.remove_slot(s)
    assert held.value.code == "slot_held"


async def test_withdrawing_frees_the_slot_and_the_quota(stores: Stores) -> None:
    store = stores.node()
    slots = [slot(24 + n) for n in range(3)]
    await store.add_slots(slots)
    first = request_for(slots[0], "kim")
    await store.create_request(first, quota=2)
    await store.create_request(request_for(slots[1], "kim"), quota=2)
    with pytest.raises(BookingConflict) as quota:
        await store.create_request(request_for(slots[2], "kim"), quota=2)
    assert quota.value.code == "quota_reached"
    gone = transition(first, Action.WITHDRAW, Side.BUYER, now=NOW, by="kim")
    await store.update_request(first, gone)
    assert await store.holders([slots[0].id]) == {}
    await store.create_request(request_for(slots[2], "kim"), quota=2)
    await store.create_request(request_for(slots[0], "ivanov"), quota=2)
    assert [r.id for r in await store.list_active()] != []
    assert first.id not in {r.id for r in await store.list_active()}


async def test_a_buyer_cannot_hold_two_overlapping_slots(stores: Stores) -> None:
    store = stores.node()
    await store.put_profile(profile("alpha", team=()))
    ours, theirs = slot(24), slot(24.25, exhibitor="alpha", host="alpha")
    await store.add_slots([ours])
    await store.add_slots([theirs])
    await store.create_request(request_for(ours, "kim"), quota=5)
    with pytest.raises(BookingConflict) as busy:
        await store.create_request(request_for(theirs, "kim"), quota=5)
    assert busy.value.code == "buyer_busy"


async def test_compare_and_set_refuses_a_stale_write(stores: Stores) -> None:
    node_a, node_b = stores.node(), stores.node()
    s = slot()
    await node_a.add_slots([s])
    pending = request_for(s, "kim")
    await node_a.create_request(pending, quota=5)
    accepted = transition(pending, Action.ACCEPT, Side.EXHIBITOR, now=NOW, by="faw")
    withdrawn = transition(pending, Action.WITHDRAW, Side.BUYER, now=NOW, by="kim")
    outcomes = await asyncio.gather(node_a.update_request(pending, accepted),
                                    node_b.update_request(pending, withdrawn),
                                    return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BookingConflict)]
    assert len(failures) == 1 and failures[0].code == "request_changed"
    stored = await node_a.get_request(pending.id)
    assert stored is not None and stored.state in (RequestState.ACCEPTED, RequestState.WITHDRAWN)
    assert stored.version == 2


async def test_a_proposal_moves_the_hold(stores: Stores) -> None:
    store = stores.node()
    first, other, busy = slot(24), slot(26), slot(28)
    await store.add_slots([first, other, busy])
    pending = request_for(first, "kim")
    await store.create_request(pending, quota=5)
    await store.create_request(request_for(busy, "lee"), quota=5)
    with pytest.raises(BookingConflict) as taken:
        await store.update_request(pending, transition(
            pending, Action.PROPOSE, Side.EXHIBITOR, now=NOW, by="faw", slot=busy))
    assert taken.value.code == "slot_taken"
    proposed = transition(pending, Action.PROPOSE, Side.EXHIBITOR, now=NOW, by="faw", slot=other)
    await store.update_request(pending, proposed)
    assert await store.holders([first.id, other.id]) == {other.id: pending.id}
    stored = await store.get_request(pending.id)
    assert stored is not None and stored.slot_id == other.id


async def test_records_notices_and_once(stores: Stores) -> None:
    node_a, node_b = stores.node(), stores.node()
    assert await node_a.mark_joined("r-000000000001", Side.BUYER, NOW + 5)
    assert not await node_b.mark_joined("r-000000000001", Side.BUYER, NOW + 9)
    await node_b.put_side("r-000000000001", Side.BUYER, SideRecord(rating=4, note="send quote"))
    record = await node_a.get_record("r-000000000001")
    assert record.buyer == SideRecord(joined_at=NOW + 5, rating=4, note="send quote")
    assert record.exhibitor == SideRecord()
    assert await node_a.once("remind:r-1", ttl_s=60)
    assert not await node_b.once("remind:r-1", ttl_s=60)
    for n in range(3):
        await node_a.push_notice(Notice(id=f"n{n}", identity="kim", kind="request.accepted",
                                        at=NOW + n, data={"request_id": "r-1"}))
    feed = await node_b.notices("kim", limit=2)
    assert [n.id for n in feed] == ["n2", "n1"] and feed[0].data == {"request_id": "r-1"}


async def test_removing_a_free_slot(stores: Stores) -> None:
    store = stores.node()
    s = slot()
    await store.add_slots([s])
    assert await store.remove_slot(s)
    assert not await store.remove_slot(s)
    assert await store.list_slots("faw") == []
    await store.add_slots([replace(s, id="s-00000000000a")])  # its time is free again


async def test_open_requests_per_exhibitor_count_per_buyer(stores: Stores) -> None:
    store = stores.node()
    ours = [slot(24 + n) for n in range(3)]
    theirs = slot(30, exhibitor="alpha", host="alpha")
    await store.add_slots(ours)
    await store.add_slots([theirs])
    first = request_for(ours[0], "kim")
    await store.create_request(first, quota=5, per_exhibitor=2)
    await store.create_request(request_for(ours[1], "kim"), quota=5, per_exhibitor=2)
    with pytest.raises(BookingConflict) as refused:
        await store.create_request(request_for(ours[2], "kim"), quota=5, per_exhibitor=2)
    assert refused.value.code == "exhibitor_quota_reached"
    assert await store.holders([ours[2].id]) == {}, "nothing written"
    await store.create_request(request_for(theirs, "kim"), quota=5, per_exhibitor=2)
    await store.create_request(request_for(ours[2], "ivanov"), quota=5, per_exhibitor=2)
    withdrawn = transition(first, Action.WITHDRAW, Side.BUYER, now=NOW, by="kim")
    await store.update_request(first, withdrawn)
    await store.create_request(request_for(ours[0], "kim"), quota=5, per_exhibitor=2)


async def test_take_counts_uses_in_a_window_shared_by_every_node(stores: Stores) -> None:
    node_a, node_b = stores.node(), stores.node()
    assert await node_a.take("requests:10.0.0.7", limit=2, window_s=0.3) == 0.0
    assert await node_b.take("requests:10.0.0.7", limit=2, window_s=0.3) == 0.0
    wait = await node_a.take("requests:10.0.0.7", limit=2, window_s=0.3)
    assert 0 < wait <= 0.3
    assert await node_b.take("requests:10.0.0.8", limit=2, window_s=0.3) == 0.0, "per key"
    stores.clock.advance(0.31)  # the memory store's clock; Redis expires the key in real time
    await asyncio.sleep(0.35)
    assert await node_b.take("requests:10.0.0.7", limit=2, window_s=0.3) == 0.0
