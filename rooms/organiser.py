"""``OrganiserDesk``: what the organiser reads and makes across rooms (the admin API's domain).

The admin API authenticates its caller by the API key and acts as the organiser: a token for
every room (``*``) with every grant. Reading rooms and their people goes through here, so the
admin handlers never touch the Store (issue 11, deliverable 8); each call first asks the gate
whether the organiser token may moderate the room (an organiser may read an ended room: reads
check the token's room and grant, not the room's state).
"""

from __future__ import annotations

from typing import Any

from config import ClusterSettings
from rooms import gate, overview
from rooms.cluster import ClusterNode, NodeReport
from rooms.errors import InvalidInput, NoSuchRoom, WrongNode
from rooms.participant import Participant
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomState
from rooms.service import RoomService
from rooms.token import AccessToken


class OrganiserDesk:
    def __init__(self, service: RoomService, cluster: ClusterNode | None = None) -> None:
        self.service = service
        self.store = service.store
        self.cluster = cluster

    async def rooms(self, organiser: AccessToken, *, pavilion: Pavilion | None = None,
                    state: RoomState | None = None) -> list[dict[str, Any]]:
        """Every room (meetings included: this is the organiser), with how many are present."""
        _check_organiser(organiser)
        found = await self.store.list_rooms(pavilion=pavilion, state=state)
        return [{**r.to_dict(), "present": await self.store.count_present(r.id)} for r in found]

    async def create(self, organiser: AccessToken, room: Room) -> Room:
        _check_organiser(organiser)
        if not await self.store.create_room(room):
            raise InvalidInput("room_exists", f"room {room.id!r} already exists")
        if room.state is RoomState.LIVE:  # organisers' consoles list it at once (issue 18 §2)
            self.service.hooks.tell_watchers("room_created", room.id)
        return room

    async def detail(self, organiser: AccessToken, room_id: str) -> dict[str, Any]:
        room = await self._room(organiser, room_id)
        lease = await self.store.get_lease(room.id)
        return {
            **room.to_dict(),
            "present": await self.store.count_present(room.id),
            "node": None if lease is None else {"id": lease.holder.node_id,
                                                "url": lease.holder.node_url},
            "edges": [],  # node ids pulling it from this node (web/admin_api.py fills it in)
            "products": [p.to_dict() for p in await self.store.list_products(room.id)],
            "reactions": await self.store.reactions(room.id),
        }

    async def nodes(self, organiser: AccessToken) -> list[dict[str, Any]]:
        """Every live node's last load report (this node's as it is now), by id."""
        _check_organiser(organiser)
        return [n.to_dict() for n in await self._cluster().nodes()]

    async def overview(self, organiser: AccessToken, rules: ClusterSettings, *,
                       offset: int = 0, limit: int = overview.DEFAULT_LIMIT) -> dict[str, Any]:
        """Issue 18 §2: every live room (and meeting in session) with its health, every node,
        the alerts (one page)."""
        _check_organiser(organiser)
        cluster = self._cluster()
        now = self.service.clock.now()
        live = [r for r in await self.store.list_rooms() if overview.on_air(r, now)]
        rooms = [(r, await self.store.count_present(r.id)) for r in live]
        return overview.overview(rooms, await cluster.health(), await cluster.nodes(), rules,
                                 offset=offset, limit=limit)

    async def room_health(self, organiser: AccessToken, room_id: str,
                          rules: ClusterSettings) -> dict[str, Any]:
        """One room's participants with their connection quality, from its media node's last
        report (any node reads it: the directory holds it)."""
        room = await self._room(organiser, room_id)
        people = await self.store.list_participants(room.id)
        detail = await self._cluster().room_detail(room.id)
        return overview.room_health(room, people, detail, rules)

    async def drain_target(self, organiser: AccessToken, node_id: str) -> NodeReport:
        """The node the organiser asks to drain, if it is this one (the caller then drains
        it); ``WrongNode`` with its URL for another live node (ask that node), else 404."""
        _check_organiser(organiser)
        cluster = self._cluster()
        if node_id == cluster.node_id:
            return cluster.last
        for node in await cluster.nodes():
            if node.node_id == node_id:
                raise WrongNode(node.url, node_id=node_id)
        raise NoSuchRoom(node_id, code="no_such_node", what="node")

    def _cluster(self) -> ClusterNode:
        if self.cluster is None:  # a wiring mistake, not a refusal: web/admin_api.py passes it
            raise RuntimeError("OrganiserDesk was opened without its ClusterNode")
        return self.cluster

    async def participants(self, organiser: AccessToken, room_id: str) -> list[Participant]:
        room = await self._room(organiser, room_id)
        return await self.store.list_participants(room.id)

    async def _room(self, organiser: AccessToken, room_id: str) -> Room:
        room = await self.service.room(room_id)
        gate.check_covers(organiser, room)
        _check_organiser(organiser)
        return room


def _check_organiser(token: AccessToken) -> None:
    gate.decide_organiser_console(token)  # the organiser: every room, moderate
