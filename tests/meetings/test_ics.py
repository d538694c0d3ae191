"""ICS files parse with a real parser (the icalendar package) and carry the right UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from rooms.trade.ics import Invitation, escape, fold, last_transition, render

START = datetime(2026, 9, 2, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo and Seoul, 09:00 in Shanghai


def invitation(tz: str, **changes: object) -> Invitation:
    values: dict[str, object] = dict(
        uid="r-0123456789ab@pavilion", summary="长春汽车 · Kim; quote, SUV",
        description="Price list please.\nСпасибо!", url="https://expo.example/meeting/mtg-r-1?token=abc",
        starts_at=START, ends_at=START + timedelta(minutes=30), time_zone=tz,
        stamp=datetime(2026, 8, 30, 12, 0, tzinfo=UTC), sequence=2)
    values.update(changes)
    return Invitation(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("tz", "local_hour", "offset"), [
    ("Asia/Shanghai", 9, "+0800"), ("Asia/Tokyo", 10, "+0900"), ("Asia/Seoul", 10, "+0900"),
    ("Europe/Moscow", 4, "+0300"), ("Asia/Bangkok", 8, "+0700"), ("Asia/Ulaanbaatar", 9, "+0800"),
])
def test_event_times_are_right_in_utc_and_local(tz: str, local_hour: int, offset: str) -> None:
    text = render(invitation(tz))
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.astimezone(UTC) == START and end.astimezone(UTC) == START + timedelta(minutes=30)
    assert start.hour == local_hour and event["DTSTART"].params["TZID"] == tz
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == tz
    assert f"TZOFFSETTO:{offset}" in text
    assert str(event["SUMMARY"]) == "长春汽车 · Kim; quote, SUV"
    assert str(event["DESCRIPTION"]) == "Price list please.\nСпасибо!"
    assert str(event["URL"]).endswith("token=abc") and int(event["SEQUENCE"]) == 2
    assert event.decoded("DTSTAMP") == datetime(2026, 8, 30, 12, 0, tzinfo=UTC)
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(minutes=5)


def test_daylight_saving_zone_gets_its_observance() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    text = render(invitation("Europe/Berlin", starts_at=summer,
                             ends_at=summer + timedelta(hours=1)))
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == summer
    assert "BEGIN:DAYLIGHT" in text and "TZOFFSETFROM:+0100" in text
    assert "TZOFFSETTO:+0200" in text and "DTSTART:20260329T030000" in text
    change = last_transition(ZoneInfo("Europe/Berlin"), summer)
    assert change == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_lines_are_crlf_folded_at_75_octets_without_breaking_characters() -> None:
    text = render(invitation("Asia/Tokyo", description="展" * 100))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert fold("a" * 80) == "a" * 75 + "\r\n " + "a" * 5
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_a_cancelled_meeting_says_so() -> None:
    text = render(invitation("Asia/Tokyo", cancelled=True))
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and not event.walk("VALARM")
