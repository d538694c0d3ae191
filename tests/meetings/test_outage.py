"""Redis down: the meetings API answers 503 ``store_unavailable`` and the node works again once
Redis is back (a private real redis-server without persistence, stopped and restarted on its
port: it comes back empty, so the profile is written again)."""

from __future__ import annotations

from typing import Any

import pytest

from rooms.clock import FakeClock
from tests.meetings.api import PROFILE, app_for, call, settings
from tests.meetings.builders import NOW

pytestmark = pytest.mark.redis


async def test_store_outage_is_a_clear_503_and_loses_nothing(redis_factory: Any,
                                                             aiohttp_client: Any) -> None:
    server = redis_factory()
    client = await aiohttp_client(app_for(settings(redis_url=server.url), FakeClock(NOW)))
    await call(client, "PUT", "/exhibitors/faw", PROFILE, who="faw")
    slot = {"starts_at": "2024-03-01T10:00:00Z", "length_min": 30, "languages": ["en"]}
    server.stop()
    down = await call(client, "POST", "/exhibitors/faw/slots", {"slots": [slot]}, who="faw",
                      status=503)
    assert down["error"]["code"] == "store_unavailable"
    down = await call(client, "GET", "/exhibitors", status=503)
    assert down["error"]["code"] == "store_unavailable"
    server.start()
    await call(client, "PUT", "/exhibitors/faw", PROFILE, who="faw")
    made = await call(client, "POST", "/exhibitors/faw/slots", {"slots": [slot]}, who="faw",
                      status=201)
    assert len(made["slots"]) == 1
