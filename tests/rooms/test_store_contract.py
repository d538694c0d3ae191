"""The Store contract, run on MemoryStore and on a real redis-server (issue 4, item 7)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from rooms.chat_journal import ChatJournal
from rooms.content import ChatMessage, ProductCard
from rooms.errors import InvalidInput, NoSuchRoom, RoomFull
from rooms.participant import Participant, Role
from rooms.pavilion import Pavilion
from rooms.quote import QuoteRequest, Reply
from rooms.room import Room, RoomKind, RoomState
from rooms.store import LeaseHolder, Store
from rooms.text import LocalizedText
from tests.rooms.harness import Harness

NODE_A = LeaseHolder("node-a", "http://a.example:8080")
NODE_B = LeaseHolder("node-b", "http://b.example:8080")
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def room(room_id: str, *, pavilion: Pavilion = Pavilion.NEW_MEDIA,
         state: RoomState = RoomState.LIVE, hours: float = 0) -> Room:
    return Room(id=room_id, kind=RoomKind.BROADCAST, pavilion=pavilion,
                title=LocalizedText({"en": room_id, "zh": "房间"}), state=state,
                starts_at=T0 + timedelta(hours=hours))


def person(identity: str, room_id: str = "r1", **kw: object) -> Participant:
    return Participant(identity=identity, room_id=room_id, name=identity.title(),
                       role=Role.VIEWER, **kw)  # type: ignore[arg-type]


# -- rooms -----------------------------------------------------------------------------------------
async def test_rooms_create_get_list_filter(harness: Harness) -> None:
    store = harness.store()
    assert await store.create_room(room("b", hours=2))
    assert await store.create_room(room("a", hours=1, pavilion=Pavilion.JILIN))
    assert await store.create_room(room("c", state=RoomState.SCHEDULED))
    assert not await store.create_room(room("a", pavilion=Pavilion.AUTOMOBILE)), "id taken"
    assert (await store.get_room("a")) == room("a", hours=1, pavilion=Pavilion.JILIN)
    assert await store.get_room("nope") is None
    assert [r.id for r in await store.list_rooms()] == ["c", "a", "b"]  # by start time
    assert [r.id for r in await store.list_rooms(pavilion=Pavilion.JILIN)] == ["a"]
    assert [r.id for r in await store.list_rooms(state=RoomState.LIVE)] == ["a", "b"]
    await store.put_room(room("a", state=RoomState.ENDED))
    assert (await store.get_room("a")).state is RoomState.ENDED  # type: ignore[union-attr]


async def test_room_round_trips_every_field(harness: Harness) -> None:
    full = Room(id="m1", kind=RoomKind.MEETING, pavilion=Pavilion.IMPORTED_GOODS,
                title=LocalizedText({"mn": "Уулзалт", "ko": "미팅"}),
                description=LocalizedText({"ru": "Описание"}), exhibitor="gobi",
                starts_at=T0, ends_at=T0 + timedelta(minutes=30), time_zone="Asia/Ulaanbaatar",
                locked=True, capacity=3, stage_size=2, max_pinned=1,
                invitees=frozenset({"buyer", "gobi-2"}))
    store = harness.store()
    await store.put_room(full)
    assert await harness.store().get_room("m1") == full


# -- presence --------------------------------------------------------------------------------------
async def test_presence_expires_without_heartbeat_and_lives_with_it(harness: Harness) -> None:
    node_a, node_b = harness.store(), harness.store()
    await node_a.put_participant(person("alice"), ttl_s=1.0)
    await node_a.put_participant(person("bob"), ttl_s=1.0)
    assert await node_b.count_present("r1") == 2
    await harness.pass_time(0.5)
    assert await node_a.heartbeat("r1", "alice", ttl_s=1.0)
    await harness.pass_time(0.6)  # bob's TTL has passed, alice's heartbeat keeps her
    assert [p.identity for p in await node_b.list_participants("r1")] == ["alice"]
    assert await node_b.get_participant("r1", "bob") is None
    assert not await node_a.heartbeat("r1", "bob", ttl_s=1.0), "an expired record stays gone"
    await harness.pass_time(1.1)  # node A "crashed": no more heartbeats
    assert await node_b.list_participants("r1") == []
    assert await node_b.count_present("r1") == 0


async def test_heartbeat_many_extends_the_live_and_names_the_gone(harness: Harness) -> None:
    store = harness.store()
    for who in ("a", "b", "c"):
        await store.put_participant(person(who, waiting=who == "c"), ttl_s=1.0)
    await store.remove_participant("r1", "b")
    await harness.pass_time(0.5)
    assert await store.heartbeat_many("r1", ["a", "b", "c", "zed"], ttl_s=1.0) == ["b", "zed"]
    await harness.pass_time(0.6)
    assert [p.identity for p in await store.list_participants("r1")] == ["a", "c"]
    assert await store.count_present("r1") == 1, "c is still waiting, and still not counted"
    assert await store.heartbeat_many("r1", [], ttl_s=1.0) == []


async def test_presence_replace_remove_and_count_rules(harness: Harness) -> None:
    store = harness.store()
    await store.put_participant(person("v1", joined_at=1.0), ttl_s=30)
    await store.put_participant(person("rec", hidden=True, joined_at=2.0), ttl_s=30)
    await store.put_participant(person("w", waiting=True, joined_at=3.0), ttl_s=30)
    await store.put_participant(person("v1", joined_at=1.0, hand_raised=True), ttl_s=30)
    assert await store.count_present("r1") == 1  # hidden and waiting are not counted
    people = await store.list_participants("r1")
    assert [p.identity for p in people] == ["v1", "rec", "w"]
    assert people[0].hand_raised
    assert await store.remove_participant("r1", "v1")
    assert not await store.remove_participant("r1", "v1")
    assert await store.count_present("r1") == 0
    assert await store.count_present("other-room") == 0


async def test_a_removal_for_one_node_spares_a_record_that_moved_to_another(
        harness: Harness) -> None:
    """A dead node's sweep (rooms/cluster/sweeper.py) must not remove someone who rejoined on
    a live node between its look and its removal: the check and the removal are one step."""
    store = harness.store()
    await store.put_participant(person("v1", node_id="node-b"), ttl_s=30)
    assert not await store.remove_participant("r1", "v1", only_on="node-a")
    assert [p.identity for p in await store.list_participants("r1")] == ["v1"]
    assert not await store.remove_participant("r1", "nobody", only_on="node-a")
    assert await store.remove_participant("r1", "v1", only_on="node-b")
    assert await store.list_participants("r1") == []


async def test_ban_lasts_until_its_time(harness: Harness) -> None:
    store = harness.store()
    await store.ban("r1", "troll", until=harness.clock.now() + 1.0)
    assert await store.is_banned("r1", "troll")
    assert not await store.is_banned("r2", "troll")
    await harness.pass_time(1.1)
    assert not await store.is_banned("r1", "troll")


# -- leases ----------------------------------------------------------------------------------------
async def test_two_nodes_racing_for_a_lease_exactly_one_wins(harness: Harness) -> None:
    stores = [harness.store(), harness.store()]
    for attempt in range(10):
        room_id = f"race-{attempt}"
        a, b = await asyncio.gather(stores[0].claim_lease(room_id, NODE_A, ttl_s=10),
                                    stores[1].claim_lease(room_id, NODE_B, ttl_s=10))
        assert a.holder == b.holder, "both see the same winner"
        loser = NODE_B if a.holder == NODE_A else NODE_A
        assert not await stores[1].renew_lease(room_id, loser, ttl_s=10)
        assert not await stores[1].release_lease(room_id, loser)
        assert (await stores[0].get_lease(room_id)).holder == a.holder  # type: ignore[union-attr]


async def test_a_lease_is_claimable_after_its_holder_dies(harness: Harness) -> None:
    node_a, node_b = harness.store(), harness.store()
    assert (await node_a.claim_lease("r1", NODE_A, ttl_s=1.0)).holder == NODE_A
    taken = await node_b.claim_lease("r1", NODE_B, ttl_s=1.0)
    assert taken.holder == NODE_A and taken.holder.node_url == "http://a.example:8080"
    await harness.pass_time(0.5)
    assert await node_a.renew_lease("r1", NODE_A, ttl_s=1.0)
    await harness.pass_time(0.6)
    assert (await node_b.claim_lease("r1", NODE_B, ttl_s=1.0)).holder == NODE_A, "renewed"
    await harness.pass_time(1.1)  # node A died: no renewal
    assert await node_b.get_lease("r1") is None
    assert (await node_b.claim_lease("r1", NODE_B, ttl_s=1.0)).holder == NODE_B
    assert not await node_a.renew_lease("r1", NODE_A, ttl_s=1.0), "the old holder lost it"


async def test_the_media_nodes_tracks_are_seen_from_every_node(harness: Harness) -> None:
    node_a, node_b = harness.store(), harness.store()
    assert await node_b.get_tracks("r1") is None
    video = {"room_id": "r1", "participant": "host", "source": "host/video0", "kind": "video",
             "codec": "video/VP8"}
    audio = {**video, "source": "host/audio0", "kind": "audio", "codec": "audio/opus"}
    await node_a.put_tracks("r1", "node-a", [video, audio])
    assert await node_b.get_tracks("r1") == ("node-a", [video, audio])
    await node_a.put_tracks("r1", "node-a", [audio])
    assert await node_b.get_tracks("r1") == ("node-a", [audio])
    await node_a.put_tracks("r1", "node-a", [])
    assert await node_b.get_tracks("r1") is None


async def test_the_media_nodes_channels_are_seen_from_every_node(harness: Harness) -> None:
    """Issue 17: a join on node B lists the live interpreter that node A's plane knows."""
    node_a, node_b = harness.store(), harness.store()
    assert await node_b.get_channels("r1") is None
    zh = {"language": "zh", "live": "zh1", "muted": False, "listeners": 3}
    en = {"language": "en", "live": None, "muted": True, "listeners": 0}
    await node_a.put_channels("r1", "node-a", [zh, en])
    assert await node_b.get_channels("r1") == ("node-a", [zh, en])
    await node_a.put_channels("r1", "node-a", [en])
    assert await node_b.get_channels("r1") == ("node-a", [en])
    await node_a.put_channels("r1", "node-a", [])
    assert await node_b.get_channels("r1") is None
    await node_a.put_channels("r1", "node-a", [zh])
    assert not await node_b.drop_channels("r1", "node-b")  # not its record: left alone
    assert await node_b.drop_channels("r1", "node-a")  # node A died: swept, once
    assert not await node_b.drop_channels("r1", "node-a")
    assert await node_b.get_channels("r1") is None


