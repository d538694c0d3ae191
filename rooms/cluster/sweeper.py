"""``Sweeper``: what a dead node leaves in the Store is swept when its load report expires.

A node killed with ``kill -9`` cannot say goodbye: its members' presence records live until
their TTL (30 s) and the tracks it recorded (signaling/media_link.py) have no TTL at all, so
members on other nodes would never hear ``participant.left`` or ``track.unpublished`` (issue 13).
Every node watches the node directory each report interval; a node it saw report and that no
longer does is gone (:func:`gone`, pure). One live node wins the sweep (a ``SET NX PX`` lease on
``sweep:<node>``, so members hear each event once): it removes the dead node's presence records
and tracks and hands what it removed to ``tell`` (the composition root announces them).
After a store outage the next look only takes note (:meth:`Sweeper.forget`): every report may
have lapsed while Redis was away, and sweeping live nodes would tell every room they left.
Each look also hands the other live nodes to ``on_live`` (when given) before any sweep: the
composition root tells this node's sessions where to go if it dies (issue 13).
The loop sets ``exited`` when it ends, so ``aclose()`` never hangs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from rooms.cluster.node import ClusterNode
from rooms.cluster.report import NodeReport
from rooms.errors import StoreUnavailable
from rooms.events import Left
from rooms.lifecycle import cancel_and_wait
from rooms.service import RoomService
from rooms.store import Track

log = logging.getLogger(__name__)
SWEEP_LEASE_S = 60.0  # one winner per dead node; long enough for its sweep to finish


@dataclass(frozen=True, slots=True)
class Swept:
    """What a dead node left behind: its members (now gone) and its rooms' tracks (ended)."""

    node_id: str
    left: list[Left] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)


def gone(seen: Iterable[str], live: Iterable[str], me: str) -> set[str]:
    """The nodes seen reporting before that report no more (this node never is one)."""
    return set(seen) - set(live) - {me}


class Sweeper:
    def __init__(self, node: ClusterNode, service: RoomService,
                 tell: Callable[[Swept], Awaitable[None]], *,
                 on_live: Callable[[list[NodeReport]], Awaitable[None]] | None = None) -> None:
        self.node, self.service, self._tell, self._on_live = node, service, tell, on_live
        self.seen: set[str] = set()
        self.live: list[NodeReport] = []  # the other nodes that reported, as of the last look
        self.exited = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="cluster-sweeper")

    async def _run(self) -> None:
        try:
            while not self._closing:
                try:
                    await self.tick()
                except StoreUnavailable:
                    self.forget()
                except Exception:  # a failed announcement must not end the watch
                    log.exception("sweeping dead nodes failed")
                await asyncio.sleep(self.node.rules.report_interval_s)
        finally:
            self.exited.set()

    def forget(self) -> None:
        """The store was unreachable: every report may have lapsed meanwhile, the live nodes'
        too, so the next look only takes note (a node that reports again within 3 intervals
        was not lost). A node that really died in the outage is left to its presence TTL."""
        self.seen = set()

    async def tick(self) -> list[Swept]:
        """One look at the directory: hand the other live nodes to ``on_live``, then sweep
        every node gone since the last look."""
        reports = await self.node.directory.reports()
        self.live = [n for n in reports if n.node_id != self.node.node_id]
        if self._on_live is not None:
            try:
                await self._on_live(self.live)
            except Exception:  # telling the sessions must not cost the sweep
                log.exception("handing on the live nodes failed")
        live = {n.node_id for n in reports}
        dead, self.seen = gone(self.seen, live, self.node.node_id), live
        swept = []
        for node_id in sorted(dead):
            result = await self.sweep(node_id)
            if result is not None:
                swept.append(result)
                await self._tell(result)
        return swept

    async def sweep(self, node_id: str) -> Swept | None:
        """Remove ``node_id``'s presence, tracks and channels, unless another won this sweep."""
        store, me = self.service.store, self.service.node
        won = await store.claim_lease(f"sweep:{node_id}", me, ttl_s=SWEEP_LEASE_S)
        if won.holder != me:
            return None
        swept = Swept(node_id)
        for room in await store.list_rooms():
            for person in await store.list_participants(room.id):
                if person.node_id == node_id and await store.remove_participant(
                        room.id, person.identity, only_on=node_id):
                    swept.left.append(Left(room.id, person.identity, hidden=person.hidden))
            swept.tracks.extend(await store.drop_tracks(room.id, node_id))
            await store.drop_channels(room.id, node_id)  # issue 17: its channels' record
        log.warning("node %s stopped reporting: %d members and %d tracks swept", node_id,
                    len(swept.left), len(swept.tracks))
        return swept

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()
