"""Cascade, first slice (issue 13): an edge node pulls a room from its origin over WHEP.

With ``[cluster] cascade = true``, a WHEP viewer of a broadcast or forum whose media lease is
held by another node (the *origin*) is served by this node (the *edge*) instead of being
redirected: the edge opens one upstream per room and track set
(:meth:`streaming.MediaPlane.open_upstream`), POSTs its recvonly offer to the origin's
``/whep/{room}`` with a token it mints for itself (identity ``edge:<node_id>``, grants
``subscribe`` + ``hidden``; the cluster shares the secret), follows a ``307``, and applies the
answer. The origin's gate admits the edge like any WHEP player. The upstream's tracks are local
Sources of the room, so every local viewer shares it; ``cascade_linger_s`` after the edge's last
viewer of the room leaves, the upstream is closed and its WHEP session at the origin deleted.

Placement (:meth:`Edges.place`, rules in rooms/cluster/audience.py): every node of a cascading
cluster decides where one more viewer of a cascaded room goes, from the nodes' load reports: the
origin serves ``origin_max_viewers`` itself, then sends new viewers (``307`` / ``wrong_node``)
to the least-loaded edge; it feeds ``cascade_max_edges`` edges, then sends a new edge's pull to
one of them (depth 2: the pull follows the ``307``). Re-pull (:meth:`Edges._watch`): an upstream
that has sent nothing for ``cascade_stall_s`` while the node it pulls from is gone, or the room
moved to another node, is replaced by a pull from the room's new holder; its Sources carry over,
so local viewers resume without renegotiating.

Interpretation channels (issue 17): a listener's ``subscribe {channel}`` (or WHEP
``?language=``) opens one more upstream per (room, language), POSTed to the origin's WHEP
``?language=`` with one audio m-line; its Source here keeps the origin's id
``channel:<language>`` (streaming/plane.py), so a handover at the origin changes nothing here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin

import aiohttp
from aiohttp import web

from config import Settings
from rooms.cluster import ClusterNode
from rooms.cluster.placement import There
from rooms.errors import RoomsError, WrongNode
from rooms.room import RoomKind
from rooms.service import RoomService
from rooms.token import Grant, mint
from signaling import whip
from signaling.errors import SignalingError
from streaming import MediaEvent, MediaPlane, PeerEnded, UnknownPeer
from streaming.channels import channel_id
from streaming.errors import NothingPublished
from streaming.upstream import UpstreamLeg
from streaming.viewer import ViewerLeg

log = logging.getLogger(__name__)

EDGE_PREFIX = "edge:"
TOKEN_TTL_S = 24 * 3600
MAX_REDIRECTS = 3
OPEN_GRACE_S = 10.0  # a new viewer has this long to appear before an unused upstream goes
ORPHAN_GRACE_S = 20.0  # a lost upstream's Sources wait this long for a re-pull, then end
CASCADED = (RoomKind.BROADCAST, RoomKind.FORUM)
ORIGIN_REFUSED = "origin_refused"


def edge_identity(node_id: str) -> str:
    return f"{EDGE_PREFIX}{node_id}"


@dataclass
class Pull:
    """One upstream: ``room`` (and ``participant``'s tracks, or the room's latest; or the
    ``language`` interpretation channel, issue 17) from ``origin``; ``resource`` is its WHEP
    session at the origin (for DELETE)."""

    room: str
    participant: str | None
    origin: str
    language: str | None = None
    peer_id: str = ""
    resource: str = ""
    token: str = ""
    feeder: str = ""  # the node actually pulled from (the origin, or an edge it sent us to)
    packets: int = 0  # received by the upstream, as of ``moved_at`` (loop time)
    moved_at: float = 0.0
    orphaned_at: float | None = None  # when its leg ended (link lost, or the origin's BYE)
    linger: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """Its upstream's name here: the participant, ``origin``, or ``channel:<language>``
        (the channel's Source keeps that id on the edge: streaming/plane.py)."""
        if self.language is not None:
            return channel_id(self.language)
        return self.participant or "origin"

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.room, channel_id(self.language) if self.language else self.participant)


