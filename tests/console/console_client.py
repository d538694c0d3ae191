"""A python-socketio client of the organiser console's namespace ``/console`` (issue 18 §2)."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from tests.fixtures.pavilion import RunningApp

NS = "/console"


class Refused(Exception):
    def __init__(self, data: Any) -> None:
        super().__init__(str(data))
        inner = data.get("data", data) if isinstance(data, dict) else {}
        self.code = inner.get("code") if isinstance(inner, dict) else str(data)


class ConsoleClient:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.snapshots: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self.refusal: Any = None
        self.sio.on("console.snapshot", self._snapshot, namespace=NS)
        self.sio.on("connect_error", self._refused, namespace=NS)

    async def _snapshot(self, data: dict[str, Any]) -> None:
        if self.snapshots.full():
            self.snapshots.get_nowait()
        self.snapshots.put_nowait(data)

    async def _refused(self, data: Any) -> None:
        self.refusal = data

    @classmethod
    async def connect(cls, app: RunningApp, auth: dict[str, Any]) -> ConsoleClient:
        client = cls()
        try:
            await client.sio.connect(app.url, namespaces=[NS], transports=["websocket"],
                                     auth=auth, wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            await client.sio.disconnect()
            raise Refused(client.refusal) from None
        return client

    async def snapshot(self, until: Any = None, within: float = 20) -> dict[str, Any]:
        """The next snapshot (for which ``until(snapshot)`` holds, if given)."""
        async with asyncio.timeout(within):
            while True:
                data = await self.snapshots.get()
                if until is None or until(data):
                    return data

    async def call(self, event: str, payload: Any) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call(event, payload, namespace=NS, timeout=20)
        return reply

    async def close(self) -> None:
        await self.sio.disconnect()
