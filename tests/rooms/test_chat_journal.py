"""The chat journal a node keeps during a Redis outage (issue 13 §6), without sockets: bounded
(a full journal refuses, it never drops what it accepted), ordered, and flushed exactly once."""

from __future__ import annotations

import pytest

from rooms.chat_journal import JOURNAL_SEQ, ChatJournal, is_journal_id
from rooms.clock import FakeClock
from rooms.content import stream_id_key
from rooms.errors import JournalFull, StoreUnavailable
from rooms.journal_flusher import JournalFlusher
from rooms.memory_store import MemoryStore


def fill(journal: ChatJournal, n: int, *, sender: str = "s", start: float = 100.0) -> list[str]:
    return [journal.accept("r1", sender=sender, name=sender, text=f"{sender}:{i}",
                           sent_at=start + i / 1000).id for i in range(n)]


def test_the_journal_is_bounded_and_refuses_rather_than_drops() -> None:
    journal = ChatJournal("node-a", capacity=3)
    ids = fill(journal, 3)
    with pytest.raises(JournalFull) as refused:
        journal.accept("r1", sender="s", name="s", text="one too many", sent_at=101.0)
    assert refused.value.code == "chat_journal_full" and refused.value.fault == "server"
    assert [m.id for m in journal.waiting()] == ids, "nothing accepted was dropped"
    journal.done(journal.waiting()[0])
    assert journal.accept("r1", sender="s", name="s", text="room again", sent_at=101.0)


def test_ids_are_stream_shaped_unique_per_node_and_never_a_stream_id() -> None:
    a, b = ChatJournal("node-a", 100), ChatJournal("node-b", 100)
    same_ms = fill(a, 5, start=100.0) + fill(b, 5, start=100.0)
    assert len(set(same_ms)) == 10
    for message_id in same_ms:
        ms, seq = stream_id_key(message_id)
        assert ms >= 100_000 and seq >= JOURNAL_SEQ and is_journal_id(message_id)
    assert not is_journal_id("1700000000000-3")


def test_the_journal_keeps_acceptance_order_and_takes_off_only_its_head() -> None:
    journal = ChatJournal("node-a", capacity=10)
    ids = fill(journal, 2, sender="x") + fill(journal, 2, sender="y")
    second = journal.waiting()[1]
    journal.done(second)  # not the head: nothing moves
    assert [m.id for m in journal.waiting()] == ids
    assert all(m.waiting and m.journaled_by == "node-a" for m in journal.waiting())


async def test_a_flush_writes_everything_once_in_order_and_a_retry_writes_nothing_twice() -> None:
    store = MemoryStore(clock=FakeClock(1_000.0))
    journal = ChatJournal("node-a", capacity=10)
    ids = fill(journal, 4)
    flusher = JournalFlusher(store, journal)
    head = journal.head()
    assert head is not None
    await store.append_journaled(head)  # a flush whose reply was lost before done()
    assert await flusher.flush() == 4
    assert len(journal) == 0
    written = await store.chat_page("r1", after="0-0", limit=100)
    assert [m.id for m in written] == ids, "once each, in acceptance order"
    assert all(m.position and not m.waiting for m in written)


async def test_a_failed_flush_keeps_the_head_for_the_next_try() -> None:
    class Down(MemoryStore):
        fail = True

        async def append_journaled(self, message):  # type: ignore[no-untyped-def]
            if self.fail:
                raise StoreUnavailable("down")
            return await super().append_journaled(message)

    store = Down(clock=FakeClock(1_000.0))
    journal = ChatJournal("node-a", capacity=10)
    ids = fill(journal, 3)
    flusher = JournalFlusher(store, journal)
    with pytest.raises(StoreUnavailable):
        await flusher.flush()
    assert [m.id for m in journal.waiting()] == ids
    store.fail = False
    assert await flusher.flush() == 3
    assert [m.id for m in await store.chat_page("r1", after="0-0")] == ids
