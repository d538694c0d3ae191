"""``ChatTail`` over the memory Store: each message once, in order, from where a room was
followed; a forgotten room is not delivered; a stale room is pruned, a young one kept."""

from __future__ import annotations

import asyncio

from rooms.content import ChatMessage
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
