"""RoomService: each action returns a domain event or a typed error that says who is at fault.

Most scenarios run on memory with a fake clock; the two-node ones (lease -> WrongNode, a kick
reaching the participant's node) run on memory and on a real redis-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest

from config import SignalingLimits
from rooms.bus import EVERY_NODE
from rooms.clock import FakeClock
from rooms.content import ProductCard
from rooms.errors import (
    InvalidInput,
    NoSuchRoom,
    NotAllowed,
    RateLimited,
    RoomFull,
    RoomsError,
    StoreUnavailable,
    WrongNode,
)
from rooms.events import Joined, Kicked, Left, ParticipantChanged
from rooms.keeper import Keeper
from rooms.memory_store import MemoryStore
from rooms.participant import Role
from rooms.pavilion import Pavilion
from rooms.rate import Rate
from rooms.room import Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.stage import INVITE_TTL_S
from rooms.store import LeaseHolder
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant
from tests.rooms.harness import Harness

J, P, S, C, M, H = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE,
                    Grant.HIDDEN)
LIMITS = SignalingLimits(chat_max_chars=50, question_max_chars=40, chat_per_second=1.0,
                         chat_burst=3)
E = TypeVar("E", bound=RoomsError)


@dataclass
class World:
    clock: FakeClock
    store: MemoryStore
    service: RoomService

    def token(self, identity: str, *grants: Grant, room: str = "*", ttl: float = 3600,
              name: str = "") -> AccessToken:
        return AccessToken(identity=identity, room=room, grants=frozenset({J, *grants}),
                           expires_at=int(self.clock.now() + ttl), name=name)

    async def room(self, room_id: str, kind: RoomKind, **kw: object) -> Room:
        start = datetime.fromtimestamp(self.clock.now(), UTC) - timedelta(minutes=5)
        fields: dict[str, object] = {"id": room_id, "kind": kind, "pavilion": Pavilion.NEW_MEDIA,
                                     "title": LocalizedText({"en": room_id}),
                                     "exhibitor": "expo-co", "starts_at": start,
                                     "state": RoomState.LIVE, **kw}
        room = Room(**fields)  # type: ignore[arg-type]
        await self.store.put_room(room)
        return room


@pytest.fixture
async def world() -> World:
    from rooms.memory_bus import MemoryBus

    clock = FakeClock()
    store = MemoryStore(clock=clock)
    node = LeaseHolder("node-a", "http://a:8080")
    service = RoomService(store, MemoryBus("node-a"), node=node, limits=LIMITS, clock=clock)
    return World(clock, store, service)


async def refused(kind: type[E], action: Awaitable[object], code: str) -> E:
    with pytest.raises(kind) as caught:
        await action
    assert caught.value.code == code, caught.value
    return caught.value


# -- joining ---------------------------------------------------------------------------------
async def test_join_broadcast_roles_and_presence(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc = world.service
    host = await svc.join(world.token("expo-co", P, C), "live", name="Changbai Foods",
                          language="zh")
    assert isinstance(host, Joined)
    assert (host.participant.role, host.participant.on_stage) == (Role.HOST, True)
    assert (host.participant.name, host.participant.language) == ("Changbai Foods", "zh")
    viewer = (await svc.join(world.token("fan", S, C, name="Fan One"), "live")).participant
    assert (viewer.role, viewer.on_stage, viewer.name) == (Role.VIEWER, False, "Fan One")
    await svc.join(world.token("recorder", H), "live")
    assert await world.store.count_present("live") == 2, "the recorder is hidden"
    [left] = await svc.leave(world.token("fan"), "live")
    assert isinstance(left, Left) and (left.room_id, left.identity) == ("live", "fan")
    assert await world.store.count_present("live") == 1
    assert host.to_dict()["participant"]["role"] == "host"


async def test_join_refusals_say_why(world: World) -> None:
    svc = world.service
    await world.room("live", RoomKind.BROADCAST)
    later = datetime.fromtimestamp(world.clock.now(), UTC) + timedelta(hours=2)
    await world.room("later", RoomKind.FORUM, state=RoomState.SCHEDULED, starts_at=later)
    await world.room("over", RoomKind.FORUM, state=RoomState.ENDED)
    await world.room("locked", RoomKind.FORUM, locked=True)
    await refused(NoSuchRoom, svc.join(world.token("u"), "nowhere"), "no_such_room")
    await refused(NotAllowed, svc.join(world.token("u", room="other"), "live"), "wrong_room")
    no_join = AccessToken(identity="u", room="*", grants=frozenset({S}), expires_at=2**31 - 1)
    await refused(NotAllowed, svc.join(no_join, "live"), "no_join_grant")
    await refused(NotAllowed, svc.join(world.token("u"), "later"), "not_started")
    await refused(NotAllowed, svc.join(world.token("u"), "over"), "room_ended")
    await refused(NotAllowed, svc.join(world.token("u"), "locked"), "room_locked")
    await svc.join(world.token("chair", M), "locked")  # staff enter a locked room
    await refused(InvalidInput, svc.join(world.token("u"), "live", name="\x1b[31m"),
                  "name_control_chars")
    await refused(InvalidInput, svc.join(world.token("u"), "live", language="fr"),
                  "bad_language")
    assert await world.store.count_present("live") == 0, "refusals write nothing"


async def test_capacity(world: World) -> None:
    await world.room("small", RoomKind.BROADCAST, capacity=2)
    await world.service.join(world.token("a"), "small")
    await world.service.join(world.token("b"), "small")
    await world.service.join(world.token("a"), "small")  # re-joining takes no new seat
    full = await refused(RoomFull, world.service.join(world.token("c"), "small"), "room_full")
    assert full.limit == 2


async def test_meeting_waiting_room_admit_and_the_fifth_person(world: World) -> None:
    await world.room("meet", RoomKind.MEETING, capacity=4)
    svc, host = world.service, world.token("expo-co", P, room="meet")
    await svc.join(host, "meet")
    guests = [world.token(f"buyer{i}", P, S, C, room="meet") for i in range(4)]
    for guest in guests:
        joined = await svc.join(guest, "meet")
        assert joined.participant.waiting and not joined.participant.on_stage
    await refused(NotAllowed, svc.post_chat(guests[0], "meet", "hello?"), "in_waiting_room")
    await refused(NotAllowed, svc.admit(guests[0], "meet", "buyer1"), "not_moderator")
    for i in range(3):
        admitted = await svc.admit(host, "meet", f"buyer{i}")
        assert admitted.change == "admitted" and admitted.participant.on_stage
    await refused(RoomFull, svc.admit(host, "meet", "buyer3"), "room_full")
    await refused(NotAllowed, svc.admit(host, "meet", "buyer0"), "not_waiting")
    await refused(NotAllowed, svc.join(world.token("crasher"), "meet"), "not_invited")
    assert await world.store.count_present("meet") == 4
    await svc.post_chat(guests[0], "meet", "Hello from the buyer")


async def test_deny_turns_a_knock_away_and_the_guest_may_knock_again(world: World) -> None:
    await world.room("meet", RoomKind.MEETING, capacity=4)
    svc, host = world.service, world.token("expo-co", P, room="meet")
    await svc.join(host, "meet")
    guest = world.token("buyer", P, S, C, room="meet")
    await svc.join(guest, "meet")
    await refused(NotAllowed, svc.deny(guest, "meet", "buyer"), "not_moderator")
    denied = await svc.deny(host, "meet", "buyer")
    assert (denied.change, denied.participant.identity) == ("denied", "buyer")
    assert await world.store.get_participant("meet", "buyer") is None
    assert ("meet", "buyer") not in svc.local
    await refused(NoSuchRoom, svc.deny(host, "meet", "buyer"), "no_such_participant")
    again = await svc.join(guest, "meet")  # not banned: it may knock again
    assert again.participant.waiting
    await svc.admit(host, "meet", "buyer")
    await refused(NotAllowed, svc.deny(host, "meet", "buyer"), "not_waiting")
    await world.room("live", RoomKind.BROADCAST)
    await svc.join(world.token("fan"), "live")
    await refused(NotAllowed, svc.deny(world.token("chair", M), "live", "fan"), "not_a_meeting")


async def test_a_meeting_outlives_its_host_leaving_and_ends_only_when_closed(
        world: World) -> None:
    """Leaving (a closed tab, a dropped connection) never ends a meeting, in any order; the
    host's explicit ``room.close`` (set_state ENDED) does, once."""
    await world.room("meet", RoomKind.MEETING, capacity=4)
    svc = world.service
    host = world.token("expo-co", room="meet")  # the room's exhibitor: its host
    admin, guest = world.token("admin", M), world.token("buyer", C, room="meet")
    await svc.join(host, "meet")
    assert [type(e) for e in await svc.leave(host, "meet")] == [Left]  # before anyone came
    assert (await svc.room("meet")).state is not RoomState.ENDED
    knock = await svc.join(guest, "meet")  # the buyer comes while the host is away
    assert knock.participant.waiting
    await svc.join(host, "meet")  # the host comes back and lets them in
    await svc.admit(host, "meet", "buyer")
    await svc.join(admin, "meet")
    for who in (host, guest, admin):
        assert [type(e) for e in await svc.leave(who, "meet")] == [Left]
        assert (await svc.room("meet")).state is not RoomState.ENDED
    await svc.join(host, "meet")
    await svc.join(guest, "meet")  # admitted once: straight back in
    ended = await svc.set_state(host, "meet", RoomState.ENDED)  # "End meeting for everyone"
    assert (ended.change, ended.room.state) == ("ended", RoomState.ENDED)
    await refused(NotAllowed, svc.join(guest, "meet"), "room_ended")
    assert [type(e) for e in await svc.leave(host, "meet")] == [Left]


