"""``MemoryStore``: the one-node Store, in process memory, with an injectable clock.

It keeps the same contract as the Redis store (tests/rooms/test_store_contract.py runs both):
TTLs are judged against the clock on every read, chat ids are stream ids, chat is capped per room.
Nothing here awaits anything but the caller, so every method is atomic on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rooms.clock import Clock, SystemClock
from rooms.consent import Consent
from rooms.content import ChatMessage, ProductCard, Question, stream_id_key
from rooms.errors import NoSuchRoom, RoomFull
from rooms.participant import Participant
from rooms.pavilion import Pavilion
from rooms.quote import QuoteRequest
from rooms.recording import TIMELINE_CAP, Recording, TimelineEntry
from rooms.room import Room, RoomState
from rooms.store import Lease, LeaseHolder, Track

DEFAULT_CHAT_CAP = 1_000


@dataclass
class _RoomData:
    """Everything kept for one room id (present even before the room is created)."""

    presence: dict[str, tuple[Participant, float]] = field(default_factory=dict)
    bans: dict[str, float] = field(default_factory=dict)
    chat: deque[ChatMessage] = field(default_factory=deque)
    reactions: Counter[str] = field(default_factory=Counter)
    products: dict[str, ProductCard] = field(default_factory=dict)
    pinned: list[str] = field(default_factory=list)
    questions: dict[str, Question] = field(default_factory=dict)
    voters: dict[str, set[str]] = field(default_factory=dict)
    quotes: deque[QuoteRequest] = field(default_factory=deque)
    pictures: dict[str, bytes] = field(default_factory=dict)
    lease: Lease | None = None
    tracks: tuple[str, list[dict[str, Any]]] | None = None
    channels: tuple[str, list[dict[str, Any]]] | None = None  # issue 17


class MemoryStore:
    """The default Store for one node."""

    def __init__(self, *, clock: Clock | None = None, chat_cap: int = DEFAULT_CHAT_CAP) -> None:
        self._clock = clock or SystemClock()
        self._chat_cap = chat_cap
        self._rooms: dict[str, Room] = {}
        self._data: dict[str, _RoomData] = {}
        self._last_chat_id = (0, 0)
        self._journaled: dict[tuple[str, str], str] = {}  # (room, journal id) -> position
        self._chat_added = asyncio.Event()  # replaced after each append: wakes read_chat
        self._question_seq = 0
        self._recordings: dict[str, Recording] = {}
        self._timelines: dict[str, list[TimelineEntry]] = {}
        self._consents: dict[str, Consent] = {}

    def _room(self, room_id: str) -> _RoomData:
        """The room's data, created on first write."""
        return self._data.setdefault(room_id, _RoomData())

    def _peek(self, room_id: str) -> _RoomData:
        """The room's data for a read: an unknown id allocates nothing (ids come from clients)."""
        return self._data.get(room_id) or _RoomData()

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    # -- rooms -----------------------------------------------------------------------------------
    async def create_room(self, room: Room) -> bool:
        if room.id in self._rooms:
            return False
        self._rooms[room.id] = room
        return True

    async def put_room(self, room: Room) -> None:
        self._rooms[room.id] = room

    async def get_room(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    async def list_rooms(
        self, *, pavilion: Pavilion | None = None, state: RoomState | None = None
    ) -> list[Room]:
        rooms = [r for r in self._rooms.values()
                 if (pavilion is None or r.pavilion == pavilion)
                 and (state is None or r.state == state)]
        return sorted(rooms, key=room_order)

    # -- presence --------------------------------------------------------------------------------
    async def put_participant(self, participant: Participant, *, ttl_s: float) -> None:
        data = self._room(participant.room_id)
        data.presence[participant.identity] = (participant, self._clock.now() + ttl_s)

    async def heartbeat(self, room_id: str, identity: str, *, ttl_s: float) -> bool:
        participant = self._one(room_id, identity)
        if participant is None:
            return False
        self._room(room_id).presence[identity] = (participant, self._clock.now() + ttl_s)
        return True

    async def heartbeat_many(self, room_id: str, identities: Sequence[str], *,
                             ttl_s: float) -> list[str]:
        return [i for i in identities if not await self.heartbeat(room_id, i, ttl_s=ttl_s)]

    async def remove_participant(self, room_id: str, identity: str, *,
                                 only_on: str | None = None) -> bool:
        present = self._one(room_id, identity)
        if only_on is not None and (present is None or present.node_id != only_on):
            return False
        self._peek(room_id).presence.pop(identity, None)
        return present is not None

    async def get_participant(self, room_id: str, identity: str) -> Participant | None:
        return self._one(room_id, identity)

    def _one(self, room_id: str, identity: str) -> Participant | None:
        """One live participant, in O(1): a chat message must not scan a big room."""
        presence = self._peek(room_id).presence
        entry = presence.get(identity)
        if entry is None:
            return None
        if entry[1] <= self._clock.now():
            del presence[identity]
            return None
        return entry[0]

    async def list_participants(self, room_id: str) -> list[Participant]:
        return sorted(self._live(room_id).values(), key=lambda p: (p.joined_at, p.identity))

    async def count_present(self, room_id: str) -> int:
        return sum(1 for p in self._live(room_id).values() if not p.hidden and not p.waiting)

    def _live(self, room_id: str) -> dict[str, Participant]:
        """Participants whose TTL has not passed; expired ones are dropped on the way."""
        data = self._data.get(room_id)
        if data is None:
            return {}
        now = self._clock.now()
        for identity in [i for i, (_, exp) in data.presence.items() if exp <= now]:
            del data.presence[identity]
        return {i: p for i, (p, _) in data.presence.items()}

    # -- bans --------------------------------------------------------------------------------------
    async def ban(self, room_id: str, identity: str, *, until: float) -> None:
        self._room(room_id).bans[identity] = until

    async def is_banned(self, room_id: str, identity: str) -> bool:
        until = self._peek(room_id).bans.get(identity)
        return until is not None and until > self._clock.now()

    # -- leases ------------------------------------------------------------------------------------
    async def put_tracks(self, room_id: str, node_id: str, tracks: Sequence[Track]) -> None:
        self._room(room_id).tracks = (node_id, [dict(t) for t in tracks]) if tracks else None

    async def drop_tracks(self, room_id: str, node_id: str) -> list[Track]:
        data = self._room(room_id)
        if data.tracks is None or data.tracks[0] != node_id:
            return []
        dropped, data.tracks = data.tracks[1], None
        return dropped

    async def get_tracks(self, room_id: str) -> tuple[str, list[Track]] | None:
        stored = self._room(room_id).tracks
        return (stored[0], [dict(t) for t in stored[1]]) if stored else None

    async def put_channels(self, room_id: str, node_id: str,
                           channels: Sequence[dict[str, Any]]) -> None:
        self._room(room_id).channels = (
            (node_id, [dict(c) for c in channels]) if channels else None)

    async def get_channels(self, room_id: str) -> tuple[str, list[dict[str, Any]]] | None:
        stored = self._peek(room_id).channels
        return (stored[0], [dict(c) for c in stored[1]]) if stored else None

    async def drop_channels(self, room_id: str, node_id: str) -> bool:
        data = self._peek(room_id)
        if data.channels is None or data.channels[0] != node_id:
            return False
        data.channels = None
        return True

    async def claim_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> Lease:
        current = await self.get_lease(room_id)
        if current is None or current.holder == holder:
            current = Lease(room_id, holder, self._clock.now() + ttl_s)
            self._room(room_id).lease = current
        return current

    async def renew_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> bool:
        current = await self.get_lease(room_id)
        if current is None or current.holder != holder:
            return False
        self._room(room_id).lease = Lease(room_id, holder, self._clock.now() + ttl_s)
        return True

    async def release_lease(self, room_id: str, holder: LeaseHolder) -> bool:
        current = await self.get_lease(room_id)
        if current is None or current.holder != holder:
            return False
        self._room(room_id).lease = None
        return True

    async def get_lease(self, room_id: str) -> Lease | None:
        data = self._data.get(room_id)
        if data is None or data.lease is None:
            return None
        if data.lease.expires_at <= self._clock.now():
            data.lease = None
        return data.lease

    # -- chat --------------------------------------------------------------------------------------
    async def append_chat(
        self, room_id: str, *, sender: str, name: str, text: str, sent_at: float
    ) -> ChatMessage:
        message = ChatMessage(self._next_chat_id(), room_id, sender, name, text, sent_at)
        chat = self._room(room_id).chat
        chat.append(message)
        while len(chat) > self._chat_cap:
            chat.popleft()
        self._chat_added.set()  # wake readers, then re-arm for the next message
        self._chat_added = asyncio.Event()
        return message

    def _next_chat_id(self) -> str:
        """Like XADD's auto id: ``<ms>-<seq>``, strictly increasing even if the clock is not."""
        ms = int(self._clock.now() * 1000)
        last_ms, last_seq = self._last_chat_id
        self._last_chat_id = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last_chat_id[0]}-{self._last_chat_id[1]}"

    async def append_journaled(self, message: ChatMessage) -> str:
        key = (message.room_id, message.id)
        if key in self._journaled:
            return self._journaled[key]
        position = self._next_chat_id()
        chat = self._room(message.room_id).chat
        chat.append(replace(message, position=position))
        while len(chat) > self._chat_cap:
            chat.popleft()
        self._journaled[key] = position
        self._chat_added.set()
        self._chat_added = asyncio.Event()
        return position

    async def chat_page(
        self, room_id: str, *, before: str | None = None, after: str | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        chat = list(self._peek(room_id).chat)
        if after is not None:
            key = stream_id_key(after)
            return [m for m in chat if stream_id_key(m.cursor) > key][:limit]
        if before is not None:
            key = stream_id_key(before)
            chat = [m for m in chat if stream_id_key(m.cursor) < key]
        return chat[-limit:] if limit > 0 else []

    async def read_chat(
        self, after: Mapping[str, str], *, block_s: float, limit: int = 500
    ) -> list[ChatMessage]:
        found = self._chat_after(after, limit)
        if found or block_s <= 0:
            return found
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(block_s):
                await self._chat_added.wait()
        return self._chat_after(after, limit)

    def _chat_after(self, after: Mapping[str, str], limit: int) -> list[ChatMessage]:
        out: list[ChatMessage] = []
        for room_id, last in after.items():
            key = stream_id_key(last)
            out += [m for m in self._peek(room_id).chat
                    if stream_id_key(m.cursor) > key][:limit]
        return out

    async def delete_chat(self, room_id: str, message_id: str) -> bool:
        stream_id_key(message_id)
        chat = self._room(room_id).chat
        for message in chat:
            if message.id == message_id:
                chat.remove(message)
                return True
        return False

    async def incarnation(self) -> str:
        return "memory"  # lives as long as the process

    async def missing_chat(self, room_id: str, positions: Sequence[str]) -> list[str]:
        held = {m.cursor for m in self._peek(room_id).chat}
        return [p for p in positions if p not in held]

    # -- reactions ---------------------------------------------------------------------------------
    async def add_reaction(self, room_id: str, kind: str, count: int = 1) -> int:
        counter = self._room(room_id).reactions
        counter[kind] += count
        return counter[kind]

    async def reactions(self, room_id: str) -> dict[str, int]:
        return dict(self._peek(room_id).reactions)

    # -- products ----------------------------------------------------------------------------------
    async def put_product(self, card: ProductCard) -> None:
        self._room(card.room_id).products[card.id] = card.with_pin(False)

    async def delete_product(self, room_id: str, product_id: str) -> bool:
        data = self._room(room_id)
        if product_id in data.pinned:
            data.pinned.remove(product_id)
        return data.products.pop(product_id, None) is not None

    async def list_products(self, room_id: str) -> list[ProductCard]:
        data = self._peek(room_id)
        return [data.products[k].with_pin(k in data.pinned) for k in sorted(data.products)]

    async def pin_product(self, room_id: str, product_id: str, *, max_pinned: int) -> bool:
        data = self._room(room_id)
        if product_id not in data.products:
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        if product_id in data.pinned:
            return True
        if len(data.pinned) >= max_pinned:
            return False
        data.pinned.append(product_id)
        return True

    async def unpin_product(self, room_id: str, product_id: str) -> bool:
        data = self._room(room_id)
        if product_id not in data.pinned:
            return False
        data.pinned.remove(product_id)
        return True

    # -- Q&A ---------------------------------------------------------------------------------------
    async def add_question(
        self, room_id: str, *, asker: str, name: str, text: str, asked_at: float,
        max_open: int | None = None,
    ) -> Question:
        data = self._room(room_id)
        if max_open is not None and sum(not q.answered for q in data.questions.values()) \
                >= max_open:
            raise questions_full(max_open)
        self._question_seq += 1
        question = Question(str(self._question_seq), room_id, asker, name, text, asked_at)
        self._room(room_id).questions[question.id] = question
        return question

    async def vote_question(self, room_id: str, question_id: str, voter: str) -> int:
        data = self._room(room_id)
        if question_id not in data.questions:
            raise NoSuchRoom(question_id, code="no_such_question", what="question")
        voters = data.voters.setdefault(question_id, set())
        voters.add(voter)
        return len(voters)

    async def answer_question(self, room_id: str, question_id: str) -> bool:
        data = self._room(room_id)
        question = data.questions.get(question_id)
        if question is None:
            return False
        data.questions[question_id] = Question(**{**question.to_dict(), "answered": True})
        return True

    async def list_questions(self, room_id: str) -> list[Question]:
        data = self._peek(room_id)
        out = [Question(**{**q.to_dict(), "votes": len(data.voters.get(q.id, ()))})
               for q in data.questions.values()]
        return sorted(out, key=question_order)

    # -- quote requests ----------------------------------------------------------------------------
    async def add_quote(self, quote: QuoteRequest, *, cap: int) -> None:
        quotes = self._room(quote.room_id).quotes
        quotes.append(quote)
        while len(quotes) > cap:
            quotes.popleft()

    async def list_quotes(self, room_id: str) -> list[QuoteRequest]:
        return list(self._peek(room_id).quotes)

    async def replace_quote(self, quote: QuoteRequest) -> bool:
        quotes = self._peek(quote.room_id).quotes
        for i, old in enumerate(quotes):
            if old.id == quote.id:
                quotes[i] = quote
                return True
        return False

    async def delete_quote(self, room_id: str, quote_id: str) -> bool:
        quotes = self._peek(room_id).quotes
        for old in quotes:
            if old.id == quote_id:
                quotes.remove(old)
                return True
        return False

    # -- product pictures -------------------------------------------------------------------------
    async def put_picture(self, room_id: str, name: str, data: bytes, *, cap: int) -> bool:
        pictures = self._room(room_id).pictures
        if name not in pictures and len(pictures) >= cap:
            return False
        pictures[name] = data
        return True

    async def get_picture(self, room_id: str, name: str) -> bytes | None:
        return self._peek(room_id).pictures.get(name)

    async def delete_picture(self, room_id: str, name: str) -> bool:
        return self._peek(room_id).pictures.pop(name, None) is not None

    # -- recordings ------------------------------------------------------------------------------
    async def put_recording(self, recording: Recording) -> None:
        self._recordings[recording.id] = recording

    async def get_recording(self, rec_id: str) -> Recording | None:
        return self._recordings.get(rec_id)

    async def list_recordings(
        self, *, room: str | None = None, owner: str | None = None
    ) -> list[Recording]:
        found = [r for r in self._recordings.values()
                 if (room is None or r.room == room) and (owner is None or r.owner == owner)]
        return sorted(found, key=recording_order)

    async def delete_recording(self, rec_id: str) -> bool:
        self._timelines.pop(rec_id, None)
        return self._recordings.pop(rec_id, None) is not None

    async def append_timeline(self, rec_id: str, entries: Sequence[TimelineEntry], *,
                              cap: int = TIMELINE_CAP) -> int:
        timeline = self._timelines.setdefault(rec_id, [])
        timeline.extend(entries[:max(0, cap - len(timeline))])
        return len(timeline)

    async def read_timeline(self, rec_id: str, *, limit: int = TIMELINE_CAP) -> list[TimelineEntry]:
        return list(self._timelines.get(rec_id, ())[:limit])

    # -- consent ------------------------------------------------------------------------------
    async def ask_consent(self, room_id: str, *, by: str, name: str, asked_at: float) -> Consent:
        consent = Consent(room_id, by, name, asked_at, {by: True})
        self._consents[room_id] = consent
        return consent

    async def answer_consent(self, room_id: str, identity: str, agree: bool) -> Consent | None:
        old = self._consents.get(room_id)
        if old is None:
            return None
        new = replace(old, answers={**old.answers, identity: agree})
        self._consents[room_id] = new
        return new

    async def get_consent(self, room_id: str) -> Consent | None:
        return self._consents.get(room_id)

    async def clear_consent(self, room_id: str) -> None:
        self._consents.pop(room_id, None)


def recording_order(recording: Recording) -> tuple[float, str]:
    """Newest first, then by id (a stable order for equal start times)."""
    return (-recording.started_at, recording.id)


def room_order(room: Room) -> tuple[float, str]:
    """Lobby order: by start time (unscheduled last), then id."""
    return (room.starts_at.timestamp() if room.starts_at else float("inf"), room.id)


def questions_full(max_open: int) -> RoomFull:
    return RoomFull(f"{max_open} questions are open; wait for answers", limit=max_open,
                    code="questions_full")


def question_order(question: Question) -> tuple[int, float, int]:
    return (-question.votes, question.asked_at, int(question.id))
