"""``ChatTail`` over the memory Store: each message once, in order, from where a room was
followed; a forgotten room is not delivered; a stale room is pruned, a young one kept."""

from __future__ import annotations

import asyncio

from rooms.content import ChatMessage
from rooms.errors import StoreUnavailable
from rooms.memory_store import MemoryStore
from signaling.chat_tail import ChatTail


async def _post(store: MemoryStore, room: str, text: str) -> str:
    message = await store.append_chat(room, sender="s", name="S", text=text, sent_at=0.0)
    return message.id


async def test_delivers_each_message_once_from_where_the_room_was_followed() -> None:
    store = MemoryStore()
    got: list[ChatMessage] = []
    five = asyncio.Event()

    def deliver(message: ChatMessage) -> None:
        got.append(message)
        if len(got) == 5:
            five.set()

    tail = ChatTail(store, deliver, block_s=0.05)
    await _post(store, "r1", "before")
    await tail.follow("r1")
    tail.start()
    try:
        ids = [await _post(store, "r1", f"m{n}") for n in range(5)]
        await asyncio.wait_for(five.wait(), 5)
        await tail.follow("r1")  # a second member here: nothing is replayed
        await asyncio.sleep(0.1)
        assert [m.id for m in got] == ids
        tail.forget("r1")
        await _post(store, "r1", "after")
        await asyncio.sleep(0.1)
        assert len(got) == 5
    finally:
        await tail.aclose()
    assert tail.exited.is_set()


async def test_prune_forgets_stale_rooms_only() -> None:
    tail = ChatTail(MemoryStore(), lambda m: None)
    await tail.follow("gone")
    await tail.follow("here")
    tail.prune({"here"}, older_than_s=10)
    assert set(tail.positions) == {"gone", "here"}  # young: a join may be in progress
    tail.prune({"here"}, older_than_s=0)
    assert set(tail.positions) == {"here"}


async def test_a_message_written_again_reaches_only_who_missed_it() -> None:
    """Redis lost an acknowledged write; its node wrote it again under its first id
    (rooms/written_chat.py): a tail that delivered it skips it, one that did not, delivers it."""
    store = MemoryStore()
    got: list[str] = []
    tail = ChatTail(store, lambda m: got.append(m.id), block_s=0)
    await tail.follow("r1")
    first = await store.append_chat("r1", sender="s", name="S", text="hi", sent_at=0.0)
    early = await store.append_chat("r1", sender="s", name="S", text="early", sent_at=0.0)
    tail.delivered_early(early)  # the hub handed it out ahead of a journaled message
    await tail.read_once()
    assert got == [first.id]
    for message in (first, early):  # written again: same ids, new positions
        await store.append_journaled(message)
    missed = ChatMessage("1-5", "r1", "t", "T", "missed by this node", 0.0)
    await store.append_journaled(missed)
    await tail.read_once()
    assert got == [first.id, missed.id]


async def test_a_failed_read_tells_once_per_outage() -> None:
    class Flaky(MemoryStore):
        down = True

        async def read_chat(self, after, *, block_s, limit=500):  # type: ignore[no-untyped-def]
            if self.down:
                raise StoreUnavailable("down")
            return await super().read_chat(after, block_s=block_s, limit=limit)

    store = Flaky()
    tail = ChatTail(store, lambda m: None, block_s=0.01, max_backoff_s=0.02)
    troubles: list[float] = []
    tail.on_trouble = lambda: troubles.append(1.0)
    await tail.follow("r1")
    tail.start()
    try:
        await asyncio.sleep(0.2)  # several failed reads
        assert troubles == [1.0] and not tail.healthy
        store.down = False
        for _ in range(100):
            if tail.healthy:
                break
            await asyncio.sleep(0.01)
        store.down = True
        await asyncio.sleep(0.1)
        assert troubles == [1.0, 1.0]  # a second outage
    finally:
        await tail.aclose()
