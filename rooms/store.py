"""The ``Store`` port: all shared state of the rooms domain (DESIGN.md §5).

Two implementations pass one contract suite (tests/rooms/test_store_contract.py):
:class:`rooms.memory_store.MemoryStore` (one node) and :class:`rooms.redis_store.RedisStore`
(many nodes). Every method may raise :class:`~rooms.errors.StoreUnavailable` when the backing
service is down; nothing is half-written in that case (each write is one Redis command or script).
Keys, TTLs and data structures are described in docs/state.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rooms.consent import Consent
from rooms.content import ChatMessage, ProductCard, Question
from rooms.participant import Participant
from rooms.pavilion import Pavilion
from rooms.quote import QuoteRequest
from rooms.recording import TIMELINE_CAP, Recording, TimelineEntry
from rooms.room import Room, RoomState

Track = dict[str, Any]  # a published track as docs/protocol.md's ``track.published`` carries it


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """A node that may hold a room's lease: its id and the URL clients reach it at."""

    node_id: str
    node_url: str


@dataclass(frozen=True, slots=True)
class Lease:
    """Which node serves a room's media until ``expires_at`` (unless it renews)."""

    room_id: str
    holder: LeaseHolder
    expires_at: float


class Store(Protocol):
    async def ping(self) -> None:
        """Return if the store answers; raise ``StoreUnavailable(reason)`` if not."""
        ...

    async def aclose(self) -> None: ...

    # -- rooms ---------------------------------------------------------------------------------
    async def create_room(self, room: Room) -> bool:
        """Store a new room; False (nothing written) if the id is taken."""
        ...

    async def put_room(self, room: Room) -> None:
        """Create or replace a room."""
        ...

    async def get_room(self, room_id: str) -> Room | None: ...

    async def list_rooms(
        self, *, pavilion: Pavilion | None = None, state: RoomState | None = None
    ) -> list[Room]:
        """Rooms sorted by (starts_at, id), optionally filtered."""
        ...

    # -- presence (heartbeat TTL) --------------------------------------------------------------
    async def put_participant(self, participant: Participant, *, ttl_s: float) -> None:
        """Create or replace a participant; it vanishes ``ttl_s`` after the last put/heartbeat."""
        ...

    async def heartbeat(self, room_id: str, identity: str, *, ttl_s: float) -> bool:
        """Extend a participant's presence; False if it had already expired or left."""
        ...

    async def heartbeat_many(self, room_id: str, identities: Sequence[str], *,
                             ttl_s: float) -> list[str]:
        """``heartbeat`` for many at once (one round trip per thousand); returns those gone."""
        ...

    async def remove_participant(self, room_id: str, identity: str, *,
                                 only_on: str | None = None) -> bool:
        """Remove a presence record; True if it was live. ``only_on``: only if the record
        names that node (atomic: a dead node's sweep spares whoever rejoined elsewhere)."""
        ...

    async def get_participant(self, room_id: str, identity: str) -> Participant | None: ...

    async def list_participants(self, room_id: str) -> list[Participant]:
        """Live participants (hidden ones included), in join order."""
        ...

    async def count_present(self, room_id: str) -> int:
        """Live participants that are not hidden and not waiting (the lobby's figure)."""
        ...

    # -- bans (kick) -----------------------------------------------------------------------------
    async def ban(self, room_id: str, identity: str, *, until: float) -> None: ...

    async def is_banned(self, room_id: str, identity: str) -> bool: ...

    # -- room -> node lease ----------------------------------------------------------------------
    async def claim_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> Lease:
        """Take the lease if free (or already ours); return whoever holds it now."""
        ...

    async def renew_lease(self, room_id: str, holder: LeaseHolder, *, ttl_s: float) -> bool:
        """Extend our lease; False if we no longer hold it."""
        ...

    async def release_lease(self, room_id: str, holder: LeaseHolder) -> bool:
        """Give our lease up; False if we did not hold it (someone else's is left alone)."""
        ...

    async def get_lease(self, room_id: str) -> Lease | None: ...

    # -- the tracks published on the lease holder (so a join on any node lists them) -----------
    async def put_tracks(self, room_id: str, node_id: str, tracks: Sequence[Track]) -> None:
        """Record the room's live tracks as ``node_id`` (its media node) has them; ``[]`` clears.

        Kept without a TTL: a reader trusts them only while ``node_id`` holds the room's lease,
        which lapses 15 s after that node dies.
        """
        ...

    async def drop_tracks(self, room_id: str, node_id: str) -> list[Track]:
        """Remove the record if it still names ``node_id`` and return its tracks (else ``[]``),
        atomically: of the nodes that race to end a dead node's tracks, one gets them."""
        ...

    async def get_tracks(self, room_id: str) -> tuple[str, list[Track]] | None:
        """``(node_id, tracks)`` as last recorded, or ``None``."""
        ...

    # -- the interpretation channels on the lease holder (issue 17: a join on any node) ----------
    async def put_channels(self, room_id: str, node_id: str,
                           channels: Sequence[dict[str, Any]]) -> None:
        """Record the room's channels (``{language, live, muted, listeners}``) as ``node_id``
        (its media node) has them; ``[]`` clears. Trusted, like the tracks, only while
        ``node_id`` holds the room's lease."""
        ...

    async def get_channels(self, room_id: str) -> tuple[str, list[dict[str, Any]]] | None:
        """``(node_id, channels)`` as last recorded, or ``None``."""
        ...

    async def drop_channels(self, room_id: str, node_id: str) -> bool:
        """Remove the record if it still names ``node_id`` (a dead node's, swept), atomically;
        True if it did."""
        ...

    # -- chat (capped per room; ids are stream ids) ----------------------------------------------
    async def append_chat(
        self, room_id: str, *, sender: str, name: str, text: str, sent_at: float
    ) -> ChatMessage: ...

    async def chat_page(
        self, room_id: str, *, before: str | None = None, after: str | None = None,
        limit: int = 50,
    ) -> list[ChatMessage]:
        """Oldest-first page. ``after``: the first ``limit`` messages after that id (resume);
        ``before`` (or neither): the last ``limit`` messages before that id (history)."""
        ...

    async def append_journaled(self, message: ChatMessage) -> str:
        """Write a message a node's journal accepted (rooms/chat_journal.py) at the end of its
        room's stream, keeping its id, and return its stream position. Idempotent by id: a
        second call (a flush retried after a lost reply) writes nothing and returns the first
        position."""
        ...

    async def delete_chat(self, room_id: str, message_id: str) -> bool:
        """Remove a message by the id clients know (a journal id too)."""
        ...

    async def incarnation(self) -> str:
        """Which run of the Store this is (Redis's ``run_id``): it changes when Redis restarts
        or a replica takes over, which may have lost what it acknowledged last; "" when the
        Store cannot say. The journal flusher watches it (rooms/journal_flusher.py)."""
        ...

    async def missing_chat(self, room_id: str, positions: Sequence[str]) -> list[str]:
        """Which of these stream positions the room's stream does not hold (any more): a Redis
        restarted from an older snapshot, or empty, lost what it acknowledged last
        (rooms/written_chat.py). Bounded by the caller (a few hundred positions)."""
        ...

    async def read_chat(
        self, after: Mapping[str, str], *, block_s: float, limit: int = 500
    ) -> list[ChatMessage]:
        """The messages after ``after[room]`` in each room, oldest first per room (at most
        ``limit`` per room); waits up to ``block_s`` for one when there are none (``XREAD
        BLOCK``). How each node follows the chat of its rooms (signaling/chat_tail.py)."""
        ...

    # -- reactions ---------------------------------------------------------------------------------
    async def add_reaction(self, room_id: str, kind: str, count: int = 1) -> int:
        """Add to a reaction counter and return its new total."""
        ...

    async def reactions(self, room_id: str) -> dict[str, int]: ...

    # -- product cards -----------------------------------------------------------------------------
    async def put_product(self, card: ProductCard) -> None:
        """Create or replace a card (its ``pinned`` flag is ignored: pinning is separate)."""
        ...

    async def delete_product(self, room_id: str, product_id: str) -> bool: ...

    async def list_products(self, room_id: str) -> list[ProductCard]:
        """Cards in id order, each with ``pinned`` set."""
        ...

    async def pin_product(self, room_id: str, product_id: str, *, max_pinned: int) -> bool:
        """Pin a card; False if ``max_pinned`` others are pinned. ``NoSuchRoom`` if no card."""
        ...

    async def unpin_product(self, room_id: str, product_id: str) -> bool: ...

    # -- Q&A -------------------------------------------------------------------------------------
    async def add_question(
        self, room_id: str, *, asker: str, name: str, text: str, asked_at: float,
        max_open: int | None = None,
    ) -> Question:
        """Add an open question; with ``max_open``, atomically refuse it with
        ``RoomFull(code="questions_full")`` while that many are open (not answered)."""
        ...

    async def vote_question(self, room_id: str, question_id: str, voter: str) -> int:
        """Upvote once per voter (a repeat is ignored); return the votes. ``NoSuchRoom`` if none."""
        ...

    async def answer_question(self, room_id: str, question_id: str) -> bool:
        """Mark a question answered (it stays listed and no longer counts as open)."""
        ...

    async def list_questions(self, room_id: str) -> list[Question]:
        """Most votes first, then oldest first."""
        ...

    # -- quote requests (capped per room, oldest dropped first) ------------------------------------
    async def add_quote(self, quote: QuoteRequest, *, cap: int) -> None:
        """Record a request, keeping the room's latest ``cap``."""
        ...

    async def list_quotes(self, room_id: str) -> list[QuoteRequest]:
        """The room's requests, oldest first."""
        ...

    async def replace_quote(self, quote: QuoteRequest) -> bool:
        """Replace the request of ``quote.room_id`` with ``quote.id`` in place (a reply added);
        False if it is gone (withdrawn or dropped by the cap)."""
        ...

    async def delete_quote(self, room_id: str, quote_id: str) -> bool:
        """Remove a request (the buyer withdrew it); False if it was not there."""
        ...

    # -- product pictures (bytes named by their hash, a capped number per room) -------------------
    async def put_picture(self, room_id: str, name: str, data: bytes, *, cap: int) -> bool:
        """Keep ``data`` under ``name``; False (nothing stored) if the room already holds
        ``cap`` other pictures. Storing a name already there is True and changes nothing."""
        ...

    async def get_picture(self, room_id: str, name: str) -> bytes | None: ...

    async def delete_picture(self, room_id: str, name: str) -> bool: ...

    # -- recordings (issue 15: the index every node lists; the files stay on their node) -------
    async def put_recording(self, recording: Recording) -> None:
        """Create or replace a recording's record."""
        ...

    async def get_recording(self, rec_id: str) -> Recording | None: ...

    async def list_recordings(
        self, *, room: str | None = None, owner: str | None = None
    ) -> list[Recording]:
        """Newest first (by ``started_at``, then id), optionally filtered by room or owner
        (by room: read through the room's index, not a scan of every record)."""
        ...

    async def delete_recording(self, rec_id: str) -> bool:
        """Remove a record and its timeline; False if there was none."""
        ...

    async def append_timeline(self, rec_id: str, entries: Sequence[TimelineEntry], *,
                              cap: int = TIMELINE_CAP) -> int:
        """Add entries at the end of a recording's timeline, which keeps its first ``cap``
        (a replay starts at the start); returns how many it now holds."""
        ...

    async def read_timeline(self, rec_id: str, *, limit: int = TIMELINE_CAP) -> list[TimelineEntry]:
        """The first ``limit`` entries, in the order they were appended."""
        ...

    # -- a meeting's consent to recording (issue 15 §3) ---------------------------------------
    async def ask_consent(self, room_id: str, *, by: str, name: str, asked_at: float) -> Consent:
        """Start a new request (earlier answers dropped); the asker has agreed."""
        ...

    async def answer_consent(self, room_id: str, identity: str, agree: bool) -> Consent | None:
        """Record an answer; ``None`` (nothing written) when no request is pending."""
        ...

    async def get_consent(self, room_id: str) -> Consent | None: ...

    async def clear_consent(self, room_id: str) -> None: ...