async def test_a_dead_nodes_tracks_are_dropped_once(harness: Harness) -> None:
    node_b, node_c = harness.store(), harness.store()
    video = {"room_id": "r1", "participant": "host", "source": "host/video0", "kind": "video",
             "codec": "video/VP8"}
    await harness.store().put_tracks("r1", "node-a", [video])
    assert await node_b.drop_tracks("r1", "node-b") == []  # not its record: left alone
    assert await node_b.drop_tracks("r1", "node-a") == [video]
    assert await node_c.drop_tracks("r1", "node-a") == []  # already gone: nothing to tell
    assert await node_c.get_tracks("r1") is None
    await node_c.put_tracks("r1", "node-c", [video])
    assert await node_b.drop_tracks("r1", "node-a") == []
    assert await node_b.get_tracks("r1") == ("node-c", [video])


async def test_released_lease_is_free_at_once(harness: Harness) -> None:
    store = harness.store()
    lease = await store.claim_lease("r1", NODE_A, ttl_s=30)
    assert lease.expires_at > harness.clock.now() + 25
    assert (await store.claim_lease("r1", NODE_A, ttl_s=30)).holder == NODE_A, "re-entrant"
    assert await store.release_lease("r1", NODE_A)
    assert (await store.claim_lease("r1", NODE_B, ttl_s=30)).holder == NODE_B


