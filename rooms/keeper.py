"""``Keeper``: keeps this node's presence, leases and id alive; re-announces them after an outage.

Every ``interval`` it heartbeats each participant that joined through this node and renews each
lease the node holds. A heartbeat that finds its record gone (the TTL passed while Redis was down)
writes the record again; a lease that lapsed is claimed again, and dropped if another node took
it meanwhile; a room this node holds live (a participant joined here, or its lease) whose record
is gone (a Redis that came back empty) is written back from the node's last copy
(``RoomService.known_rooms``; ``HSETNX``, so a newer record is never overwritten). A Store outage
is logged once: local rooms keep working (DESIGN.md §5). Between ticks the Store is pinged every
``probe_s`` (0.5 s), and a ping that succeeds after one that failed runs a tick at once, so
presence, leases and rooms are back within ~1 s of Redis, not one interval later. The loop sets
``exited`` when it ends, so ``aclose()`` never hangs.

A record gone while the Store answered throughout was removed by someone: a live node that
swept this one as dead while it stalled past its report's life (rooms/cluster/sweeper.py; every
room then heard ``participant.left``). Written back, it is handed to ``on_rejoined`` as
:class:`~rooms.events.Joined`, so the rooms hear the member is there after all (issue 13). After
an outage the write-back stays silent: nobody announced those members gone (their TTL lapsed),
and the node sends ``presence.sync`` instead (signaling/presence_sync.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rooms.cluster.node import ClusterNode
from rooms.errors import StoreUnavailable
from rooms.events import Joined
from rooms.lifecycle import cancel_and_wait
from rooms.participant import Participant
from rooms.service import RoomService

log = logging.getLogger(__name__)
PROBE_S = 0.5  # between ticks, how often the Store is pinged to notice it came back


class Keeper:
    def __init__(self, service: RoomService, *, interval_s: float | None = None,
                 cluster: ClusterNode | None = None) -> None:
        self._service = service
        self._cluster = cluster  # its node id claim is renewed with the leases
        ttl = min(service.presence_ttl_s, service.lease_ttl_s)
        self.interval_s = interval_s if interval_s is not None else ttl / 3
        self.probe_s = min(PROBE_S, self.interval_s)
        self._down = False  # the last probe failed
        self._lapsed = False  # a probe failed since the last tick that succeeded
        self.healthy = True  # false while the Store is unreachable
        # members whose record a sweep removed, written back (the hub tells their rooms)
        self.on_rejoined: Callable[[list[Joined]], Awaitable[None]] | None = None
        self.exited = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rooms-keeper")

    async def _run(self) -> None:
        try:
            waited = 0.0
            while not self._closing:
                await asyncio.sleep(self.probe_s)
                waited += self.probe_s
                if waited >= self.interval_s or await self._came_back():
                    waited = 0.0
                    await self.tick()
        finally:
            self.exited.set()

    async def _came_back(self) -> bool:
        """Ping the Store: true when it answers after an outage (a failed probe or tick)."""
        try:
            await self._service.store.ping()
        except StoreUnavailable:
            self._down = self._lapsed = True
            return False
        was_down, self._down = self._down, False
        return was_down or not self.healthy

    async def tick(self) -> None:
        """One round of heartbeats and renewals (public so tests can drive it with a fake clock)."""
        try:
            await self._rooms()
            await self._heartbeats()
            await self._renewals()
            if self._cluster is not None:
                await self._cluster.renew_id()
        except StoreUnavailable as exc:
            if self.healthy:
                log.warning("state store unreachable, keeping local rooms going: %s", exc.reason)
            self.healthy = False
            return
        if not self.healthy:
            log.info("state store is back; presence and leases re-announced")
        self.healthy, self._lapsed = True, False

    async def _rooms(self) -> None:
        """Write back the records of rooms held live here that the Store lost."""
        service = self._service
        live = {room_id for room_id, _ in list(service.local)} | set(service.leases)
        for room_id in sorted(live):
            room = service.known_rooms.get(room_id)
            if room is not None and await service.store.create_room(room):
                log.warning("room %s was missing from the store: written back", room_id)

    async def _heartbeats(self) -> None:
        """One batched heartbeat per room; records that expired meanwhile are written again."""
        service, store = self._service, self._service.store
        by_room: dict[str, list[str]] = {}
        for room_id, identity in list(service.local):
            by_room.setdefault(room_id, []).append(identity)
        rejoined: list[Joined] = []
        for room_id, identities in by_room.items():
            gone = await store.heartbeat_many(room_id, identities, ttl_s=service.presence_ttl_s)
            for identity in gone:
                back = await self._reannounce(room_id, identity)
                room = service.known_rooms.get(room_id)
                if back is not None and room is not None and self.healthy and not self._lapsed:
                    rejoined.append(Joined(room, back))
        if rejoined and self.on_rejoined is not None:
            try:
                await self.on_rejoined(rejoined)
            except Exception:  # telling the rooms must not stop the renewals
                log.exception("announcing members written back failed")

    async def _reannounce(self, room_id: str, identity: str) -> Participant | None:
        """Write back a record that expired, unless its owner left or was kicked meanwhile (a
        kick from another node removes the record; its bus message may have been lost)."""
        service, store = self._service, self._service.store
        participant = service.local.get((room_id, identity))
        if participant is None:
            return None
        if await store.is_banned(room_id, identity):
            service.drop_local(room_id, identity)
            return None
        await store.put_participant(participant, ttl_s=service.presence_ttl_s)
        return participant

    async def _renewals(self) -> None:
        service, store = self._service, self._service.store
        for room_id in list(service.leases):
            if await store.renew_lease(room_id, service.node, ttl_s=service.lease_ttl_s):
                continue
            lease = await store.claim_lease(room_id, service.node, ttl_s=service.lease_ttl_s)
            if lease.holder != service.node:
                log.warning("room %s moved to node %s", room_id, lease.holder.node_id)
                service.leases.discard(room_id)

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            await cancel_and_wait(self._task)
        self.exited.set()  # also when the task was cancelled before it first ran
