"""``ChatJournal``: chat a node accepted while Redis was unreachable, kept until it is written.

Issue 13 §6: rooms on a node keep local chat through a Redis outage. A message the Store cannot
take is given an id by this node at acceptance, delivered at once to the node's own members (by
the hub), acknowledged, and kept here in acceptance order until the flusher
(rooms/journal_flusher.py) writes it to the room's stream. While the journal holds anything,
every new message of this node queues behind it (even with Redis back), so nothing written
directly overtakes a message still waiting: each sender's order is the journal's order.

Bounded: at ``capacity`` the next message is refused with ``chat_journal_full``
(:class:`~rooms.errors.JournalFull`); an accepted message is never dropped. Written exactly once:
the Store's :meth:`append_journaled` is idempotent by id (a marker set with the write), so a
flush retried after a lost reply writes nothing twice; :meth:`done` then takes the head off.

Ids look like stream ids, ``<ms>-<seq>`` (clients resume and page with them;
``rooms.content.stream_id_key`` parses them), with ``ms`` the acceptance time and ``seq =
2**52 | crc32(node) << 20 | counter``: at least 2**52, far above any seq Redis gives (a seq
counts messages within one millisecond), so a journal id never equals a stream id; two nodes
collide only if their ids' CRC-32 match and they accept their n-th message in the same
millisecond with equal counters modulo 2**20.

**In doubt** after any sign of an outage (a message accepted here, or the chat tail losing its
read): Redis may have come back without writes it had acknowledged (rooms/written_chat.py). Until
the flusher has checked them (:meth:`settle`), new messages queue here as during the outage, and
the ones Redis lost go back at the head (:meth:`restore`), under their first id, so each sender's
order holds.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable

from rooms.content import ChatMessage, stream_id_key
from rooms.errors import JournalFull

JOURNAL_SEQ = 1 << 52  # every journal id's seq is at least this
_COUNTER_BITS = 20


def is_journal_id(message_id: str) -> bool:
    """Whether a (valid) chat id was given by a node's journal, not by the stream."""
    return stream_id_key(message_id)[1] >= JOURNAL_SEQ


class ChatJournal:
    def __init__(self, node_id: str, capacity: int) -> None:
        self.node_id = node_id
        self.capacity = capacity
        self._tag = (zlib.crc32(node_id.encode()) << _COUNTER_BITS) | JOURNAL_SEQ
        self._counter = 0
        self._waiting: deque[ChatMessage] = deque()
        self.accepted = 0  # ever, for logs and tests
        self.on_accept: Callable[[], None] | None = None  # the flusher's wake-up
        self.doubtful = False  # an outage was seen: what Redis acknowledged is to be checked
        self.restored = 0  # ever: messages Redis lost after acknowledging, written again

    @property
    def busy(self) -> bool:
        """New messages queue here (an outage is under way, or its aftermath not checked)."""
        return self.doubtful or bool(self._waiting)

    def doubt(self) -> None:
        """An outage was seen: check recent writes before writing anything new."""
        self.doubtful = True
        if self.on_accept is not None:
            self.on_accept()

    def settle(self, lost: list[ChatMessage]) -> None:
        """The check is done: ``lost`` (oldest first) go back at the head, ahead of anything
        accepted meanwhile (they were acknowledged before it)."""
        self._waiting.extendleft(reversed(lost))
        self.restored += len(lost)
        self.doubtful = False

    def __len__(self) -> int:
        return len(self._waiting)

    def accept(self, room_id: str, *, sender: str, name: str, text: str,
               sent_at: float) -> ChatMessage:
        """Keep one message; its id is final (clients see it). ``JournalFull`` when full."""
        if len(self._waiting) >= self.capacity:
            raise JournalFull(self.capacity)
        self._counter += 1
        seq = self._tag | (self._counter & ((1 << _COUNTER_BITS) - 1))
        message = ChatMessage(f"{int(sent_at * 1000)}-{seq}", room_id, sender, name, text,
                              sent_at, journaled_by=self.node_id)
        self._waiting.append(message)
        self.accepted += 1
        self.doubtful = True  # the Store refused a write: its recent ones are in doubt too
        if self.on_accept is not None:
            self.on_accept()
        return message

    def head(self) -> ChatMessage | None:
        """The oldest message still to write (write it before any other)."""
        return self._waiting[0] if self._waiting else None

    def done(self, message: ChatMessage) -> None:
        """``message`` (the head) is in the stream now."""
        if self._waiting and self._waiting[0].id == message.id:
            self._waiting.popleft()

    def waiting(self) -> list[ChatMessage]:
        """Everything still to write, oldest first (a copy)."""
        return list(self._waiting)
