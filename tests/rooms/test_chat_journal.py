"""The chat journal a node keeps during a Redis outage (issue 13 §6), without sockets: bounded
(a full journal refuses, it never drops what it accepted), ordered, and flushed exactly once; after
an outage, what Redis lost of this node's recent writes is written again first."""

from __future__ import annotations

import pytest

from rooms.chat_journal import JOURNAL_SEQ, ChatJournal, is_journal_id
from rooms.clock import FakeClock
from rooms.content import ChatMessage, stream_id_key
from rooms.errors import JournalFull, StoreUnavailable
from rooms.journal_flusher import JournalFlusher
from rooms.memory_store import MemoryStore
from rooms.written_chat import WrittenChat


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


async def _written(store: MemoryStore, written: WrittenChat, n: int) -> list[ChatMessage]:
    out = []
    for i in range(n):
        message = await store.append_chat("r1", sender="w", name="W", text=f"w:{i}",
                                          sent_at=50.0 + i)
        written.wrote(message)
        out.append(message)
    return out


async def test_after_an_outage_what_redis_lost_is_written_again_first_under_its_id() -> None:
    store = MemoryStore(clock=FakeClock(1_000.0))
    journal, written = ChatJournal("node-a", capacity=10), WrittenChat()
    kept, lost1, lost2 = await _written(store, written, 3)
    for gone in (lost1, lost2):  # Redis came back from a snapshot without them
        assert await store.delete_chat("r1", gone.id)
    assert not journal.busy
    later = fill(journal, 1)  # accepted during the outage: the journal is in doubt
    assert journal.busy and journal.doubtful
    flusher = JournalFlusher(store, journal, written)
    assert await flusher.flush() == 3
    assert not journal.busy and journal.restored == 2
    page = await store.chat_page("r1", after="0-0", limit=10)
    assert [m.id for m in page] == [kept.id, lost1.id, lost2.id, *later]
    assert [m.journaled_by for m in page[1:3]] == ["", ""]  # every node's tail may deliver them
    again = {m.id: m.cursor for m in written.recent()["r1"]}  # remembered where written now
    assert again == {m.id: m.cursor for m in page}


async def test_a_doubt_with_nothing_lost_writes_nothing_and_a_failed_check_stays_in_doubt() -> None:
    class Down(MemoryStore):
        fail = True

        async def missing_chat(self, room_id, positions):  # type: ignore[no-untyped-def]
            if self.fail:
                raise StoreUnavailable("down")
            return await super().missing_chat(room_id, positions)

    store = Down(clock=FakeClock(1_000.0))
    journal, written = ChatJournal("node-a", capacity=10), WrittenChat()
    await _written(store, written, 2)
    journal.doubt()  # the chat tail lost its read
    flusher = JournalFlusher(store, journal, written)
    with pytest.raises(StoreUnavailable):
        await flusher.flush()
    assert journal.busy
    store.fail = False
    assert await flusher.flush() == 0
    assert not journal.busy and journal.restored == 0
    assert len(await store.chat_page("r1", after="0-0")) == 2


def test_written_chat_is_bounded_by_age_and_count() -> None:
    now = [0.0]
    written = WrittenChat(keep_s=10.0, per_room=3, clock=lambda: now[0])
    for i in range(5):
        written.wrote(ChatMessage(f"{i + 1}-0", "r1", "s", "S", "t", 0.0))
    assert [m.id for m in written.recent()["r1"]] == ["3-0", "4-0", "5-0"]
    now[0] = 5.0
    written.wrote(ChatMessage("6-0", "r2", "s", "S", "t", 0.0))
    written.forget([ChatMessage("4-0", "r1", "s", "S", "t", 0.0)])
    assert [m.id for m in written.recent()["r1"]] == ["3-0", "5-0"]
    now[0] = 10.5
    assert list(written.recent()) == ["r2"] and len(written) == 1


async def test_another_run_of_the_store_puts_the_journal_in_doubt() -> None:
    """A Redis restarted within redis-py's retries fails no read: the flusher's watch sees its
    new ``run_id`` and checks recent writes all the same."""
    class Restarting(MemoryStore):
        run = "run-1"

        async def incarnation(self) -> str:
            return self.run

    store = Restarting(clock=FakeClock(1_000.0))
    journal = ChatJournal("node-a", capacity=10)
    flusher = JournalFlusher(store, journal)
    await flusher.watch()
    await flusher.watch()
    assert not journal.busy
    store.run = "run-2"
    await flusher.watch()
    assert journal.doubtful
    await flusher.flush()
    store.run = ""  # a Store that cannot say (INFO refused) is never taken for a restart
    await flusher.watch()
    assert not journal.busy


def test_during_an_outage_age_counts_up_to_its_start() -> None:
    """What was written just before a 70 s outage is still checked when it ends."""
    now = [0.0]
    written = WrittenChat(keep_s=10.0, clock=lambda: now[0])
    written.wrote(ChatMessage("1-0", "r1", "s", "S", "before the outage", 0.0))
    now[0] = 2.0
    written.hold()
    now[0] = 72.0
    written.hold()  # the outage goes on: its start stays
    assert [m.id for m in written.recent()["r1"]] == ["1-0"]
    written.release()
    assert written.recent() == {}