# -- chat ------------------------------------------------------------------------------------------
async def post(store: Store, n: int, sender: str = "s", room_id: str = "r1") -> list[str]:
    ids = []
    for i in range(n):
        message = await store.append_chat(room_id, sender=sender, name=sender,
                                          text=f"{sender}:{i}", sent_at=float(i))
        ids.append(message.id)
    return ids


async def test_chat_resume_after_an_id_returns_exactly_the_missed_messages(
    harness: Harness,
) -> None:
    writer, reader = harness.store(), harness.store()
    seen = await post(writer, 5)
    missed = await post(writer, 7, sender="t")
    got = await reader.chat_page("r1", after=seen[-1], limit=100)
    assert [m.id for m in got] == missed
    assert [m.text for m in got] == [f"t:{i}" for i in range(7)]
    resumed: list[str] = []  # page through in small steps: no gap, no duplicate
    cursor = seen[-1]
    while page := await reader.chat_page("r1", after=cursor, limit=3):
        resumed += [m.id for m in page]
        cursor = page[-1].id
    assert resumed == missed
    assert await reader.chat_page("r1", after=missed[-1]) == []


async def test_read_chat_follows_several_rooms_and_waits_for_the_next_message(
    harness: Harness,
) -> None:
    """How a node follows its rooms' chat (signaling/chat_tail.py): everything after the last id
    it saw in each room, oldest first, and a blocking read that a new message wakes."""
    writer, reader = harness.store(), harness.store()
    seen = await post(writer, 2, room_id="r1")
    new_r1 = await post(writer, 3, room_id="r1")
    new_r2 = await post(writer, 2, sender="t", room_id="r2")
    got = await reader.read_chat({"r1": seen[-1], "r2": "0-0"}, block_s=0.1)
    assert [(m.room_id, m.id) for m in got if m.room_id == "r1"] == [("r1", i) for i in new_r1]
    assert [m.id for m in got if m.room_id == "r2"] == new_r2
    assert [m.text for m in got if m.room_id == "r2"] == ["t:0", "t:1"]
    assert len(await reader.read_chat({"r1": "0-0"}, block_s=0.1, limit=2)) == 2
    assert await reader.read_chat({"r1": new_r1[-1]}, block_s=0.05) == []
    waiting = asyncio.ensure_future(reader.read_chat({"r2": new_r2[-1]}, block_s=5))
    await asyncio.sleep(0.05)
    later = await post(writer, 1, sender="u", room_id="r2")
    assert [m.id for m in await asyncio.wait_for(waiting, 5)] == later


