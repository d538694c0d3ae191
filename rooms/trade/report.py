"""The exhibitor's dashboard figures and CSV export of its meetings (pure functions).

No-show rate: of the exhibitor's completed meetings, the share where the buyer never joined.
Ratings: the buyers' ratings of the exhibitor's meetings (the exhibitor's own ratings of buyers
are its private judgement and are not averaged here). The CSV is for spreadsheets: times in UTC
and in the requested zone, every cell quoted, and anything a spreadsheet could run as a formula
defused with an apostrophe (OWASP "CSV injection"): at the start of a cell and right after a
``,``, ``;`` or tab inside it, since Excel in a locale whose list separator is ``;`` (Russian,
German) splits ``ok;=cmd|' /C calc'!A0`` there and runs the second half.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rooms.trade.availability import iso
from rooms.trade.record import Attendance, MeetingRecord
from rooms.trade.request import AWAITING, MeetingRequest, RequestState

CSV_COLUMNS = ("request_id", "state", "starts_at_utc", "ends_at_utc", "starts_local",
               "time_zone", "host", "buyer", "buyer_name", "message", "attendance",
               "buyer_rating", "exhibitor_rating", "exhibitor_note", "reason")
# A formula trigger at the start of the cell or right after a separator Excel may split on.
_FORMULA = re.compile(r"(?<![^,;\t\r\n])(?=[=+\-@\t\r])")


@dataclass(frozen=True, slots=True)
class Dashboard:
    upcoming: list[MeetingRequest]  # accepted, not over yet
    awaiting: list[MeetingRequest]  # pending or proposed: need an answer
    past: list[MeetingRequest]  # completed
    attendance: dict[str, int]
    no_show_rate: float | None  # None before the first completed meeting
    rating_average: float | None
    ratings: int

    def summary(self) -> dict[str, Any]:
        return {"upcoming": len(self.upcoming), "awaiting": len(self.awaiting),
                "past": len(self.past), "attendance": self.attendance,
                "no_show_rate": self.no_show_rate, "rating_average": self.rating_average,
                "ratings": self.ratings}


def dashboard(requests: Sequence[MeetingRequest], records: Mapping[str, MeetingRecord],
              now: datetime) -> Dashboard:
    upcoming = [r for r in requests if r.state is RequestState.ACCEPTED and r.ends_at > now]
    awaiting = [r for r in requests if r.state in AWAITING]
    past = [r for r in requests if r.state is RequestState.COMPLETED]
    counts = Counter(_record(records, r).attendance().value for r in past)
    no_shows = counts[Attendance.BUYER_NO_SHOW.value] + counts[Attendance.BOTH_NO_SHOW.value]
    given = [rating for r in past
             if (rating := _record(records, r).buyer.rating) is not None]
    return Dashboard(
        upcoming=upcoming, awaiting=awaiting, past=sorted(past, key=lambda r: r.starts_at,
                                                          reverse=True),
        attendance={a.value: counts[a.value] for a in Attendance},
        no_show_rate=round(no_shows / len(past), 4) if past else None,
        rating_average=round(sum(given) / len(given), 2) if given else None,
        ratings=len(given))


def export_csv(requests: Sequence[MeetingRequest], records: Mapping[str, MeetingRecord],
               time_zone: str) -> str:
    """All of an exhibitor's requests and meetings, one row each, RFC 4180 (CRLF)."""
    tz = ZoneInfo(time_zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for r in requests:
        record = _record(records, r)
        attended = record.attendance().value if r.state is RequestState.COMPLETED else ""
        row = [r.id, r.state.value, iso(r.starts_at), iso(r.ends_at),
               r.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), time_zone, r.host,
               r.buyer, r.buyer_name, r.message, attended, _opt(record.buyer.rating),
               _opt(record.exhibitor.rating), record.exhibitor.note, r.reason]
        writer.writerow([defuse(str(cell)) for cell in row])
    return out.getvalue()


def defuse(cell: str) -> str:
    """A cell a spreadsheet would evaluate (``=HYPERLINK(...)``, ``a;=1+1``) becomes plain text:
    an apostrophe before each ``= + - @``, tab or CR that starts the cell or follows a separator."""
    return _FORMULA.sub("'", cell)


def _record(records: Mapping[str, MeetingRecord], request: MeetingRequest) -> MeetingRecord:
    return records.get(request.id) or MeetingRecord()


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)
