"""The demo seeds several exhibitors (rooms/demo.py's, names in six languages) with free slots
over the next days, idempotently (issue 12, point 3). Memory and a real redis-server."""

from __future__ import annotations

from datetime import UTC, datetime

from config import LANGUAGES
from rooms.trade.demo import DAYS, DEMO_EXHIBITOR, PROFILES, seed_demo_exhibitors
from tests.meetings import test_agenda
from tests.meetings.test_agenda import World

world = test_agenda.world  # the same fixture: memory and a real redis-server


async def test_demo_exhibitors_have_names_and_slots_across_days(world: World) -> None:
    now = datetime.fromtimestamp(world.clock.now(), tz=UTC)
    await seed_demo_exhibitors(world.service, now=now)
    found = {p.id: (p, n) for p, n in await world.service.directory()}
    assert {p["id"] for p in PROFILES} <= set(found) and len(PROFILES) >= 4
    for data in PROFILES:
        profile, free = found[data["id"]]
        assert set(profile.name.as_dict()) == set(LANGUAGES)
        slots = await world.service.slots(profile.id)
        assert free == len(slots) > 0
        assert len({s.starts_at.astimezone(UTC).date() for s, _ in slots}) == DAYS
    again = await seed_demo_exhibitors(world.service, now=now)  # a restart adds nothing
    assert again[0].id == DEMO_EXHIBITOR
    assert {p.id: n for p, n in await world.service.directory()} == {
        i: n for i, (_, n) in found.items()}