async def test_a_journaled_message_is_written_once_keeps_its_id_and_can_be_deleted(
    harness: Harness,
) -> None:
    """Issue 13 §6: a node's journal writes what it kept during an outage with its own id; a
    flush retried after a lost reply writes nothing more (rooms/chat_journal.py)."""
    writer, reader = harness.store(), harness.store()
    before = await post(writer, 2)
    journal = ChatJournal("node-a", capacity=10)
    kept = [journal.accept("r1", sender="k", name="K", text=f"k:{i}", sent_at=5.0 + i)
            for i in range(3)]
    positions = [await writer.append_journaled(m) for m in kept]
    assert [await writer.append_journaled(m) for m in kept] == positions  # a retried flush
    after = await post(writer, 1)
    got = await reader.chat_page("r1", after=before[-1], limit=100)
    assert [m.id for m in got] == [m.id for m in kept] + after
    assert [(m.text, m.journaled_by, m.position) for m in got[:3]] == [
        (m.text, "node-a", p) for m, p in zip(kept, positions, strict=True)]
    assert [m.cursor for m in await reader.read_chat({"r1": before[-1]}, block_s=0.05)] == [
        *positions, *after]
    assert await writer.delete_chat("r1", kept[1].id)
    assert [m.id for m in await reader.chat_page("r1", after="0-0")] == [
        *before, kept[0].id, kept[2].id, *after]


