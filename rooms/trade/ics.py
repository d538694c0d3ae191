"""An iCalendar (RFC 5545) writer for meeting invitations: one VEVENT with its VTIMEZONE.

Times are written as local times of the reader's zone (``DTSTART;TZID=Asia/Tokyo:...``, §3.3.5
form 3) so a calendar shows the zone the person booked in, and the zone is defined in the same
object (§3.6.5: a TZID parameter must name a VTIMEZONE of the object). The VTIMEZONE holds the
observance in force at the meeting (found from the zone's offsets, zoneinfo exposes no transition
table). Text values are escaped (§3.3.11) and lines folded at 75 octets without splitting a
UTF-8 character (§3.1); lines end in CRLF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PRODID = "-//Pavilion//China-Northeast Asia Expo trade meetings//EN"
_LOOKBACK_DAYS = 400


@dataclass(frozen=True, slots=True)
class Invitation:
    uid: str
    summary: str
    description: str
    url: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    time_zone: str  # IANA
    stamp: datetime  # aware: when this version was written (DTSTAMP)
    sequence: int = 0  # bumped with every change (§3.8.7.4)
    cancelled: bool = False
    alarm_min: int = 5


def escape(text: str) -> str:
    """TEXT value escaping, §3.3.11."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str, limit: int = 75) -> str:
    """Split a content line into 75-octet pieces joined by CRLF + space, on character bounds."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        budget = limit if not out else limit - 1  # continuation lines start with a space
        if size + width > budget:
            out.append(current)
            current, size = "", 0
        current += ch
        size += width
    out.append(current)
    return "\r\n ".join(out)


def render(invitation: Invitation) -> str:
    """The whole VCALENDAR as text (UTF-8, CRLF)."""
    tz = ZoneInfo(invitation.time_zone)
    lines = ["BEGIN:VCALENDAR", f"PRODID:{PRODID}", "VERSION:2.0", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", *vtimezone(tz, invitation.time_zone, invitation.starts_at),
             *_event(invitation), "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def _event(inv: Invitation) -> list[str]:
    tzid = inv.time_zone
    lines = ["BEGIN:VEVENT", f"UID:{inv.uid}", f"DTSTAMP:{_utc(inv.stamp)}",
             f"DTSTART;TZID={tzid}:{_local(inv.starts_at, tzid)}",
             f"DTEND;TZID={tzid}:{_local(inv.ends_at, tzid)}",
             f"SUMMARY:{escape(inv.summary)}", f"DESCRIPTION:{escape(inv.description)}",
             f"LOCATION:{escape(inv.url)}", f"URL:{inv.url}", f"SEQUENCE:{inv.sequence}",
             f"STATUS:{'CANCELLED' if inv.cancelled else 'CONFIRMED'}", "TRANSP:OPAQUE"]
    if not inv.cancelled:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{escape(inv.summary)}",
                  f"TRIGGER:-PT{inv.alarm_min}M", "END:VALARM"]
    return [*lines, "END:VEVENT"]


def vtimezone(tz: ZoneInfo, tzid: str, around: datetime) -> list[str]:
    """A VTIMEZONE with the observance (STANDARD or DAYLIGHT) in force at ``around``."""
    local = around.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    change = last_transition(tz, around)
    if change is None:
        since, before = datetime(1970, 1, 1), offset
    else:
        since = change.astimezone(tz).replace(tzinfo=None)
        before = (change - timedelta(seconds=1)).astimezone(tz).utcoffset() or timedelta(0)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    return ["BEGIN:VTIMEZONE", f"TZID:{tzid}", f"BEGIN:{kind}",
            f"DTSTART:{since.strftime('%Y%m%dT%H%M%S')}", f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(offset)}", f"TZNAME:{local.tzname() or tzid}",
            f"END:{kind}", "END:VTIMEZONE"]


def last_transition(tz: ZoneInfo, around: datetime) -> datetime | None:
    """The last UTC instant before ``around`` where the zone's offset changed (within ~a year),
    found by stepping back a day at a time, then bisecting to the second."""
    target = around.astimezone(UTC)
    offset = target.astimezone(tz).utcoffset()
    later = target
    for _ in range(_LOOKBACK_DAYS):
        earlier = later - timedelta(days=1)
        if earlier.astimezone(tz).utcoffset() != offset:
            return _bisect(tz, earlier, later, offset)
        later = earlier
    return None


def _bisect(tz: ZoneInfo, low: datetime, high: datetime, offset: timedelta | None) -> datetime:
    """``low`` has another offset, ``high`` has ``offset``: the first second with ``offset``."""
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _offset(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours:02d}{rest // 60:02d}"


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(when: datetime, tzid: str) -> str:
    return when.astimezone(ZoneInfo(tzid)).strftime("%Y%m%dT%H%M%S")
