"""Times as people read them: each language's date rules, the zone's label, and the IANA zones.

Babel formats dates by the locale's CLDR rules (Mongolian included: "2026 оны 12-р сарын 2"),
so no page prints a Mongolian date in English. Every shown time carries its zone: the short
name where the language has one ("KST", "CST"), otherwise the offset ("UTC+9"), so a buyer in
Seoul and an exhibitor in Ulaanbaatar never read the same "15:49" as the same instant.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, format_time

from config import Language
from web.catalog import Catalogs
from web.page_strings import WAIT_HOURS_MINUTES, WAIT_MINUTES


def babel_locale(lang: Language) -> str:
    return {"zh": "zh_Hans"}.get(lang, lang)


def zone_label(when: datetime, zone: str) -> str:
    """``UTC+9``, ``UTC-3:30``, ``UTC`` for ``when`` in ``zone`` (daylight saving included)."""
    offset = when.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_instant(when: datetime, lang: Language, zone: str) -> str:
    """``2026年12月2日 17:37 (UTC+8)``: the date and time in ``zone``, by ``lang``'s rules."""
    local = when.astimezone(ZoneInfo(zone))
    locale = babel_locale(lang)
    day = format_date(local, "medium", locale=locale)
    clock = format_time(local, "HH:mm", locale=locale)
    return f"{day} {clock} ({zone_label(when, zone)})"


def format_wait(seconds: float, lang: Language, catalogs: Catalogs) -> str:
    """``2 h 10 min`` (translated): how long until something opens, rounded up to a minute."""
    minutes = max(1, int(-(-seconds // 60)))
    hours, rest = divmod(minutes, 60)
    if hours:
        return catalogs.gettext(lang, WAIT_HOURS_MINUTES) % {"hours": hours, "minutes": rest}
    return catalogs.gettext(lang, WAIT_MINUTES) % {"minutes": rest}


@cache
def iana_zones() -> tuple[str, ...]:
    """The IANA zones people pick from (``Area/City``; the legacy aliases left out)."""
    areas = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
             "Europe/", "Indian/", "Pacific/")
    return ("UTC", *sorted(z for z in available_timezones() if z.startswith(areas)))
