"""``JournalFlusher``: writes the chat a node kept during a Redis outage, oldest first.

It sleeps until the journal (rooms/chat_journal.py) accepts something, then writes its head with
the Store's idempotent :meth:`~rooms.store.Store.append_journaled` and takes it off, until the
journal is empty. While the Store is unreachable it retries with a short backoff (50 ms doubling,
capped at ``max_backoff_s``, 0.5 s), so the journal drains within about half a second of Redis
answering again (issue 13: cross-node chat back within 5 s). One message at a time, in order:
a failure leaves the head in place, and its retry cannot write it twice.

On close it tries one last flush (bounded by ``close_timeout_s``) and logs, as an error, how many
acknowledged messages it could not write: a node stopped during an outage loses them, loudly.
The loop sets ``exited`` when it ends; ``aclose`` never hangs.
"""

from __future__ import annotations

import asyncio
import logging

from rooms.chat_journal import ChatJournal
from rooms.errors import StoreUnavailable
from rooms.lifecycle import cancel_and_wait
from rooms.store import Store

log = logging.getLogger(__name__)


class JournalFlusher:
    def __init__(self, store: Store, journal: ChatJournal, *, max_backoff_s: float = 0.5,
                 close_timeout_s: float = 2.0) -> None:
        self._store = store
        self._journal = journal
        self.max_backoff_s = max_backoff_s
        self.close_timeout_s = close_timeout_s
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
        written = 0
        while (message := self._journal.head()) is not None:
            await self._store.append_journaled(message)
            self._journal.done(message)
            written += 1
        self.written += written
        return written

    async def _run(self) -> None:
        backoff = 0.05
        try:
            while True:
                if not len(self._journal):
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                try:
                    if count := await self.flush():
                        log.info("wrote %d chat messages kept during a store outage", count)
                except StoreUnavailable:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                backoff = 0.05
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
