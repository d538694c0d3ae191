"""The organiser watching the console: every ``console.snapshot`` node A pushes, kept in order,
and a wait for the first one (from now on) that shows what a test expects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import socketio

from rooms.token import Grant, mint
from tests.console.console_client import NS
from tests.fixtures.pavilion import TEST_SECRET, RunningApp

Snapshot = dict[str, Any]


def organiser_token() -> str:
    return mint(TEST_SECRET, identity="organiser", room="*",
                grants=[Grant.JOIN, Grant.MODERATE], ttl_s=3600, now=time.time())


def row(snapshot: Snapshot, room: str) -> dict[str, Any] | None:
    """The room's row in a snapshot (None: not listed, i.e. not live)."""
    found = [r for r in snapshot.get("rooms", []) if r["id"] == room]
    return found[0] if found else None


class ConsoleWatch:
    """A python-socketio client on ``/console`` that records every snapshot."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.history: list[Snapshot] = []
        self._new = asyncio.Condition()
        self.sio.on("console.snapshot", self._snapshot, namespace=NS)

    async def _snapshot(self, data: Snapshot) -> None:
        async with self._new:
            self.history.append(data)
            self._new.notify_all()

    @classmethod
    async def connect(cls, app: RunningApp) -> ConsoleWatch:
        watch = cls()
        await watch.sio.connect(app.url, namespaces=[NS], transports=["websocket"],
                                auth={"token": organiser_token()}, wait_timeout=10)
        return watch

    async def until(self, check: Callable[[Snapshot], bool], within: float = 30) -> Snapshot:
        """The first snapshot from now on for which ``check`` holds."""
        start = len(self.history)
        async with asyncio.timeout(within), self._new:
            while True:
                for snapshot in self.history[start:]:
                    if "error" not in snapshot and check(snapshot):
                        return snapshot
                start = len(self.history)
                await self._new.wait()

    async def room_detail(self, room: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call("console.room", {"room": room},
                                                     namespace=NS, timeout=20)
        assert reply["ok"] is True, reply
        return reply

    async def close(self) -> None:
        await self.sio.disconnect()