async def test_missing_chat_names_what_the_stream_lost_and_a_rewrite_keeps_its_id(
    harness: Harness,
) -> None:
    """After an outage a node asks which of its recent writes Redis lost (rooms/written_chat.py)
    and writes those again under their first id; moderation still deletes them by that id."""
    writer, reader = harness.store(), harness.store()
    ids = await post(writer, 4)
    assert await writer.missing_chat("r1", ids) == []
    assert await writer.delete_chat("r1", ids[1])  # as if Redis came back without it
    assert await reader.missing_chat("r1", ids) == [ids[1]]
    assert await reader.missing_chat("nowhere", ids[:2]) == ids[:2]
    lost = ChatMessage(ids[1], "r1", "s", "s", "s:1", 1.0)
    position = await writer.append_journaled(lost)
    assert position != ids[1] and await writer.append_journaled(lost) == position
    assert await reader.missing_chat("r1", [position]) == []
    page = await reader.chat_page("r1", after=ids[-1])
    assert [(m.id, m.position, m.journaled_by) for m in page] == [(ids[1], position, "")]
    assert await writer.delete_chat("r1", ids[1])
    assert [m.id for m in await reader.chat_page("r1", after="0-0")] == [ids[0], *ids[2:]]
    run = await writer.incarnation()  # the same run of the Store for everyone, until it restarts
    assert run and await reader.incarnation() == run


async def test_chat_history_pages_backwards(harness: Harness) -> None:
    store = harness.store()
    ids = await post(store, 10)
    assert [m.id for m in await store.chat_page("r1", limit=4)] == ids[-4:]
    assert [m.id for m in await store.chat_page("r1", before=ids[6], limit=4)] == ids[2:6]
    assert [m.id for m in await store.chat_page("r1", before=ids[1], limit=4)] == ids[:1]
    assert await store.chat_page("r1", limit=0) == []
    assert await store.chat_page("empty-room") == []
    message = (await store.chat_page("r1", limit=1))[0]
    assert (message.room_id, message.sender, message.text, message.sent_at) == (
        "r1", "s", "s:9", 9.0)


async def test_chat_is_capped_per_room(harness: Harness) -> None:
    store = harness.store(chat_cap=50)
    ids = await post(store, 200)
    kept = [m.id for m in await store.chat_page("r1", limit=1000)]
    # Redis trims approximately (XADD MAXLEN ~: whole stream nodes of 100 entries).
    assert 50 <= len(kept) <= 50 + 100
    assert kept == ids[-len(kept):], "the newest messages are kept, in order"
    assert await store.chat_page("r2") == []


async def test_1000_concurrent_appends_lose_none_and_keep_order_per_sender(
    harness: Harness,
) -> None:
    store = harness.store(chat_cap=5_000)
    senders = [f"sender{i:02d}" for i in range(40)]
    await asyncio.gather(*(post(store, 25, sender=s) for s in senders))
    messages = await store.chat_page("r1", after="0-0", limit=5_000)
    assert len(messages) == 1_000
    assert len({m.id for m in messages}) == 1_000, "ids are unique"
    for sender in senders:
        texts = [m.text for m in messages if m.sender == sender]
        assert texts == [f"{sender}:{i}" for i in range(25)]


async def test_moderator_deletes_a_message(harness: Harness) -> None:
    store = harness.store()
    ids = await post(store, 3)
    assert await store.delete_chat("r1", ids[1])
    assert not await store.delete_chat("r1", ids[1])
    assert [m.id for m in await store.chat_page("r1")] == [ids[0], ids[2]]
    assert [m.id for m in await store.chat_page("r1", after=ids[0])] == [ids[2]]
    with pytest.raises(InvalidInput) as bad:
        await store.chat_page("r1", after="not-an-id")
    assert bad.value.code == "bad_message_id"


