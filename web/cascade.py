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
from rooms.room import RoomKind
from rooms.service import RoomService
from rooms.token import Grant, mint
from signaling import whip
from signaling.errors import SignalingError
from streaming import MediaEvent, MediaPlane, PeerEnded, UnknownPeer
from streaming.errors import NothingPublished
from streaming.viewer import ViewerLeg

log = logging.getLogger(__name__)

EDGE_PREFIX = "edge:"
TOKEN_TTL_S = 24 * 3600
MAX_REDIRECTS = 3
OPEN_GRACE_S = 10.0  # a new viewer has this long to appear before an unused upstream goes
CASCADED = (RoomKind.BROADCAST, RoomKind.FORUM)
ORIGIN_REFUSED = "origin_refused"


def edge_identity(node_id: str) -> str:
    return f"{EDGE_PREFIX}{node_id}"


@dataclass
class Pull:
    """One upstream: ``room`` (and ``participant``'s tracks, or the room's latest) from
    ``origin``; ``resource`` is its WHEP session at the origin (for DELETE)."""

    room: str
    participant: str | None
    origin: str
    peer_id: str = ""
    resource: str = ""
    token: str = ""
    linger: asyncio.TimerHandle | None = field(default=None, repr=False)


class Edges:
    """This node's upstreams, keyed by (room, participant)."""

    def __init__(self, settings: Settings, plane: MediaPlane, service: RoomService) -> None:
        self.settings = settings
        self.plane = plane
        self.service = service
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

    async def ensure(self, room: str, participant: str | None, origin: str) -> None:
        """An upstream of ``room`` (``participant``'s tracks, or the latest) from ``origin``,
        opened unless one is live. The origin's refusal is ``SignalingError`` ``origin_refused``
        (or ``NothingPublished`` for its 404)."""
        key = (room, participant)
        async with self._locks.setdefault(key, asyncio.Lock()):
            pull = self.pulls.get(key)
            if pull is None or not self._live(pull):
                if pull is not None:
                    await self._drop(pull)
                pull = Pull(room, participant, origin.rstrip("/"))
                await self._open(pull)
                self.pulls[key] = pull
            # a viewer refused after this (the gate's subscribe check) leaves no peer behind
            # to end: the upstream then goes once this grace is over
            self._arm(pull, max(self.settings.cluster.cascade_linger_s, OPEN_GRACE_S))

    def _live(self, pull: Pull) -> bool:
        peer = self.plane.peers.get(pull.peer_id)
        return peer is not None and not peer.closed.is_set()

    async def _open(self, pull: Pull) -> None:
        node_id = self.settings.node_id
        label = pull.participant or "origin"
        offer = await self.plane.open_upstream(pull.room, label)
        pull.peer_id = offer.peer_id
        pull.token = mint(self.settings.secret_value(), identity=edge_identity(node_id),
                          room=pull.room, grants=[Grant.SUBSCRIBE, Grant.HIDDEN],
                          ttl_s=TOKEN_TTL_S)
        url = f"{pull.origin}/whep/{quote(pull.room)}"
        if pull.participant is not None:
            url += f"?participant={quote(pull.participant)}"
        try:
            answer, pull.resource = await self._post(url, offer.sdp, pull.token)
            await self.plane.accept_upstream(offer.peer_id, answer)
        except BaseException:
            with contextlib.suppress(UnknownPeer):
                await self.plane.close(offer.peer_id)
            raise
        log.info("edge: pulling %s from %s (peer %s)", pull.room, pull.origin, pull.peer_id)

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
            if event.peer_id == pull.peer_id:  # the upstream itself ended (origin gone)
                self._forget(pull)
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
        if self._viewers(pull.room) or self.pulls.get((pull.room, pull.participant)) is not pull:
            return
        self._forget(pull)
        self._spawn(self._drop(pull))

    def _forget(self, pull: Pull) -> None:
        if self.pulls.get((pull.room, pull.participant)) is pull:
            del self.pulls[(pull.room, pull.participant)]
        if pull.linger is not None:
            pull.linger.cancel()
            pull.linger = None

    async def _drop(self, pull: Pull) -> None:
        """Close the upstream here and end its WHEP session at the origin."""
        self._forget(pull)
        with contextlib.suppress(UnknownPeer):
            await self.plane.close(pull.peer_id)
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

    async def aclose(self) -> None:
        for pull in list(self.pulls.values()):
            await self._drop(pull)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()


EDGES_KEY = web.AppKey("edges", Edges)
