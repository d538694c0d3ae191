"""A real ``socketio.AsyncClient`` on namespace ``/rtc``, recording what the server sends.

``batch`` frames are unpacked into their inner events (and ``reactions``), so a test waits for
``chat.message`` the same way whether it came alone or in a frame. Helpers also seed rooms and
mint tokens against a running app (tests/fixtures/pavilion.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import socketio

from rooms.content import ProductCard
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from web.keys import BACKEND_KEY

NS = "/rtc"
VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
HOST = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
GUEST = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT)


def token(identity: str, room: str, grants: Iterable[Grant] = VIEWER, *, ttl_s: int = 6 * 3600,
          name: str = "") -> str:
    return mint(TEST_SECRET, identity=identity, room=room, grants=grants, ttl_s=ttl_s,
                name=name or identity.capitalize())


async def make_room(app: RunningApp, room_id: str, kind: RoomKind, *, exhibitor: str = "",
                    products: int = 0) -> Room:
    room = Room(id=room_id, kind=kind, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), exhibitor=exhibitor, state=RoomState.LIVE)
    store = app.app[BACKEND_KEY].store
    await store.put_room(room)
    for n in range(products):
        await store.put_product(ProductCard(
            id=f"p{n}", room_id=room_id, name=LocalizedText({"en": f"Product {n}"}),
            price=Decimal("9.90"), currency="CNY"))
    return room


class RtcClient:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()
        self.sio.on("*", self._record, namespace=NS)
        self.session: dict[str, Any] = {}

    @classmethod
    async def connect(cls, app: RunningApp, tok: str, *, packet_class: type | None = None,
                      **auth: Any) -> RtcClient:
        """``packet_class``: python-socketio's ``serializer`` (a test sends raw JSON text)."""
        client = cls()
        if packet_class is not None:
            client.sio.packet_class = packet_class
        await client.sio.connect(app.url, namespaces=[NS], transports=["websocket"],
                                 auth={"token": tok, **auth}, wait_timeout=10)
        client.session = (await client.wait_for("session"))
        return client

    async def _record(self, event: str, data: Any = None) -> None:
        items = [(event, data)]
        if event == "batch":
            items = [(name, payload) for name, payload in data["events"]]
            if "reactions" in data:
                items.append(("reactions", data["reactions"]))
            if "presence" in data:
                items.append(("presence", data["presence"]))
        async with self._changed:
            self.events.extend(items)
            self._changed.notify_all()

    async def call(self, event: str, payload: Any = None, within: float = 20) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call(event, payload, namespace=NS, timeout=within)
        return reply

    async def ok(self, event: str, payload: Any = None) -> dict[str, Any]:
        reply = await self.call(event, payload)
        assert reply["ok"] is True, (event, reply)
        return reply

    async def wait_for(self, event: str, where: Callable[[Any], bool] = lambda _: True,
                       within: float = 15) -> Any:
        async with asyncio.timeout(within):
            async with self._changed:
                while True:
                    for name, data in self.events:
                        if name == event and where(data):
                            return data
                    await self._changed.wait()

    def seen(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def close(self) -> None:
        await self.sio.disconnect()
