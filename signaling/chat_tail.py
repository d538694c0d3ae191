"""``ChatTail``: each node delivers chat to its members from the Store's stream, not pub/sub.

Redis pub/sub is at most once: whatever is published while a node is not subscribed (a Redis
outage, python-socketio's listener reconnecting) is gone, and acknowledged chat was lost between
nodes (issue 13: 63 messages in a 10 s outage). Every acknowledged message is already in the
room's chat stream, so with many nodes each node follows the streams of the rooms it has members
in, one ``XREAD BLOCK`` for all of them, from the last id it delivered in each, and hands each
message to its own members only (an emit that skips the Redis manager). The sender's node
delivers its own messages the same way (one round trip later, ~1 ms), so every member of every
node gets each message exactly once, in stream order, which keeps each sender's order.

A room is followed from the last id in its stream when its first member here joins (before the
join's snapshot, so nothing falls between them; a message both in the snapshot and delivered
carries one id, and clients keep one copy per id). An outage stops the reads; the loop retries
with a short backoff (50 ms doubling, capped at ``max_backoff_s``, 1 s) and resumes from the ids
it holds, so what was written meanwhile (by nodes that reached Redis) arrives once it is back.
A stream that came back empty yields new ids (``XADD``'s ids grow with Redis's clock), which are
past the ones held. The loop sets ``exited`` when it ends; ``aclose`` never hangs.

Chat this node kept in its journal while Redis was unreachable (rooms/chat_journal.py) was
delivered to its members at acceptance: when it reaches the stream, the entry names this node
(``journaled_by == here``) and is skipped here (other nodes deliver it, once). So are the
positions the hub delivered early (:meth:`delivered_early`: its own messages written just before
Redis went, handed out ahead of a journaled one so each sender's order holds on this node too).
Positions follow the stream (``ChatMessage.cursor``), not the ids clients see.

A message Redis lost after acknowledging it (restarted from an older snapshot, or empty) is
written again by the node that wrote it, under its first id (rooms/written_chat.py): the tail
skips an id it delivered already (the last ``SEEN_KEPT`` per room), so members who got it before
the outage do not get it twice and those who did not, get it. A failed read calls
``on_trouble`` once per outage (the journal's :meth:`~rooms.chat_journal.ChatJournal.doubt`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from rooms.content import ChatMessage, stream_id_key
from rooms.errors import StoreUnavailable
from rooms.lifecycle import cancel_and_wait
from rooms.store import Store

log = logging.getLogger(__name__)
START = "0-0"  # an empty stream: every message is new
PRUNE_AFTER_S = 30.0  # far longer than a join takes (its Store mutex gives up after 3 s)
SEEN_KEPT = 4_096  # ids per room: far more than a room's chat in rooms/written_chat.py's window


class ChatTail:
    def __init__(self, store: Store, deliver: Callable[[ChatMessage], None], *,
                 block_s: float = 0.5, limit: int = 500, max_backoff_s: float = 1.0,
                 here: str = "") -> None:
        self._store = store
        self._deliver = deliver
        self.here = here  # this node's id: its journaled messages were delivered at acceptance
        self._early: dict[str, set[str]] = {}  # room -> positions the hub already delivered
        self._seen: dict[str, tuple[deque[str], set[str]]] = {}  # room -> ids delivered here
        self.on_trouble: Callable[[], None] | None = None  # a read failed (once per outage)
        self.block_s = block_s  # a newly followed room waits at most this for its first read
        self.limit = limit  # messages per room per read: bounds what one read holds
        self.max_backoff_s = max_backoff_s
        self.positions: dict[str, str] = {}  # room -> last id delivered here
        self._since: dict[str, float] = {}  # room -> when it was followed (monotonic)
        self.delivered = 0
        self.healthy = True
        self.exited = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chat-tail")

    async def follow(self, room: str) -> None:
        """Deliver ``room``'s chat here from now on (its first member here is joining)."""
        if room in self.positions:
            return
        last = await self._store.chat_page(room, limit=1)
        self.positions.setdefault(room, last[-1].cursor if last else START)
        self._since.setdefault(room, time.monotonic())
        self._wake.set()

    def forget(self, room: str) -> None:
        """Nobody here is in ``room`` any more."""
        self.positions.pop(room, None)
        self._since.pop(room, None)
        self._early.pop(room, None)
        self._seen.pop(room, None)

    def unread(self, message: ChatMessage) -> bool:
        """Whether ``message`` is past what this tail has read of its room."""
        held = self.positions.get(message.room_id)
        return held is not None and stream_id_key(message.cursor) > stream_id_key(held)

    def delivered_early(self, message: ChatMessage) -> None:
        """The hub delivered ``message`` here already: skip it when read."""
        if message.room_id in self.positions:
            self._early.setdefault(message.room_id, set()).add(message.cursor)
            self._saw(message)

    def prune(self, keep: Iterable[str], *, older_than_s: float = PRUNE_AFTER_S) -> None:
        """Forget rooms not in ``keep`` followed longer ago than ``older_than_s`` (a room whose
        last member left by a path that did not say so; a join in progress is younger)."""
        kept, now = set(keep), time.monotonic()
        for room in [r for r, t in self._since.items() if r not in kept
                     and now - t > older_than_s]:
            self.forget(room)

    async def _run(self) -> None:
        backoff = 0.05
        try:
            while True:
                if not self.positions:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                try:
                    await self.read_once()
                except StoreUnavailable as exc:
                    if self.healthy:
                        log.warning("chat stream unreachable, retrying: %s", exc.reason)
                        if self.on_trouble is not None:
                            self.on_trouble()
                    self.healthy = False
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                backoff = 0.05
        finally:
            self.exited.set()

    async def read_once(self) -> None:
        """One read of every followed room; delivers what is new (public for tests)."""
        asked = dict(self.positions)
        messages = await self._store.read_chat(asked, block_s=self.block_s, limit=self.limit)
        if not self.healthy:
            log.info("chat stream reachable again")
        self.healthy = True
        for message in messages:
            if self.positions.get(message.room_id) != asked.get(message.room_id):
                continue  # forgotten (or re-followed) while the read was out
            asked[message.room_id] = self.positions[message.room_id] = message.cursor
            if self._delivered_here(message) or not self._saw(message):
                continue
            self.delivered += 1
            self._deliver(message)

    def _saw(self, message: ChatMessage) -> bool:
        """Remember ``message``'s id; False when it was delivered here already."""
        order, ids = self._seen.setdefault(message.room_id, (deque(), set()))
        if message.id in ids:
            return False
        order.append(message.id)
        ids.add(message.id)
        if len(order) > SEEN_KEPT:
            ids.discard(order.popleft())
        return True

    def _delivered_here(self, message: ChatMessage) -> bool:
        """This node's members got ``message`` already (journaled here, or handed out early)."""
        early = self._early.get(message.room_id)
        if early is not None and message.cursor in early:
            early.discard(message.cursor)
            return True
        return bool(self.here) and message.journaled_by == self.here

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()
