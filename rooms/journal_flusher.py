"""``JournalFlusher``: writes the chat a node kept during a Redis outage, oldest first.

It sleeps until the journal (rooms/chat_journal.py) accepts something, then writes its head with
the Store's idempotent :meth:`~rooms.store.Store.append_journaled` and takes it off, until the
journal is empty. While the Store is unreachable it retries with a short backoff (50 ms doubling,
capped at ``max_backoff_s``, 0.5 s), so the journal drains within about half a second of Redis
answering again (issue 13: cross-node chat back within 5 s). One message at a time, in order:
a failure leaves the head in place, and its retry cannot write it twice.

After an outage (the journal is in doubt) it first asks the Store which of this node's recent
writes (rooms/written_chat.py) it no longer holds (a Redis restarted from an older snapshot, or
empty) and puts those back at the journal's head, so they are written again, under their first
id, before anything accepted meanwhile; the other nodes' tails deliver them to whoever did not
get them (signaling/chat_tail.py skips an id already delivered). The outage is known from a
failed write (the journal accepted something), a failed read (the chat tail), a failed
:meth:`watch`, or the watch seeing another Redis run (``run_id``, read every ``watch_s``): a
Redis that restarted within redis-py's retries fails nothing.

On close it tries one last flush (bounded by ``close_timeout_s``) and logs, as an error, how many
acknowledged messages it could not write: a node stopped during an outage loses them, loudly.
The loop sets ``exited`` when it ends; ``aclose`` never hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from rooms.chat_journal import ChatJournal
from rooms.content import ChatMessage
from rooms.errors import StoreUnavailable
from rooms.lifecycle import cancel_and_wait
from rooms.store import Store
from rooms.written_chat import WrittenChat

log = logging.getLogger(__name__)


class JournalFlusher:
    def __init__(self, store: Store, journal: ChatJournal, written: WrittenChat | None = None,
                 *, max_backoff_s: float = 0.5, close_timeout_s: float = 2.0,
                 watch_s: float = 1.0) -> None:
        self._store = store
        self._journal = journal
        self._written = written if written is not None else WrittenChat()
        self.max_backoff_s = max_backoff_s
        self.close_timeout_s = close_timeout_s
        self.watch_s = watch_s  # how often the Store's incarnation is read (:meth:`watch`)
        self._incarnation = ""
        self.written = 0
        self.exited = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        journal.on_accept = self._wake.set

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chat-journal-flusher")

    async def flush(self) -> int:
        """Write everything waiting, oldest first; returns how many were written. Raises
        ``StoreUnavailable`` (the rest stays, in order) when the Store cannot be reached."""
        if self._journal.doubtful:
            await self.recover()
        written = 0
        while (message := self._journal.head()) is not None:
            position = await self._store.append_journaled(message)
            self._journal.done(message)
            self._written.wrote(replace(message, position=position))
            written += 1
        self.written += written
        return written

    async def recover(self) -> list[ChatMessage]:
        """Put this node's recent writes that the Store lost back at the journal's head (oldest
        first); returns them. ``StoreUnavailable`` leaves the journal in doubt."""
        lost: list[ChatMessage] = []
        for room, messages in self._written.recent().items():
            missing = set(await self._store.missing_chat(room, [m.cursor for m in messages]))
            lost += [m for m in messages if m.cursor in missing]
        self._written.forget(lost)
        self._written.release()
        self._journal.settle([replace(m, position="") for m in lost])
        if lost:
            log.warning("the state store lost %d acknowledged chat messages (restarted without "
                        "them): writing them again", len(lost))
        return lost

    async def watch(self) -> None:
        """Put the journal in doubt when the Store is another run than last time (a Redis that
        restarted, or a replica that took over, within redis-py's retries: no read failed)."""
        seen = await self._store.incarnation()
        if seen and self._incarnation and seen != self._incarnation:
            log.warning("the state store restarted (run %s, was %s): checking recent chat",
                        seen[:8], self._incarnation[:8])
            self._journal.doubt()
        self._incarnation = seen or self._incarnation

    async def _run(self) -> None:
        backoff = 0.05
        try:
            while True:
                try:
                    await self.watch()
                    if self._journal.busy and (count := await self.flush()):
                        log.info("wrote %d chat messages kept during a store outage", count)
                except StoreUnavailable:
                    self._journal.doubtful = True  # an outage: recent writes are in doubt
                    self._written.hold()  # and stay recent until it is over
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                backoff = 0.05
                if not self._journal.busy:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.watch_s):
                            await self._wake.wait()
        finally:
            self.exited.set()

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()
        if len(self._journal):
            try:
                async with asyncio.timeout(self.close_timeout_s):
                    await self.flush()
            except (StoreUnavailable, TimeoutError):
                pass
        if left := len(self._journal):
            log.error("%d acknowledged chat messages could not be written (state store "
                      "unreachable at shutdown) and are lost", left)
