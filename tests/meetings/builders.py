"""Small builders of slots, profiles and requests for the meeting tests (real values, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rooms.availability import ExhibitorProfile, Slot, new_slot_id
from rooms.booking_request import MeetingRequest, new_request
from rooms.pavilion import Pavilion
from rooms.text import LocalizedText

# FakeClock's default start, 2027-01-15T08:00:00Z: every "future" below is relative to it.
NOW = 1_800_000_000.0
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
