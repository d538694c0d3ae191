"""``ClusterNode``: this node's place among the nodes — its id, its reports, placement, drain.

At start it claims its id in the node directory (:meth:`claim_id`); the keeper renews the
claim with the room leases (rooms/keeper.py), and a clean stop releases it. The reporter
(rooms/cluster/reporter.py) hands it a :class:`~rooms.cluster.report.Usage` every interval and
it writes the report. :class:`~rooms.service.RoomService` asks :meth:`place` before it claims a
room nobody holds, so the least-loaded healthy node takes it (rooms/cluster/placement.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence

from config import ClusterSettings
from rooms.cluster import audience, placement
from rooms.cluster.directory import NodeClaim, NodeDirectory
from rooms.cluster.health import RoomDetail, RoomHealth
from rooms.cluster.report import NodeReport, Usage, load_of
from rooms.errors import NodeIdTaken, NoNodeAvailable, StoreUnavailable, WrongNode

log = logging.getLogger(__name__)
WATCH_POLL_S = 0.5
RENEWED_BY_S = 0.25  # a claim whose TTL grew by more than this between two looks was renewed


class ClusterNode:
    def __init__(self, directory: NodeDirectory, *, node_id: str, url: str,
                 rules: ClusterSettings, claim_ttl_s: float = 15.0) -> None:
        self.directory = directory
        self.node_id = node_id
        self.url = url
        self.rules = rules
        self.claim_ttl_s = claim_ttl_s
        self.instance = secrets.token_hex(8)  # this process, among processes given this id
        self.draining = False
        self.last = NodeReport(node_id, url, 0.0, Usage())

    @property
    def report_ttl_s(self) -> float:
        """A report outlives two missed intervals; the third missed one drops the node."""
        return 3 * self.rules.report_interval_s

    # -- the node id ------------------------------------------------------------------------------
    async def claim_id(self) -> None:
        """Hold this node's id, or raise :class:`NodeIdTaken` if another live node holds it.

        A claim left by a node that died (``kill -9``) is not renewed: this waits until it
        expires (at most ``claim_ttl_s``) and takes it, so a restarted node is not refused. A
        claim that is renewed while we watch belongs to a live node: refused (within one
        keeper interval).
        """
        first = await self._claim()
        seen, left = first, first.ttl_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + first.ttl_s + 1.0
        while seen.instance != self.instance:
            if loop.time() > deadline:
                raise NodeIdTaken(self.node_id, first.url)
            await asyncio.sleep(min(WATCH_POLL_S, max(left, 0.01)))
            seen = await self._claim()
            if seen.instance != self.instance and (
                    seen.instance != first.instance or seen.ttl_s > left + RENEWED_BY_S):
                raise NodeIdTaken(self.node_id, seen.url)
            left = seen.ttl_s
        if first.instance != self.instance:
            log.info("node id %s: took over the claim of a node that stopped renewing it",
                     self.node_id)

    async def _claim(self) -> NodeClaim:
        return await self.directory.claim(self.node_id, self.instance, self.url,
                                          ttl_s=self.claim_ttl_s)

    async def renew_id(self) -> None:
        """Keep the id (the keeper's tick). A claim that lapsed while Redis was away is taken
        again; one another process took meanwhile is logged: two nodes now share an id."""
        if await self.directory.renew(self.node_id, self.instance, ttl_s=self.claim_ttl_s):
            return
        held = await self._claim()
        if held.instance != self.instance:
            log.error("node id %s is now claimed by another node (%s): give each node its own id",
                      self.node_id, held.url)

    async def release_id(self) -> None:
        try:
            await self.directory.release(self.node_id, self.instance)
            await self.directory.drop_report(self.node_id)
        except StoreUnavailable as exc:  # a stop must not wait for Redis; the TTLs clean up
            log.warning("node id %s not released: %s", self.node_id, exc.reason)

    # -- reports -----------------------------------------------------------------------------------
    async def report(self, usage: Usage) -> NodeReport:
        """Record ``usage`` as this node's report (kept locally even if the store is down)."""
        self.last = NodeReport(self.node_id, self.url, load_of(usage, self.rules), usage,
                               draining=self.draining, reported_at=round(time.time(), 3),
                               cascade=self.rules.cascade)
        await self.directory.put_report(self.last, ttl_s=self.report_ttl_s)
        return self.last

    async def report_health(self, details: list[RoomDetail]) -> None:
        """Record the health of the rooms this node serves (issue 18 §2), with the reports' TTL."""
        await self.directory.put_health(self.node_id, details, ttl_s=self.report_ttl_s)

    async def health(self) -> list[RoomHealth]:
        """Every live room's health summary, from whichever node serves its media."""
        return await self.directory.health()

    async def room_detail(self, room_id: str) -> RoomDetail | None:
        return await self.directory.room_detail(room_id)

    async def nodes(self) -> list[NodeReport]:
        """Every live node's last report, this one's as it is now (its drain flag at once)."""
        others = [n for n in await self.directory.reports() if n.node_id != self.node_id]
        return sorted([*others, self._me()], key=lambda n: n.node_id)

    def _me(self) -> NodeReport:
        last = self.last
        return NodeReport(last.node_id, last.url, last.load, last.usage, self.draining,
                          last.reported_at, cascade=self.rules.cascade)

    async def alive(self, node_id: str) -> bool:
        """Whether ``node_id`` is a live node: this one, or one whose load report has not
        expired (node loss, issue 13: a lease held by a node that stopped reporting is dead
        as soon as its report lapses, without waiting for the lease's own TTL)."""
        if node_id == self.node_id:
            return True
        return any(n.node_id == node_id for n in await self.directory.reports())

    # -- placement and drain -----------------------------------------------------------------------
    async def place(self, room_id: str) -> None:
        """Return if this node should take ``room_id`` (nobody holds it); else raise
        ``WrongNode`` naming the node that should, or ``NoNodeAvailable``."""
        decision = placement.choose(self._me(), await self.directory.reports(), self.rules)
        if isinstance(decision, placement.There):
            log.info("room %s placed on node %s (load %.2f; here %.2f)", room_id,
                     decision.node.node_id, decision.node.load, self.last.load)
            raise WrongNode(decision.node.url, node_id=decision.node.node_id)
        if isinstance(decision, placement.Nowhere):
            raise NoNodeAvailable()

    async def seat(self, origin: str, *, viewers: int, edges: Sequence[str],
                   edge: str | None = None) -> placement.Decision:
        """Where one more viewer (or ``edge``'s pull) of a cascaded room held by ``origin`` is
        served, seen from this node (rooms/cluster/audience.py)."""
        seat = audience.Seat(self._me(), origin, await self.directory.reports(), viewers,
                             tuple(edges), edge)
        return audience.seat(seat, self.rules)

    async def successor(self) -> NodeReport | None:
        """The node a draining node sends its clients to (None when it is alone)."""
        return placement.successor(self._me(), await self.directory.reports(), self.rules)

    def drain(self) -> bool:
        """Take no new rooms from now on; True if this call started the drain."""
        started, self.draining = not self.draining, True
        return started
