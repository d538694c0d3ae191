"""The recordings part of the Store contract (issue 15 §6), on memory and a real redis-server."""

from __future__ import annotations

from dataclasses import replace

from rooms.recording import (
    FileKind,
    Recording,
    RecordingFile,
    RecordingState,
    TimelineEntry,
    TimelineKind,
    is_file_name,
    is_recording_id,
    new_recording_id,
)
from rooms.room import RoomKind
from tests.rooms.harness import Harness


def record(rec_id: str, *, room: str = "r1", owner: str = "gobi", at: float = 100.0,
           **kw: object) -> Recording:
    return Recording(id=rec_id, room=room, room_kind=RoomKind.BROADCAST, node="node-a",
                     state=RecordingState.RECORDING, started_at=at, owner=owner,
                     **kw)  # type: ignore[arg-type]


async def test_recording_round_trips_every_field(harness: Harness) -> None:
    full = Recording(
        id="rec_AAAAAAAAAAAA", room="m1", room_kind=RoomKind.MEETING, node="node-b",
        state=RecordingState.DONE, started_at=1_700_000_000.25, ended_at=1_700_000_060.5,
        duration_s=60.25, title="Отчёт 会议", published=True, owner="gobi", started_by="admin",
        reason="disk_full", finalised=True, extra={"program": True},
        files=(RecordingFile("gobi.webm", FileKind.PARTICIPANT, "video/webm", 123_456, "gobi",
                             60.0),
               RecordingFile("program.webm", FileKind.PROGRAM, "video/webm", 99, "", 59.5)))
    await harness.store().put_recording(full)
    assert await harness.store().get_recording(full.id) == full
    assert Recording.from_dict(full.to_dict()) == full


async def test_recordings_list_filter_replace_delete(harness: Harness) -> None:
    store = harness.store()
    await store.put_recording(record("rec_old0000000", at=1.0))
    await store.put_recording(record("rec_new0000000", at=3.0))
    await store.put_recording(record("rec_other00000", room="r2", owner="altai", at=2.0))
    assert [r.id for r in await store.list_recordings()] == [
        "rec_new0000000", "rec_other00000", "rec_old0000000"], "newest first"
    assert [r.id for r in await store.list_recordings(room="r2")] == ["rec_other00000"]
    assert [r.id for r in await store.list_recordings(owner="gobi")] == [
        "rec_new0000000", "rec_old0000000"]
    assert await store.list_recordings(room="r2", owner="gobi") == []
    done = replace(record("rec_old0000000", at=1.0), state=RecordingState.DONE, title="t")
    await store.put_recording(done)
    assert await harness.store().get_recording("rec_old0000000") == done
    assert await store.delete_recording("rec_old0000000")
    assert not await store.delete_recording("rec_old0000000"), "already gone"
    assert await store.get_recording("rec_old0000000") is None
    assert await store.get_recording("rec_never000000") is None


async def test_timeline_appends_in_order_keeps_the_first_cap(harness: Harness) -> None:
    store = harness.store()
    chat = TimelineEntry(1.5, TimelineKind.CHAT, {"id": "1-0", "sender": "a", "name": "Ana",
                                                   "text": "привет 你好"})
    pin = TimelineEntry(2.25, TimelineKind.PIN, {"product_id": "p1", "product": {"id": "p1"}})
    unpin = TimelineEntry(3.0, TimelineKind.UNPIN, {"product_id": "p1"})
    assert await store.append_timeline("rec_t0000000000", [chat, pin], cap=3) == 2
    assert await store.append_timeline("rec_t0000000000", [unpin, chat], cap=3) == 3
    assert await harness.store().read_timeline("rec_t0000000000") == [chat, pin, unpin]
    assert await store.read_timeline("rec_t0000000000", limit=1) == [chat]
    assert await store.append_timeline("rec_t0000000000", [], cap=3) == 3
    assert await store.read_timeline("rec_none0000000") == []
    await store.put_recording(record("rec_t0000000000"))
    assert await store.delete_recording("rec_t0000000000")
    assert await store.read_timeline("rec_t0000000000") == [], "deleted with its record"


def test_ids_and_file_names() -> None:
    made = new_recording_id()
    assert is_recording_id(made) and made != new_recording_id()
    assert not is_recording_id("rec_../../etc") and not is_recording_id("room1")
    assert is_file_name("alice.webm") and is_file_name("program.mp4")
    for bad in ("..", ".", "a/b.webm", "", "x" * 121, "a\x00.webm"):
        assert not is_file_name(bad), bad
    entry = TimelineEntry(1.23456, TimelineKind.CHAT, {"text": "hi"})
    assert entry.to_dict() == {"at_s": 1.235, "kind": "chat", "text": "hi"}


async def test_consent_ask_answer_clear(harness: Harness) -> None:
    node_a, node_b = harness.store(), harness.store()
    assert await node_a.answer_consent("m1", "ana", True) is None, "nothing asked yet"
    assert await node_a.get_consent("m1") is None
    asked = await node_a.ask_consent("m1", by="gobi", name="Gobi 戈壁", asked_at=12.5)
    assert asked.answers == {"gobi": True}
    assert await node_b.answer_consent("m1", "ana", True) is not None
    now = await node_b.answer_consent("m1", "bo", False)
    assert now is not None and now.by == "gobi" and now.name == "Gobi 戈壁"
    assert now.asked_at == 12.5 and now.answers == {"gobi": True, "ana": True, "bo": False}
    assert now.declined() == ["bo"] and not now.complete(["gobi", "ana", "bo"])
    assert now.waiting(["gobi", "cy"]) == ["cy"]
    again = await node_a.ask_consent("m1", by="ana", name="Ana", asked_at=13.0)
    assert (await node_b.get_consent("m1")) == again, "a new request drops the old answers"
    await node_b.clear_consent("m1")
    assert await node_a.get_consent("m1") is None


async def test_listing_by_room_uses_the_index_and_follows_deletes(harness: Harness) -> None:
    store = harness.store()
    for i in range(3):
        await store.put_recording(record(f"rec_idx{i}00000000", room="r9", at=float(i)))
    await store.put_recording(record("rec_elsewhere0000", room="r8"))
    assert [r.id for r in await store.list_recordings(room="r9")] == [
        "rec_idx200000000", "rec_idx100000000", "rec_idx000000000"]
    await store.delete_recording("rec_idx100000000")
    assert len(await harness.store().list_recordings(room="r9")) == 2
    assert await store.list_recordings(room="nowhere") == []


async def test_a_long_listing_is_whole_and_in_order(harness: Harness) -> None:
    store = harness.store()
    for i in range(240):  # past RedisStore's PARSE_INLINE: parsed in a thread
        await store.put_recording(record(f"rec_many{i:08d}", room=f"r{i % 3}", at=float(i)))
    listed = await harness.store().list_recordings()
    assert [r.started_at for r in listed] == [float(i) for i in reversed(range(240))]
