"""JSON shapes of the trade-meeting API's answers: values out, times in the viewer's zone
(bodies in are :mod:`web.bodies`; replies and errors are :mod:`web.http_api`'s).

Instants are stored and sent in UTC (``2026-09-02T01:00:00Z``); a ``tz`` adds the same instants
as local ISO times with their offset (``starts_local: 2026-09-02T10:00:00+09:00``), so a page or
a script shows them in the viewer's zone without a time-zone library of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rooms.trade.availability import Slot, zone
from rooms.trade.request import MeetingRequest

if TYPE_CHECKING:
    from rooms.trade.service import MeetingView


def local_iso(when: datetime | float, tz: str) -> str:
    instant = when if isinstance(when, datetime) else datetime.fromtimestamp(when, tz=UTC)
    return instant.astimezone(zone(tz)).isoformat(timespec="seconds")


def localized(instants: Mapping[str, datetime | float], tz: str) -> dict[str, Any]:
    """``{name: UTC text, name_local: local text}`` for each instant."""
    out: dict[str, Any] = {}
    for name, when in instants.items():
        instant = when if isinstance(when, datetime) else datetime.fromtimestamp(when, tz=UTC)
        out[name] = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out[name + "_local"] = local_iso(instant, tz)
    return out


def slot_json(slot: Slot, held_by: str | None, tz: str) -> dict[str, Any]:
    data = {**slot.to_dict(), "starts_local": local_iso(slot.starts_at, tz),
            "ends_local": local_iso(slot.ends_at, tz), "viewer_time_zone": tz}
    if held_by is not None:
        data["held_by"] = held_by
    return data


def request_json(request: MeetingRequest, *, tz: str,
                 view: MeetingView | None = None) -> dict[str, Any]:
    data = {**request.to_dict(), "starts_local": local_iso(request.starts_at, tz),
            "ends_local": local_iso(request.ends_at, tz), "viewer_time_zone": tz}
    if view is not None:
        data.update(side=view.side.value, mine=view.mine.to_dict(), attendance=view.attendance)
    return data
