"""JSON shapes of the trade-meeting API: bodies in, values out, times in the viewer's zone.

Instants are stored and sent in UTC (``2026-09-02T01:00:00Z``); a ``tz`` adds the same instants
as local ISO times with their offset (``starts_local: 2026-09-02T10:00:00+09:00``), so a page or
a script shows them in the viewer's zone without a time-zone library of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from rooms.trade.availability import Slot, zone
from rooms.trade.request import MeetingRequest
from web.json_body import json_object

if TYPE_CHECKING:
    from rooms.trade.service import MeetingView

MAX_BODY = 64 * 1024


def reply(data: Any, *, status: int = 200) -> web.Response:
    """JSON with text as text (``ensure_ascii=False``): six languages stay readable."""
    return web.json_response(data, status=status,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))


def error(status: int, code: str, message: str) -> web.Response:
    return reply({"error": {"code": code, "message": message}}, status=status)


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body (at most ``MAX_BODY`` bytes): see :mod:`web.json_body`."""
    return await json_object(request, MAX_BODY)


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
