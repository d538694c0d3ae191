"""Times as people read them, on the server (web/zones.py, web/opening.py): each language's date
rules (Mongolian included), the zone's label, the IANA list, and the early-link sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from web.catalog import load_catalogs
from web.opening import opening_notice
from web.zones import format_instant, format_wait, iana_zones, zone_label

WHEN = datetime(2026, 12, 2, 8, 37, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "label"), [
    ("Asia/Seoul", "UTC+9"), ("Asia/Ulaanbaatar", "UTC+8"), ("UTC", "UTC"),
    ("Asia/Kolkata", "UTC+5:30"), ("America/St_Johns", "UTC-3:30"),
    ("Europe/Moscow", "UTC+3"),
])
def test_zone_labels(zone: str, label: str) -> None:
    assert zone_label(WHEN, zone) == label


@pytest.mark.parametrize(("lang", "zone", "text"), [
    ("mn", "Asia/Ulaanbaatar", "2026 оны 12-р сарын 2 16:37 (UTC+8)"),
    ("ko", "Asia/Seoul", "2026. 12. 2. 17:37 (UTC+9)"),
    ("zh", "Asia/Shanghai", "2026年12月2日 16:37 (UTC+8)"),
    ("en", "UTC", "Dec 2, 2026 08:37 (UTC)"),
])
def test_each_language_formats_by_its_own_rules(lang: str, zone: str, text: str) -> None:
    shown = format_instant(WHEN, lang, zone)  # type: ignore[arg-type]
    assert shown.replace("\u202f", " ").replace("\xa0", " ") == text  # CLDR's no-break spaces


def test_waits_and_zones_and_the_early_sentence() -> None:
    catalogs = load_catalogs()
    assert format_wait(130 * 60, "en", catalogs) == "2 h 10 min"
    assert format_wait(1, "ru", catalogs) == "1 мин"
    zones = iana_zones()
    assert zones[0] == "UTC" and {"Asia/Seoul", "Asia/Ulaanbaatar", "Europe/Moscow"} <= set(zones)
    assert not any(z.startswith(("Etc/", "US/")) for z in zones)
    html = opening_notice(catalogs, "mn", WHEN.timestamp(), WHEN.timestamp() - 7800)
    assert 'datetime="2026-12-02T08:37:00Z"' in html and "2 цаг 10 мин" in html
    assert "нээгдэнэ" in html and "(UTC)" in html
