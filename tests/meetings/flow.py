"""A whole Pavilion node for the end-to-end meeting tests, with the meetings' clock shiftable.

The meeting room and Socket.IO check tokens against the real time, so the slot is booked a
minute or two ahead in real time while the meetings' clock runs behind (``offset_s`` < 0:
booking happens "well before" the slot); the test then moves that clock to the slot, and past
its end, instead of waiting for it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from rooms.token import Grant, mint
from rooms.trade.service import BookingService
from tests.fixtures.pavilion import TEST_SECRET, make_settings
from web.app import create_app
from web.catalog import Catalogs
from web.meetings_api import BOOKINGS_KEY, CLOCK_KEY


class ShiftedClock:
    """The wall clock plus an offset a test moves (a Clock: rooms/clock.py)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = offset_s

    def now(self) -> float:
        return time.time() + self.offset_s

    def jump_to(self, instant: float) -> None:
        self.offset_s = instant - time.time()


@dataclass
class Node:
    url: str
    app: web.Application
    clock: ShiftedClock

    @property
    def bookings(self) -> BookingService:
        return self.app[BOOKINGS_KEY].service

    async def tick(self) -> None:
        await self.app[BOOKINGS_KEY].agenda.tick()


def link_token(identity: str, name: str = "", *, exhibitor: bool = False) -> str:
    """A person's organiser-issued token for the meetings API and pages: an exhibitor's
    (``exhibit``) or a delegate's (``delegate``), for every room (``pavilion token --room *``)."""
    grant = Grant.EXHIBIT if exhibitor else Grant.DELEGATE
    return mint(TEST_SECRET, identity=identity, room="*", grants=[Grant.JOIN, grant],
                ttl_s=3600, name=name or identity)


@pytest.fixture
async def meetings_node(catalogs: Catalogs) -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def start(offset_s: float = -600.0, **overrides: Any) -> Node:
        settings = make_settings(**{"demo": False, **overrides})
        app = create_app(settings, catalogs=catalogs)  # read once per process
        clock = ShiftedClock(offset_s)
        app[CLOCK_KEY] = clock
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.port).start()
        runners.append(runner)
        return Node(f"http://127.0.0.1:{settings.port}", app, clock)

    yield start
    for runner in reversed(runners):
        await runner.cleanup()
