"""Graceful drain (issue 13): SIGTERM, or ``POST /api/admin/nodes/{id}/drain``, empties a node.

:meth:`Drain.begin` makes the node report ``draining`` at once (so ``/readyz`` answers 503 and
placement sends no new room here: its claims answer ``WrongNode`` naming the least-loaded other
node, or ``media_unavailable`` when it is alone), gives its rooms' leases up when another node
can take them, and tells every Socket.IO session ``node.draining`` with that node's URL
(docs/protocol.md). Sessions and media keep working; :attr:`Drain.done` is set when no session
and no media peer is left, or when ``cluster.drain_s`` has passed. web/server.py then stops the
process (exit 0); a node run in-process (the tests) just stays drained.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from rooms.cluster import Reporter
from rooms.errors import StoreUnavailable
from rooms.lifecycle import cancel_and_wait
from signaling.hub import DrainNotice
from web.keys import BACKEND_KEY, HUB_KEY, SETTINGS_KEY
from web.media import MEDIA_KEY

log = logging.getLogger(__name__)
IDLE_POLL_S = 0.2


class Drain:
    def __init__(self, app: web.Application, reporter: Reporter) -> None:
        self._app = app
        self._reporter = reporter
        self.done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._task is not None

    async def begin(self) -> None:
        """Start draining (a second call does nothing); returns once everyone is told."""
        backend, settings = self._app[BACKEND_KEY], self._app[SETTINGS_KEY]
        if not backend.cluster.drain():
            return
        await self._reporter.report_now()  # the others stop placing rooms here now
        deadline = time.monotonic() + settings.cluster.drain_s
        target = None
        try:
            target = await backend.cluster.successor()
            if target is not None:
                await backend.service.release_leases()
        except StoreUnavailable as exc:
            log.warning("draining without the node directory: %s", exc.reason)
        log.info("draining for at most %.0f s; clients are sent to %s", settings.cluster.drain_s,
                 target.url if target else "no other node")
        hub = self._app.get(HUB_KEY)
        if hub is not None:
            await hub.drain(DrainNotice(target.node_id if target else None,
                                        target.url if target else None, deadline))
        self._task = asyncio.create_task(self._wait(deadline), name="node-drain")

    def idle(self) -> bool:
        """No Socket.IO session (connected or resumable) and no media peer is left."""
        hub, plane = self._app.get(HUB_KEY), self._app.get(MEDIA_KEY)
        return not (hub is not None and hub.by_id) and not (plane is not None and plane.peers)

    async def _wait(self, deadline: float) -> None:
        while time.monotonic() < deadline and not self.idle():  # noqa: ASYNC110
            await asyncio.sleep(IDLE_POLL_S)  # a poll: sessions and peers end in many places
        log.info("drained%s", "" if self.idle() else " (deadline reached; closing the rest)")
        self.done.set()

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
