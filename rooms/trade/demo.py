"""The demo expo's trade docking: exhibitors with free slots, so a newcomer can book at once.

Demo mode only (``settings.demo``). :func:`seed_demo_exhibitors` is idempotent: it writes the
profiles of :data:`PROFILES` — the exhibitors of the demo expo's rooms (rooms/demo.py), with their
names in six languages — and, for each one without a free future slot, publishes a few over the
next :data:`DAYS` days in its own time zone, as the organiser would. The demo pages then hand out
a delegate's and :data:`DEMO_EXHIBITOR`'s token (web/page_access.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rooms.trade.availability import ExhibitorProfile
from rooms.trade.service import BookingService, Caller

DEMO_EXHIBITOR = "gobi-cashmere"  # the exhibitor of the demo's sample meeting room
DEMO_ZONE = "Asia/Ulaanbaatar"
ORGANISER = Caller("demo-organiser", "Demo organiser", organiser=True)
DAYS = 3  # slots on each of the next days


def _profile(id_: str, name: dict[str, str], pavilion: str, products: list[str],
             languages: list[str], time_zone: str, description: dict[str, str]) -> dict[str, Any]:
    return {"id": id_, "name": name, "pavilion": pavilion, "products": products,
            "languages": languages, "team": [], "time_zone": time_zone,
            "description": description}


PROFILE = _profile(
    DEMO_EXHIBITOR,
    {"zh": "戈壁羊绒", "en": "Gobi Cashmere", "ja": "ゴビ・カシミヤ", "ko": "고비 캐시미어",
     "ru": "Гоби Кашемир", "mn": "Говь Кашемир"},
    "imported-goods", ["cashmere sweaters", "cashmere yarn", "羊绒衫", "кашемировая пряжа"],
    ["mn", "en", "ru", "zh"], DEMO_ZONE,
    {"en": "Mongolian cashmere knitwear and yarn, from herders to finished sweaters.",
     "mn": "Малчнаас бэлэн цамц хүртэл — Монгол ноолууран сүлжмэл ба утас.",
     "zh": "蒙古羊绒针织品和纱线，从牧民到成衣。"})
PROFILES: tuple[dict[str, Any], ...] = (
    PROFILE,
    _profile(
        "changbai-foods",
        {"zh": "长白山食品", "en": "Changbai Mountain Foods", "ja": "長白山フーズ",
         "ko": "창바이산 식품", "ru": "Продукты Чанбайшаня", "mn": "Чанбайшань хүнс"},
        "new-media", ["ginseng", "black fungus", "rice", "人参", "木耳"], ["zh", "en", "ko"],
        "Asia/Shanghai",
        {"en": "Ginseng, black fungus and rice from our own farms in the Changbai Mountains.",
         "zh": "来自长白山自有农场的人参、木耳和大米。",
         "ko": "창바이산 자사 농장의 인삼, 목이버섯, 쌀."}),
    _profile(
        "changchun-ev-works",
        {"zh": "长春新能源汽车", "en": "Changchun EV Works", "ja": "長春EVワークス",
         "ko": "창춘 EV 웍스", "ru": "Чанчунь Электромобили", "mn": "Чанчунь цахилгаан машин"},
        "automobile", ["electric trucks", "SUV", "EV batteries", "электрогрузовики"],
        ["zh", "en", "ru"], "Asia/Shanghai",
        {"en": "Electric light trucks and SUVs for export; fleet quotes on request.",
         "zh": "出口电动轻卡和SUV，可按车队数量报价。",
         "ru": "Электрические лёгкие грузовики и внедорожники на экспорт; цены для автопарков."}),
    _profile(
        "jilin-space-tech",
        {"zh": "吉林航天科技", "en": "Jilin Space Technology", "ja": "吉林宇宙技術",
         "ko": "지린 우주기술", "ru": "Цзилиньские космические технологии",
         "mn": "Жилинь сансрын технологи"},
        "science-tech", ["satellite imagery", "remote sensing", "卫星遥感"], ["zh", "en", "ja"],
        "Asia/Shanghai",
        {"en": "Satellite remote-sensing imagery and analysis for farming and cities.",
         "zh": "面向农业与城市的卫星遥感影像与分析。",
         "ja": "農業と都市のための衛星リモートセンシング画像と解析。"}),
)
SLOT_STARTS = ("10:00", "10:30", "11:00", "14:00", "15:30")


def demo_slots(profile: ExhibitorProfile, now: datetime) -> list[dict[str, Any]]:
    """A few 30-minute slots on each of the next :data:`DAYS` days, in the exhibitor's zone."""
    days = [(now + timedelta(days=n)).date().isoformat() for n in range(1, DAYS + 1)]
    spoken = list(profile.languages[:3])
    return [{"date": day, "start": start, "length_min": 30, "time_zone": profile.time_zone,
             "languages": spoken} for day in days for start in SLOT_STARTS]


async def seed_demo_exhibitors(service: BookingService, *, now: datetime) -> list[ExhibitorProfile]:
    """Write every demo exhibitor; publish slots for those without a free future one."""
    seeded = []
    for data in PROFILES:
        profile = await service.put_profile(ORGANISER, dict(data))
        if not await service.slots(profile.id):
            await service.publish(ORGANISER, profile.id, demo_slots(profile, now))
        seeded.append(profile)
    return seeded


async def seed_demo_exhibitor(service: BookingService, *, now: datetime) -> ExhibitorProfile:
    """Every demo exhibitor (:func:`seed_demo_exhibitors`); returns :data:`DEMO_EXHIBITOR`'s."""
    return (await seed_demo_exhibitors(service, now=now))[0]
