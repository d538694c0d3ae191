"""Small builders of slots, profiles and requests for the meeting tests (real values, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rooms.pavilion import Pavilion
from rooms.text import LocalizedText
from rooms.trade.availability import ExhibitorProfile, Slot, new_slot_id
from rooms.trade.request import MeetingRequest, new_request

# 2023-11-14T22:13:20Z: the fake clocks start in the real past, because PyJWT refuses a token
# whose "iat" is later than the real time (join links are minted for the slot time).
NOW = 1_700_000_000.0
T0 = datetime.fromtimestamp(NOW, tz=UTC)
NAMES = {"zh": "长春汽车", "en": "Changchun Motors", "ja": "長春モーターズ",
         "ko": "창춘 모터스", "ru": "Чанчунь Моторс", "mn": "Чанчунь Моторс"}


def profile(exhibitor: str = "faw", *, team: tuple[str, ...] = ("faw-li",),
            pavilion: Pavilion = Pavilion.AUTOMOBILE,
            languages: tuple[str, ...] = ("zh", "en", "ru")) -> ExhibitorProfile:
    return ExhibitorProfile(id=exhibitor, name=LocalizedText(NAMES), pavilion=pavilion,
                            products=("electric trucks", "SUV"), languages=languages,
                            team=frozenset(team), time_zone="Asia/Shanghai")


def slot(hours: float = 24, *, minutes: int = 30, host: str = "faw", exhibitor: str = "faw",
         tz: str = "Asia/Shanghai") -> Slot:
    return Slot(id=new_slot_id(), exhibitor=exhibitor, host=host,
                starts_at=T0 + timedelta(hours=hours), length_min=minutes,
                languages=("en", "zh"), time_zone=tz)


def request_for(s: Slot, buyer: str, *, now: float = NOW, ttl_s: float = 3600) -> MeetingRequest:
    return new_request(slot=s, buyer=buyer, buyer_name=buyer.title(), message="Hello",
                       buyer_zone="Asia/Seoul", now=now, ttl_s=ttl_s)
