"""The demo expo's trade docking: one exhibitor with free slots, so a newcomer can book at once.

Demo mode only (``settings.demo``). :func:`seed_demo_exhibitor` is idempotent: it writes the
profile of :data:`DEMO_EXHIBITOR` (the exhibitor of the demo expo's sample meeting room) and, when
it has no free future slot left, publishes a few for the next day as the organiser would. The
demo pages then hand out a delegate's and this exhibitor's token (web/page_access.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rooms.trade.availability import ExhibitorProfile
from rooms.trade.service import BookingService, Caller

DEMO_EXHIBITOR = "gobi-cashmere"
DEMO_ZONE = "Asia/Ulaanbaatar"
ORGANISER = Caller("demo-organiser", "Demo organiser", organiser=True)
PROFILE = {
    "id": DEMO_EXHIBITOR,
    "name": {"zh": "戈壁羊绒", "en": "Gobi Cashmere", "ja": "ゴビ・カシミヤ",
             "ko": "고비 캐시미어", "ru": "Гоби Кашемир", "mn": "Говь Кашемир"},
    "pavilion": "imported-goods",
    "products": ["cashmere sweaters", "cashmere yarn", "羊绒衫", "кашемировая пряжа"],
    "languages": ["mn", "en", "ru", "zh"],
    "team": [],
    "time_zone": DEMO_ZONE,
}
SLOT_STARTS = ("10:00", "10:30", "11:00", "14:00", "15:30")


async def seed_demo_exhibitor(service: BookingService, *, now: datetime) -> ExhibitorProfile:
    """Write the demo exhibitor; publish tomorrow's slots unless it still has a free one."""
    profile = await service.put_profile(ORGANISER, dict(PROFILE))
    if await service.slots(profile.id):
        return profile
    day = (now + timedelta(days=1)).date().isoformat()
    await service.publish(ORGANISER, profile.id, [
        {"date": day, "start": start, "length_min": 30, "time_zone": DEMO_ZONE,
         "languages": ["en", "mn", "ru"]} for start in SLOT_STARTS])
    return profile