# -- reactions, products, Q&A ----------------------------------------------------------------------
async def test_reaction_counters(harness: Harness) -> None:
    store = harness.store()
    assert await store.reactions("r1") == {}
    await asyncio.gather(*(store.add_reaction("r1", "heart") for _ in range(30)))
    assert await store.add_reaction("r1", "clap", 5) == 5
    assert await harness.store().reactions("r1") == {"heart": 30, "clap": 5}


def card(product_id: str) -> ProductCard:
    return ProductCard(id=product_id, room_id="r1", name=LocalizedText({"en": product_id}),
                       price=Decimal("9.90"), currency="CNY")


async def test_product_cards_pin_up_to_the_limit(harness: Harness) -> None:
    store = harness.store()
    for product_id in ("p1", "p2", "p3"):
        await store.put_product(card(product_id))
    assert await store.pin_product("r1", "p1", max_pinned=2)
    assert await store.pin_product("r1", "p2", max_pinned=2)
    assert await store.pin_product("r1", "p2", max_pinned=2), "pinning twice is fine"
    assert not await store.pin_product("r1", "p3", max_pinned=2), "limit reached"
    with pytest.raises(NoSuchRoom) as missing:
        await store.pin_product("r1", "ghost", max_pinned=2)
    assert missing.value.code == "no_such_product"
    assert [(c.id, c.pinned) for c in await store.list_products("r1")] == [
        ("p1", True), ("p2", True), ("p3", False)]
    assert await store.unpin_product("r1", "p1")
    assert not await store.unpin_product("r1", "p1")
    assert await store.delete_product("r1", "p2")
    assert await store.pin_product("r1", "p3", max_pinned=2)
    listed = await store.list_products("r1")
    assert [(c.id, c.pinned) for c in listed] == [("p1", False), ("p3", True)]
    assert listed[1] == card("p3").with_pin(True)


async def test_questions_sorted_by_votes_one_vote_each(harness: Harness) -> None:
    store = harness.store()
    q1 = await store.add_question("r1", asker="a", name="A", text="Price?", asked_at=1.0)
    q2 = await store.add_question("r1", asker="b", name="B", text="Delivery?", asked_at=2.0)
    q3 = await store.add_question("r1", asker="c", name="C", text="MOQ?", asked_at=3.0)
    assert len({q1.id, q2.id, q3.id}) == 3
    assert await store.vote_question("r1", q3.id, "x") == 1
    assert await store.vote_question("r1", q3.id, "x") == 1, "a repeat vote is ignored"
    assert await store.vote_question("r1", q3.id, "y") == 2
    assert await store.vote_question("r1", q2.id, "x") == 1
    with pytest.raises(NoSuchRoom):
        await store.vote_question("r1", "999", "x")
    assert await store.answer_question("r1", q2.id)
    assert not await store.answer_question("r1", "999")
    listed = await store.list_questions("r1")
    assert [(q.id, q.votes) for q in listed] == [(q3.id, 2), (q2.id, 1), (q1.id, 0)]
    assert listed[1].answered and listed[1].text == "Delivery?"


async def test_open_questions_are_capped_and_answering_frees_a_place(harness: Harness) -> None:
    store = harness.store()
    asked = [await store.add_question("r1", asker=f"a{n}", name="A", text=f"Q{n}?",
                                      asked_at=float(n), max_open=3) for n in range(3)]
    with pytest.raises(RoomFull) as refused:
        await store.add_question("r1", asker="late", name="L", text="Me?", asked_at=9.0,
                                 max_open=3)
    assert (refused.value.code, refused.value.limit) == ("questions_full", 3)
    assert len(await store.list_questions("r1")) == 3, "a refused question is not written"
    await store.add_question("r2", asker="x", name="X", text="Other room?", asked_at=1.0,
                             max_open=3)  # the cap is per room
    assert await store.answer_question("r1", asked[0].id)
    assert await store.answer_question("r1", asked[0].id), "answering twice is harmless"
    late = await store.add_question("r1", asker="late", name="L", text="Me?", asked_at=9.0,
                                    max_open=3)
    with pytest.raises(RoomFull):
        await store.add_question("r1", asker="later", name="L", text="Me?", asked_at=9.5,
                                 max_open=3)
    listed = await store.list_questions("r1")
    assert {q.id for q in listed} == {q.id for q in asked} | {late.id}
    assert next(q for q in listed if q.id == late.id).text == "Me?"


