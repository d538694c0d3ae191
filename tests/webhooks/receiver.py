"""A CRM stand-in: a real aiohttp server that records the webhooks it acknowledges."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fixtures.ports import free_port


@dataclass
class Receiver:
    status: int = 200  # what it answers (200: acknowledged)
    delay_s: float = 0.0
    got: list[dict[str, Any]] = field(default_factory=list)  # acknowledged bodies, in order
    raw: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    attempts: int = 0
    arrived: list[str] = field(default_factory=list)  # Pavilion-Webhook-Id of every request
    url: str = ""
    _runner: web.AppRunner | None = None
    _heard: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.attempts += 1
        self.arrived.append(request.headers.get("Pavilion-Webhook-Id", ""))
        self._heard.set()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status >= 300:
            return web.Response(status=self.status)
        self.raw.append((body, dict(request.headers)))
        self.got.append(json.loads(body))
        self._heard.set()
        return web.Response(status=self.status)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def names(self, room: str | None = None) -> list[str]:
        return [g["event"] for g in self.got if room is None or g.get("room") == room]

    async def until(self, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """Wait until ``check()`` holds, looking again after each request it hears."""
        async with asyncio.timeout(timeout_s):
            while not check():
                self._heard.clear()
                await self._heard.wait()

    async def wait_for(self, count: int, timeout_s: float = 20.0) -> None:
        await self.until(lambda: len({g["id"] for g in self.got}) >= count, timeout_s)