async def test_a_reconnect_keeps_stage_admission_and_mute(world: World) -> None:
    await world.room("forum", RoomKind.FORUM, capacity=2)
    svc, chair = world.service, world.token("chair", M)
    await svc.join(chair, "forum")
    fan = world.token("fan", C)
    await svc.join(fan, "forum")
    await svc.promote(chair, "forum", "fan")
    await svc.accept_stage(fan, "forum")
    await svc.mute(chair, "forum", "fan", True)
    again = (await svc.join(fan, "forum", name="Fan (phone)", language="ko")).participant
    assert (again.role, again.on_stage, again.muted) == (Role.SPEAKER, True, True)
    assert (again.name, again.language) == ("Fan (phone)", "ko")
    assert len(svc.local) == 2 and await world.store.count_present("forum") == 2


async def test_kick_bans_for_the_token_lifetime(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc, mod = world.service, world.token("mod", M)
    troll = world.token("troll", C, ttl=600)
    await svc.join(troll, "live")
    await refused(NotAllowed, svc.kick(world.token("fan"), "live", "troll"), "not_moderator")
    kicked = await svc.kick(mod, "live", "troll")
    assert isinstance(kicked, Kicked) and kicked.banned_until == troll.expires_at
    assert await world.store.get_participant("live", "troll") is None
    await refused(NotAllowed, svc.join(troll, "live"), "banned")
    await refused(NoSuchRoom, svc.kick(mod, "live", "troll"), "no_such_participant")
    world.clock.advance(601)
    await svc.join(world.token("troll", C), "live")  # a new token after the old one expired


# -- stage and hands -------------------------------------------------------------------------------
async def test_forum_hands_promotion_stage_limit_and_demotion(world: World) -> None:
    await world.room("forum", RoomKind.FORUM, stage_size=2)
    svc, chair = world.service, world.token("chair", M)
    assert (await svc.join(chair, "forum")).participant.on_stage
    delegates = [world.token(f"d{i}", S, C) for i in range(2)]
    for d in delegates:
        await svc.join(d, "forum")
    raised = await svc.raise_hand(delegates[0], "forum", True)
    assert raised.participant.hand_raised and raised.change == "hand_raised"
    invited = await svc.promote(chair, "forum", "d0")
    assert invited.change == "invited" and not invited.participant.on_stage
    await refused(NotAllowed, svc.check_publish(delegates[0], "forum"), "not_on_stage")
    promoted = await svc.accept_stage(delegates[0], "forum")
    assert isinstance(promoted, ParticipantChanged) and promoted.change == "promoted"
    p = promoted.participant
    assert (p.role, p.on_stage, p.hand_raised) == (Role.SPEAKER, True, False)
    await refused(NotAllowed, svc.raise_hand(delegates[0], "forum", True), "already_on_stage")
    assert (await svc.check_publish(delegates[0], "forum")).identity == "d0"
    await refused(NotAllowed, svc.check_publish(delegates[1], "forum"), "not_on_stage")
    await refused(RoomFull, svc.promote(chair, "forum", "d1"), "stage_full")
    await refused(NotAllowed, svc.promote(delegates[1], "forum", "d1"), "not_moderator")
    demoted = (await svc.demote(chair, "forum", "d0")).participant
    assert (demoted.role, demoted.on_stage) == (Role.VIEWER, False)
    assert (await svc.promote(chair, "forum", "d1")).change == "invited"
    assert (await svc.accept_stage(delegates[1], "forum")).participant.on_stage
    lowered = await svc.raise_hand(delegates[0], "forum", False)
    assert lowered.change == "hand_lowered"
    await refused(NotAllowed, svc.raise_hand(world.token("ghost"), "forum", True), "not_in_room")


async def test_lock_close_and_mute(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc, mod, fan = world.service, world.token("mod", M), world.token("fan", C)
    await svc.join(fan, "live")
    assert (await svc.lock(mod, "live", True)).room.locked
    await refused(NotAllowed, svc.join(world.token("late"), "live"), "room_locked")
    muted = await svc.mute(mod, "live", "fan", True)
    assert muted.participant.muted and muted.change == "muted"
    await refused(NotAllowed, svc.post_chat(fan, "live", "hi"), "muted")
    await svc.mute(mod, "live", "fan", False)
    await svc.post_chat(fan, "live", "hi")
    await refused(NotAllowed, svc.set_state(mod, "live", RoomState.SCHEDULED), "bad_transition")
    assert (await svc.set_state(mod, "live", RoomState.LIVE)).room.state is RoomState.LIVE
    closed = await svc.set_state(mod, "live", RoomState.ENDED)
    assert closed.room.state is RoomState.ENDED and closed.change == "ended"
    await refused(NotAllowed, svc.set_state(mod, "live", RoomState.LIVE), "room_ended")
    await refused(NotAllowed, svc.lock(fan, "live", False), "not_moderator")


# -- chat, reactions, questions, products -------------------------------------------------
async def test_chat_limits_and_rate(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc, fan = world.service, world.token("fan", C)
    await refused(NotAllowed, svc.post_chat(fan, "live", "before joining"), "not_in_room")
    await svc.join(fan, "live")
    posted = [await svc.post_chat(fan, "live", f"<b>{i}</b>") for i in range(3)]
    assert posted[0].message.text == "<b>0</b>", "stored as given"
    limited = await refused(RateLimited, svc.post_chat(fan, "live", "again"), "rate_limited")
    assert limited.retry_after_s == pytest.approx(1.0)
    world.clock.advance(1.0)
    await svc.post_chat(fan, "live", "again")
    await refused(InvalidInput, svc.post_chat(fan, "live", "x" * 51), "message_too_long")
    await refused(InvalidInput, svc.post_chat(fan, "live", "  "), "message_empty")
    history = await world.store.chat_page("live")
    assert [m.text for m in history] == ["<b>0</b>", "<b>1</b>", "<b>2</b>", "again"]
    mod = world.token("mod", M)
    deleted = await svc.delete_chat(mod, "live", history[1].id)
    assert deleted.message_id == history[1].id
    await refused(NoSuchRoom, svc.delete_chat(mod, "live", history[1].id), "no_such_message")
    await refused(NotAllowed, svc.delete_chat(fan, "live", history[0].id), "not_moderator")


async def test_rate_limits_are_configurable(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc = RoomService(world.store, world.service.bus, node=world.service.node, limits=LIMITS,
                      clock=world.clock, rates={"reactions": Rate(per_second=1.0, burst=1)})
    fan = world.token("fan", C)
    await svc.join(fan, "live")
    await svc.react(fan, "live", "heart")
    await refused(RateLimited, svc.react(fan, "live", "heart"), "rate_limited")
    for i in range(3):  # chat keeps its own bucket (burst 3 from LIMITS)
        await svc.post_chat(fan, "live", f"m{i}")


async def test_reactions_and_questions(world: World) -> None:
    await world.room("forum", RoomKind.FORUM)
    svc, a, b = world.service, world.token("a", C), world.token("b", C)
    await svc.join(a, "forum")
    await svc.join(b, "forum")
    assert (await svc.react(a, "forum", "clap")).total == 1
    assert (await svc.react(b, "forum", "clap")).total == 2
    await refused(InvalidInput, svc.react(a, "forum", "<img>"), "bad_reaction")
    asked = (await svc.ask(a, "forum", "When is the next round?")).question
    await refused(InvalidInput, svc.ask(a, "forum", "?" * 41), "question_too_long")
    assert (await svc.vote(b, "forum", asked.id)).votes == 1
    assert (await svc.vote(b, "forum", asked.id)).votes == 1
    await refused(NoSuchRoom, svc.vote(b, "forum", "404"), "no_such_question")
    await refused(NotAllowed, svc.answer(b, "forum", asked.id), "not_moderator")
    answered = await svc.answer(world.token("chair", M), "forum", asked.id)
    assert answered.to_dict() == {"room_id": "forum", "question_id": asked.id}
    assert (await world.store.list_questions("forum"))[0].answered
    await refused(NoSuchRoom, svc.answer(world.token("chair", M), "forum", "404"),
                  "no_such_question")
    await world.room("meet", RoomKind.MEETING)
    await refused(NotAllowed, svc.ask(world.token("expo-co"), "meet", "q?"), "no_questions")


async def test_pinning_products(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST, max_pinned=1)
    await world.room("forum", RoomKind.FORUM)
    for pid in ("p1", "p2"):
        await world.store.put_product(ProductCard(
            id=pid, room_id="live", name=LocalizedText({"en": pid}), price=Decimal(1),
            currency="CNY"))
    svc, host = world.service, world.token("expo-co", P)
    assert (await svc.pin_product(host, "live", "p1", True)).pinned
    await refused(RoomFull, svc.pin_product(host, "live", "p2", True), "pins_full")
    await refused(NotAllowed, svc.pin_product(world.token("fan"), "live", "p2", True),
                  "not_host")
    await refused(NotAllowed, svc.pin_product(host, "forum", "p1", True), "not_a_broadcast")
    assert not (await svc.pin_product(host, "live", "p1", False)).pinned
    assert (await svc.pin_product(host, "live", "p2", True)).product_id == "p2"


# -- two nodes -------------------------------------------------------------------------------------
async def two_services(harness: Harness) -> tuple[RoomService, RoomService]:
    def node(name: str) -> LeaseHolder:
        return LeaseHolder(f"node-{name}", f"http://{name}.example:8080")

    services = []
    for name in ("a", "b"):
        services.append(RoomService(harness.store(), await harness.bus(f"node-{name}"),
                                    node=node(name), limits=LIMITS, clock=harness.clock))
    return services[0], services[1]


def forum(room_id: str) -> Room:
    return Room(id=room_id, kind=RoomKind.FORUM, pavilion=Pavilion.NORTHEAST_ASIA,
                title=LocalizedText({"en": "Forum"}), state=RoomState.LIVE)


def tok(identity: str, *grants: Grant) -> AccessToken:
    return AccessToken(identity=identity, room="*", grants=frozenset({J, C, *grants}),
                       expires_at=2**31 - 1)


async def test_a_room_lives_on_one_node_others_are_sent_there(harness: Harness) -> None:
    a, b = await two_services(harness)
    await a.store.put_room(forum("f1"))
    await a.join(tok("alice"), "f1", media=True)
    wrong = await refused(WrongNode, b.join(tok("bob"), "f1", media=True), "wrong_node")
    assert (wrong.node_url, wrong.node_id) == ("http://a.example:8080", "node-a")
    await a.leave(tok("alice"), "f1")  # the last local participant releases the lease
    assert (await b.join(tok("bob"), "f1", media=True)).participant.node_id == "node-b"
    await refused(WrongNode, a.join(tok("alice"), "f1", media=True), "wrong_node")


async def test_a_cap_and_a_stage_hold_when_two_nodes_race(harness: Harness) -> None:
    """Joins of a capped room and promotions to a forum stage count who is present; racing on
    two nodes (real Redis: the reads and writes interleave) they still never overfill it."""
    a, b = await two_services(harness)
    await a.store.put_room(replace(forum("capped"), capacity=5))
    tries = [node.join(tok(f"v{n}"), "capped") for n, node in enumerate([a, b] * 6)]
    results = await asyncio.gather(*tries, return_exceptions=True)
    admitted = [r for r in results if isinstance(r, Joined)]
    assert len(admitted) == 5, results
    assert all(isinstance(r, RoomFull) for r in results if not isinstance(r, Joined))
    assert len(await a.store.list_participants("capped")) == 5

    await a.store.put_room(replace(forum("panel"), stage_size=2))
    for n, node in enumerate([a, b] * 3):
        await node.join(tok(f"s{n}"), "panel")
    moderator = tok("mod", M)
    for n in range(6):  # invitations take no seat: only accepting one does
        assert (await a.promote(moderator, "panel", f"s{n}")).change == "invited"
    accepts = [node.accept_stage(tok(f"s{n}"), "panel") for n, node in enumerate([a, b] * 3)]
    results = await asyncio.gather(*accepts, return_exceptions=True)
    assert sum(isinstance(r, ParticipantChanged) for r in results) == 2, results
    on_stage = [p for p in await b.store.list_participants("panel") if p.on_stage]
    assert len(on_stage) == 2


async def test_joining_a_forum_claims_no_lease_media_does(harness: Harness) -> None:
    """Chat and presence cross nodes: only media (``claim``) is tied to the lease holder."""
    a, b = await two_services(harness)
    await a.store.put_room(forum("f1"))
    await a.join(tok("alice"), "f1")
    assert await a.store.get_lease("f1") is None and "f1" not in a.leases
    await a.claim("f1")  # alice publishes on node A
    joined = await b.join(tok("bob"), "f1")
    assert joined.participant.node_id == "node-b" and "f1" not in b.leases
    wrong = await refused(WrongNode, b.claim("f1"), "wrong_node")  # bob subscribes on node B
    assert wrong.node_url == "http://a.example:8080"
    await b.leave(tok("bob"), "f1")  # a node without the lease releases nothing
    assert (await a.store.get_lease("f1")).holder == a.node  # type: ignore[union-attr]


async def test_joining_a_meeting_claims_its_lease(harness: Harness) -> None:
    """A meeting's four seats are counted on the one node holding its lease (no race)."""
    a, b = await two_services(harness)
    await a.store.put_room(Room(id="m1", kind=RoomKind.MEETING, pavilion=Pavilion.NORTHEAST_ASIA,
                                title=LocalizedText({"en": "M"}), exhibitor="alice",
                                state=RoomState.LIVE))
    await a.join(tok("alice"), "m1")
    assert "m1" in a.leases
    bob = AccessToken(identity="bob", room="m1", grants=frozenset({J, C}), expires_at=2**31 - 1)
    await refused(WrongNode, b.join(bob, "m1"), "wrong_node")


async def test_a_chat_only_client_joins_on_any_node(harness: Harness) -> None:
    a, b = await two_services(harness)
    await a.store.put_room(forum("f1"))
    await a.join(tok("alice"), "f1", media=True)
    joined = await b.join(tok("bob"), "f1", media=False)
    assert joined.participant.node_id == "node-b" and "f1" not in b.leases
    await b.post_chat(tok("bob"), "f1", "hello from node B")
    assert [m.text for m in await a.store.chat_page("f1")] == ["hello from node B"]
    assert (await a.store.get_lease("f1")).holder == a.node  # type: ignore[union-attr]


async def test_a_kick_reaches_every_node(harness: Harness) -> None:
    a, b = await two_services(harness)
    await a.store.put_room(forum("f1"))
    inbox = await b.bus.subscribe(EVERY_NODE)  # a person may hold sessions on any node
    await b.join(tok("bob"), "f1")
    await a.kick(tok("admin", M), "f1", "bob")  # e.g. the admin API answered by node A
    message = await asyncio.wait_for(inbox.get(), 10)
    payload = dict(message.payload)
    assert payload.pop("banned_until") > 0  # told to the person's sessions before they go
    assert (message.kind, payload, message.origin) == (
        "kick", {"room_id": "f1", "identity": "bob"}, "node-a")
    assert await b.store.get_participant("f1", "bob") is None


async def test_a_deny_reaches_every_node(harness: Harness) -> None:
    a, b = await two_services(harness)
    await a.store.put_room(Room(id="m2", kind=RoomKind.MEETING, pavilion=Pavilion.NORTHEAST_ASIA,
                                title=LocalizedText({"en": "M"}), exhibitor="seller",
                                state=RoomState.LIVE))
    inbox = await b.bus.subscribe(EVERY_NODE)
    guest = AccessToken(identity="buyer", room="m2", grants=frozenset({J, C}),
                        expires_at=2**31 - 1)
    await b.join(guest, "m2")  # node B holds the meeting (its lease)
    await a.deny(tok("admin", M), "m2", "buyer")  # e.g. the admin API answered by node A
    message = await asyncio.wait_for(inbox.get(), 10)
    assert (message.kind, dict(message.payload)) == ("deny", {"room_id": "m2",
                                                              "identity": "buyer"})
    assert await b.store.get_participant("m2", "buyer") is None
    assert not await b.store.is_banned("m2", "buyer")


# -- the keeper ------------------------------------------------------------------------------------
async def test_keeper_heartbeats_and_reannounces_what_expired(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc = world.service
    keeper = Keeper(svc, interval_s=3600)  # driven by tick() here, not by its timer
    await svc.join(world.token("fan"), "live", media=True)
    world.clock.advance(svc.presence_ttl_s - 1)
    await keeper.tick()
    world.clock.advance(svc.presence_ttl_s - 1)
    assert await world.store.count_present("live") == 1, "heartbeats keep presence"
    world.clock.advance(svc.presence_ttl_s * 3)  # e.g. the store was unreachable meanwhile
    assert await world.store.count_present("live") == 0
    assert await world.store.get_lease("live") is None
    await keeper.tick()
    assert await world.store.count_present("live") == 1, "re-announced"
    lease = await world.store.get_lease("live")
    assert lease is not None and lease.holder == svc.node
    assert keeper.healthy


async def _fan_and_keeper(world: World) -> tuple[Keeper, list[list[Joined]]]:
    """A fan in a broadcast, and a keeper driven by ``tick()`` whose write-backs it announces
    (``on_rejoined``) are collected in the list returned."""
    await world.room("live", RoomKind.BROADCAST)
    keeper = Keeper(world.service, interval_s=3600)
    told: list[list[Joined]] = []

    async def rejoined(events: list[Joined]) -> None:
        told.append(events)
    keeper.on_rejoined = rejoined
    await world.service.join(world.token("fan"), "live", media=True)
    return keeper, told


async def test_keeper_announces_members_a_sweep_removed_while_the_node_stalled(
        world: World) -> None:
    """Issue 13: a live node swept this one as dead (``participant.left`` went to the room);
    the member is still here, so the write-back is announced as ``Joined``."""
    keeper, told = await _fan_and_keeper(world)
    svc = world.service
    await keeper.tick()
    assert told == []  # nothing was gone
    assert await world.store.remove_participant("live", "fan", only_on=svc.node.node_id)
    await keeper.tick()
    assert [[(e.room.id, e.participant.identity) for e in batch] for batch in told] == [
        [("live", "fan")]]
    assert await world.store.get_participant("live", "fan") is not None


async def test_keeper_writes_back_silently_after_a_store_outage(world: World) -> None:
    """Records that lapsed while the Store was away were never announced gone: no ``Joined``
    (the node sends ``presence.sync`` instead)."""
    keeper, told = await _fan_and_keeper(world)
    svc = world.service
    ping = world.store.ping

    async def away() -> None:
        raise StoreUnavailable("test: away")
    world.store.ping = away  # type: ignore[method-assign]
    assert not await keeper._came_back()
    world.store.ping = ping  # type: ignore[method-assign]
    world.clock.advance(svc.presence_ttl_s * 3)
    assert await keeper._came_back()
    await keeper.tick()
    assert told == []
    assert await world.store.get_participant("live", "fan") is not None


async def test_keeper_does_not_bring_back_someone_kicked_elsewhere(harness: Harness) -> None:
    a, b = await two_services(harness)
    await a.store.put_room(forum("f1"))
    await b.join(tok("bob"), "f1")
    await b.join(tok("carol"), "f1")
    await a.kick(tok("admin", M), "f1", "bob")  # suppose node B never hears the bus message
    await Keeper(b, interval_s=3600).tick()
    assert await b.store.get_participant("f1", "bob") is None
    assert ("f1", "bob") not in b.local and ("f1", "carol") in b.local
    assert await b.store.get_participant("f1", "carol") is not None


async def test_keeper_drops_a_lease_another_node_took(world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc = world.service
    keeper = Keeper(svc, interval_s=3600)
    await svc.join(world.token("fan"), "live", media=True)
    world.clock.advance(svc.lease_ttl_s + 1)
    other = LeaseHolder("node-z", "http://z:8080")
    await world.store.claim_lease("live", other, ttl_s=60)
    await keeper.tick()
    assert "live" not in svc.leases
    assert (await world.store.get_lease("live")).holder == other  # type: ignore[union-attr]


async def test_keeper_task_runs_and_stops(world: World) -> None:
    keeper = Keeper(world.service, interval_s=0.01)
    keeper.start()
    await asyncio.sleep(0.05)
    await keeper.aclose()
    assert keeper.exited.is_set()


# -- issue 12: invitations to the stage, a speaker's own controls, display names ----------------
async def test_an_invitation_is_accepted_declined_or_lapses(world: World) -> None:
    await world.room("forum", RoomKind.FORUM, stage_size=3)
    svc, chair = world.service, world.token("chair", M)
    await svc.join(chair, "forum")
    yes, no, late = (world.token(who, C) for who in ("yes", "no", "late"))
    for person in (yes, no, late):
        await svc.join(person, "forum")
    await refused(NotAllowed, svc.accept_stage(yes, "forum"), "no_invitation")
    for who in ("yes", "no", "late"):
        assert (await svc.promote(chair, "forum", who)).participant.invited_until > 0
    assert (await svc.accept_stage(yes, "forum")).participant.on_stage
    declined = await svc.decline_stage(no, "forum")
    assert declined.change == "declined" and declined.participant.invited_until == 0
    await refused(NotAllowed, svc.accept_stage(no, "forum"), "no_invitation")
    for _ in range(int(INVITE_TTL_S // 20) + 1):  # still present (a heartbeat), the time runs out
        world.clock.advance(20)
        await svc.join(late, "forum")
    await refused(NotAllowed, svc.accept_stage(late, "forum"), "invitation_expired")
    assert not (await world.store.get_participant("forum", "late")).on_stage  # type: ignore[union-attr]


async def test_a_speaker_turns_media_off_and_leaves_the_stage(world: World) -> None:
    await world.room("forum", RoomKind.FORUM)
    svc, chair, sam = world.service, world.token("chair", M), world.token("sam", C)
    await svc.join(chair, "forum")
    await svc.join(sam, "forum")
    await refused(NotAllowed, svc.set_media(sam, "forum", audio_off=True, video_off=None),
                  "not_on_stage")
    await svc.promote(chair, "forum", "sam")
    await svc.accept_stage(sam, "forum")
    state = (await svc.set_media(sam, "forum", audio_off=True, video_off=None)).participant
    assert (state.audio_off, state.video_off) == (True, False)
    state = (await svc.set_media(sam, "forum", audio_off=None, video_off=True)).participant
    assert (state.audio_off, state.video_off) == (True, True)
    left = await svc.leave_stage(sam, "forum")
    assert left.change == "demoted" and (left.participant.on_stage, left.participant.role) == (
        False, Role.VIEWER)
    await refused(NotAllowed, svc.check_publish(sam, "forum"), "not_on_stage")
    await refused(NotAllowed, svc.leave_stage(sam, "forum"), "not_on_stage")


async def test_a_display_name_is_chosen_checked_and_the_exhibitor_is_localized(
        world: World) -> None:
    await world.room("live", RoomKind.BROADCAST)
    svc = world.service
    fan = world.token("fan", C)
    await svc.join(fan, "live")
    assert (await svc.rename(fan, "live", "  Olga  ")).participant.name == "Olga"
    await refused(InvalidInput, svc.rename(fan, "live", " "), "name_empty")
    await refused(InvalidInput, svc.rename(fan, "live", "a\u202eb"), "name_control_chars")
    await refused(NotAllowed, svc.rename(world.token("ghost", C), "live", "Ghost"), "not_in_room")
    room = await svc.room("live")
    names = LocalizedText({"zh": "长白山食品", "en": "Changbai Foods"})

    async def book(identity: str) -> LocalizedText | None:
        return names if identity == room.exhibitor else None
    svc.names = book
    host = (await svc.join(world.token(room.exhibitor, M), "live")).participant
    assert (host.name, host.names) == ("Changbai Foods", names)
    assert (await svc.join(fan, "live")).participant.names is None


async def test_the_rooms_own_host_name_comes_before_the_profile(world: World) -> None:
    organiser = LocalizedText({"en": "Expo Secretariat", "ru": "Секретариат ЭКСПО"})
    room = await world.room("panel", RoomKind.FORUM, host_name=organiser)
    svc = world.service

    async def book(identity: str) -> LocalizedText | None:
        return LocalizedText({"en": "from the profile"})
    svc.names = book
    assert await svc.names_of(room, room.exhibitor) == organiser
    assert await svc.names_of(room, "someone-else") is None
    host = (await svc.join(world.token(room.exhibitor, M), "panel")).participant
    assert (host.name, host.names) == ("Expo Secretariat", organiser)