def quote(room_id: str, n: int) -> QuoteRequest:
    return QuoteRequest(room_id, f"p{n}", "Tea", f"v{n}", "Виктор", "ru", float(n))


async def test_quote_requests_are_kept_per_room_capped_oldest_first(harness: Harness) -> None:
    store = harness.store()
    assert await store.list_quotes("r1") == []
    for n in range(5):
        await store.add_quote(quote("r1", n), cap=3)
    await store.add_quote(quote("r2", 9), cap=3)
    assert await store.list_quotes("r1") == [quote("r1", 2), quote("r1", 3), quote("r1", 4)]
    assert await store.list_quotes("r2") == [quote("r2", 9)]


async def test_a_quote_request_is_replaced_and_deleted_by_id(harness: Harness) -> None:
    """Replies replace a request in place (its order kept); withdrawing deletes exactly it; an
    id that is gone answers False both times."""
    store = harness.store()
    first, second = (replace(quote("r1", n), id=f"q{n}") for n in (1, 2))
    for q in (first, second):
        await store.add_quote(q, cap=10)
    answered = first.with_reply(Reply("Changbai Foods", "¥3,200 / t", 5.0))
    assert await store.replace_quote(answered) is True
    assert await store.list_quotes("r1") == [answered, second]
    assert await store.delete_quote("r1", "q1") is True
    assert await store.list_quotes("r1") == [second]
    assert await store.delete_quote("r1", "q1") is False
    assert await store.replace_quote(answered) is False
    assert await store.delete_quote("r2", "q2") is False
    assert await store.list_quotes("r1") == [second]


async def test_pictures_are_bytes_capped_per_room(harness: Harness) -> None:
    """Any bytes come back as they went in; a room holds at most ``cap`` pictures (storing one
    already there is no change); deleting frees a place; rooms do not share."""
    store = harness.store()
    blobs = {f"{n}.png": bytes([n]) * 10 + b"\x00\xff\x89" for n in range(3)}
    for name, data in list(blobs.items())[:2]:
        assert await store.put_picture("r1", name, data, cap=2) is True
    assert await store.put_picture("r1", "0.png", blobs["0.png"], cap=2) is True
    assert await store.put_picture("r1", "2.png", blobs["2.png"], cap=2) is False
    assert await store.get_picture("r1", "2.png") is None
    assert await store.get_picture("r1", "1.png") == blobs["1.png"]
    assert await store.put_picture("r2", "2.png", blobs["2.png"], cap=2) is True
    assert await store.delete_picture("r1", "0.png") is True
    assert await store.delete_picture("r1", "0.png") is False
    assert await store.put_picture("r1", "2.png", blobs["2.png"], cap=2) is True
    assert await store.get_picture("r1", "0.png") is None


async def test_presence_of_a_big_broadcast(harness: Harness) -> None:
    """Rosters are read in batches of 1,000 (Lua's unpack() fails past about 8,000 values, so
    one HMGET of a big broadcast's viewers would); 2,500 viewers cross two batch boundaries."""
    store = harness.store()
    for start in range(0, 2_500, 250):
        await asyncio.gather(*(store.put_participant(person(f"v{i:05d}", joined_at=float(i)),
                                                     ttl_s=60) for i in range(start, start + 250)))
    await store.put_participant(person("rec", hidden=True, joined_at=9e9), ttl_s=60)
    assert await store.count_present("r1") == 2_500
    people = await store.list_participants("r1")
    assert len(people) == 2_501 and len({p.identity for p in people}) == 2_501
    assert people[0].identity == "v00000" and people[-1].identity == "rec"
    found = await store.get_participant("r1", "v01234")
    assert found is not None and found.name == "V01234"
    assert await store.get_participant("r1", "nobody") is None
    assert await store.heartbeat_many("r1", [p.identity for p in people], ttl_s=60) == []