class Edges:
    """This node's upstreams, keyed by (room, participant or ``channel:<language>``)."""

    def __init__(self, settings: Settings, plane: MediaPlane, service: RoomService,
                 cluster: ClusterNode | None = None) -> None:
        self.settings = settings
        self.plane = plane
        self.service = service
        self.cluster = cluster
        self.repulls = 0  # upstreams replaced after their origin moved (tests, logs)
        self._watcher: asyncio.Task[None] | None = None
        self.pulls: dict[tuple[str, str | None], Pull] = {}
        self._locks: dict[tuple[str, str | None], asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        plane.listen(self._on_event)

    async def serves(self, room_id: str) -> bool:
        """Whether a WHEP viewer of ``room_id`` sent elsewhere is served here instead."""
        if not self.settings.cluster.cascade:
            return False
        room = await self.service.store.get_room(room_id)
        return room is not None and room.kind in CASCADED

    async def place(self, room_id: str, identity: str) -> str | None:
        """Where one more viewer (``identity``; ``edge:<node>`` for an edge's pull) of
        ``room_id`` is served: ``None`` the ordinary way (this node holds or may claim the
        room, or the room is not cascaded), the origin's URL when this node serves it as an
        edge, or ``WrongNode`` naming the node placement chose (rooms/cluster/audience.py)."""
        if self.cluster is None or not await self.serves(room_id):
            return None
        lease = await self.service.store.get_lease(room_id)
        if lease is None or not await self.cluster.alive(lease.holder.node_id):
            return None  # nobody holds it: the ordinary path claims or places it
        viewers, edges = self._audience(room_id)
        caller = identity.removeprefix(EDGE_PREFIX) if identity.startswith(EDGE_PREFIX) else None
        decision = await self.cluster.seat(lease.holder.node_id, viewers=viewers, edges=edges,
                                           edge=caller)
        if isinstance(decision, There):
            log.info("viewer %s of %s placed on node %s", identity, room_id,
                     decision.node.node_id)
            raise WrongNode(decision.node.url, node_id=decision.node.node_id)
        if lease.holder.node_id == self.settings.node_id:
            return None
        return lease.holder.node_url

    def _audience(self, room: str) -> tuple[int, list[str]]:
        """This node's viewers of ``room`` (people) and the edges it feeds it to."""
        legs = [p.participant for p in self.plane.peers.values()
                if isinstance(p, ViewerLeg) and p.room == room]
        edges = sorted({p.removeprefix(EDGE_PREFIX) for p in legs if p.startswith(EDGE_PREFIX)})
        return sum(1 for p in legs if not p.startswith(EDGE_PREFIX)), edges

    async def ensure(self, room: str, participant: str | None, origin: str,
                     language: str | None = None) -> None:
        """An upstream of ``room`` (``participant``'s tracks, or the latest; with ``language``
        that interpretation channel alone, issue 17) from ``origin``, opened unless one is
        live: one per channel per edge, whatever interpreter is on air at the origin. The
        origin's refusal is ``SignalingError`` ``origin_refused`` (or ``NothingPublished``
        for its 404)."""
        wanted = Pull(room, None if language else participant, origin.rstrip("/"), language)
        key = wanted.key
        async with self._locks.setdefault(key, asyncio.Lock()):
            pull = self.pulls.get(key)
            if pull is None or not self._live(pull):
                fresh = wanted
                await self._open(fresh)  # takes over the Sources a lost upstream left
                if pull is not None:
                    self._forget(pull)
                    pull.peer_id = ""
                    self._spawn(self._drop(pull))  # its WHEP session at its origin
                pull = self.pulls[key] = fresh
            # a viewer refused after this (the gate's subscribe check) leaves no peer behind
            # to end: the upstream then goes once this grace is over
            self._arm(pull, max(self.settings.cluster.cascade_linger_s, OPEN_GRACE_S))

    def _live(self, pull: Pull) -> bool:
        peer = self.plane.peers.get(pull.peer_id)
        return peer is not None and not peer.closed.is_set()

    async def _open(self, pull: Pull, replaces: str | None = None) -> None:
        node_id = self.settings.node_id
        offer = await self.plane.open_upstream(pull.room, pull.label, pull.language)
        pull.peer_id = offer.peer_id
        pull.token = mint(self.settings.secret_value(), identity=edge_identity(node_id),
                          room=pull.room, grants=[Grant.SUBSCRIBE, Grant.HIDDEN],
                          ttl_s=TOKEN_TTL_S)
        url = f"{pull.origin}/whep/{quote(pull.room)}"
        if pull.language is not None:  # the origin's listener door (signaling/media_door.py)
            url += f"?language={quote(pull.language)}"
        elif pull.participant is not None:
            url += f"?participant={quote(pull.participant)}"
        try:
            answer, pull.resource = await self._post(url, offer.sdp, pull.token)
            pull.feeder = _node_url(pull.resource)
            await self.plane.accept_upstream(offer.peer_id, answer, replaces)
        except BaseException:
            with contextlib.suppress(UnknownPeer):
                await self.plane.close(offer.peer_id)
            raise
        pull.moved_at = asyncio.get_running_loop().time()
        self._start_watch()
        log.info("edge: pulling %s from %s via %s (peer %s)", pull.room, pull.origin,
                 pull.feeder, pull.peer_id)

    async def _post(self, url: str, offer: str, token: str) -> tuple[str, str]:
        headers = {"Content-Type": whip.SDP, "Authorization": f"Bearer {token}"}
        http = self._session()
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with http.post(url, data=offer, headers=headers,
                                     allow_redirects=False) as response:
                    status, text = response.status, await response.text()
                    location = response.headers.get("Location", "")
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise SignalingError(ORIGIN_REFUSED, f"the room's origin is unreachable: {exc}"
                                     ) from None
            if status in (307, 308) and location:
                url = urljoin(url, location)
                continue
            if status == 201:
                return text, urljoin(url, location)
            if status == 404:
                raise NothingPublished(f"the origin has nothing to play: {text.strip()[:200]}")
            raise SignalingError(ORIGIN_REFUSED, f"the room's origin refused this edge: "
                                                 f"{status} {text.strip()[:200]}")
        raise SignalingError(ORIGIN_REFUSED, "the room's origin redirected this edge too often")

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        return self._http

    def _on_event(self, event: MediaEvent) -> None:
        """A local viewer left: the room's upstreams linger, then go, if it was the last."""
        if not isinstance(event, PeerEnded):
            return
        for pull in list(self.pulls.values()):
            if pull.room != event.room:
                continue
            if event.peer_id == pull.peer_id:  # the upstream itself ended: see _orphaned
                pull.peer_id = ""
                pull.orphaned_at = asyncio.get_running_loop().time()
            elif not self._viewers(pull.room):
                self._arm(pull, self.settings.cluster.cascade_linger_s)

    def _arm(self, pull: Pull, delay_s: float) -> None:
        """Check ``delay_s`` from now whether ``pull`` still has viewers; drop it if not."""
        if pull.linger is not None:
            pull.linger.cancel()
        pull.linger = asyncio.get_running_loop().call_later(delay_s, self._linger_over, pull)

    def _viewers(self, room: str) -> int:
        return sum(1 for peer in self.plane.peers.values()
                   if isinstance(peer, ViewerLeg) and peer.room == room)

    def _linger_over(self, pull: Pull) -> None:
        pull.linger = None
        if self._viewers(pull.room) or self.pulls.get(pull.key) is not pull:
            return
        self._forget(pull)
        self._spawn(self._drop(pull))

    def _forget(self, pull: Pull) -> None:
        if self.pulls.get(pull.key) is pull:
            del self.pulls[pull.key]
        if pull.linger is not None:
            pull.linger.cancel()
            pull.linger = None

    async def _drop(self, pull: Pull) -> None:
        """Close the upstream here and end its WHEP session at the origin."""
        self._forget(pull)
        if pull.peer_id:
            with contextlib.suppress(UnknownPeer):
                await self.plane.close(pull.peer_id)
        elif pull.orphaned_at is not None:  # its Sources wait for a re-pull that won't come
            self.plane.end_orphans(pull.room, pull.label)
        if pull.resource:
            try:
                async with self._session().delete(
                        pull.resource, headers={"Authorization": f"Bearer {pull.token}"}):
                    pass
            except (aiohttp.ClientError, TimeoutError) as exc:  # its ICE consent lapses anyway
                log.warning("edge: could not end %s at the origin: %s", pull.resource, exc)
        log.info("edge: dropped the upstream of %s", pull.room)

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- re-pull after the origin moved (issue 13 §3) ----------------------------------------

    def _start_watch(self) -> None:
        if self._watcher is None and self.cluster is not None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="edge-watch")

    async def _watch(self) -> None:
        """Every third of ``cascade_stall_s``: re-pull each upstream that stalled because the
        node it pulls from is gone or the room moved (:meth:`_check`)."""
        stall_s = self.settings.cluster.cascade_stall_s
        while True:
            await asyncio.sleep(stall_s / 3)
            now = asyncio.get_running_loop().time()
            for pull in list(self.pulls.values()):
                if pull.orphaned_at is not None or self._stalled(pull, now, stall_s):
                    try:
                        await self._check(pull, now)
                    except (RoomsError, SignalingError, NothingPublished) as exc:
                        log.info("edge: re-pull of %s not yet: %s", pull.room, exc)
                    except Exception:  # one failed look must not end the watch
                        log.exception("edge: re-pull of %s failed", pull.room)

    def _stalled(self, pull: Pull, now: float, stall_s: float) -> bool:
        peer = self.plane.peers.get(pull.peer_id)
        inbounds = peer.inbounds if isinstance(peer, UpstreamLeg) else []
        packets = sum(i.stats.packets_received for i in inbounds)
        if packets != pull.packets:
            pull.packets, pull.moved_at = packets, now
        return now - pull.moved_at >= stall_s

    async def _check(self, pull: Pull, now: float) -> None:
        """Re-pull ``pull`` from the room's holder if its leg was lost, the node it pulls from
        is gone or the room moved; wait (next look) while no live node holds the room yet. A
        lost leg's Sources (:meth:`MediaPlane.end_orphans`) end if the origin ended them, the
        room came here, or no re-pull succeeded within :data:`ORPHAN_GRACE_S`."""
        assert self.cluster is not None
        label = pull.label
        lost = pull.orphaned_at is not None
        if lost and (not self.plane.pulled(pull.room, label)
                     or now - (pull.orphaned_at or now) > ORPHAN_GRACE_S):
            self._forget(pull)
            self.plane.end_orphans(pull.room, label)
            return
        live = {n.url.rstrip("/") for n in await self.cluster.nodes()}
        lease = await self.service.store.get_lease(pull.room)
        if lease is None or lease.holder.node_url.rstrip("/") not in live:
            return  # the room has no live node yet: its viewers wait, frozen
        holder = lease.holder
        if holder.node_id == self.settings.node_id:  # the room came here: its tracks are
            self._forget(pull)  # local now; the edge's end and viewers subscribe again
            self._spawn(self._drop(pull))
            return
        if not lost and pull.feeder in live and holder.node_url.rstrip("/") == pull.origin:
            return  # the node we pull from is alive: its publisher is only quiet
        await self._repull(pull, holder.node_url)

    async def _repull(self, old: Pull, origin: str) -> None:
        key = old.key
        async with self._locks.setdefault(key, asyncio.Lock()):
            if self.pulls.get(key) is not old:
                return
            pull = Pull(old.room, old.participant, origin.rstrip("/"), old.language)
            await self._open(pull, replaces=old.peer_id or None)
            self._forget(old)
            self.pulls[key] = pull
            self.repulls += 1
            self._arm(pull, max(self.settings.cluster.cascade_linger_s, OPEN_GRACE_S))
        log.warning("edge: %s re-pulled from %s (its upstream node %s is gone or the room "
                    "moved)", old.room, origin, old.feeder)
        old.peer_id = ""  # the plane closes the old leg; only its WHEP session remains
        self._spawn(self._drop(old))

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for pull in list(self.pulls.values()):
            await self._drop(pull)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()


def _node_url(resource: str) -> str:
    """``http://host:port`` of a WHEP resource URL: the node serving it."""
    scheme, _, rest = resource.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


EDGES_KEY = web.AppKey("edges", Edges)
