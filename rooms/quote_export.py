"""The exhibitor's quote requests as CSV (the studio inbox's "Export CSV").

Every cell is quoted and defused as :func:`rooms.trade.report.defuse` does for meeting reports, so a
buyer who types ``=HYPERLINK(...)`` as their company cannot make a spreadsheet run it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

from rooms.quote import QuoteRequest
from rooms.trade.report import defuse

CSV_COLUMNS = ("request_id", "requested_at_utc", "product", "name", "company", "email", "phone",
               "language", "message", "replies")


def quotes_csv(quotes: Sequence[QuoteRequest]) -> str:
    """One row per request, oldest first; replies joined by blank lines (``author: text``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for q in quotes:
        when = datetime.fromtimestamp(q.requested_at, UTC).isoformat(timespec="seconds")
        replies = "\n\n".join(f"{r.author}: {r.text}" for r in q.replies)
        row = [q.id, when, q.product_name, q.name, q.company, q.email, q.phone, q.language,
               q.message, replies]
        writer.writerow([defuse(cell) for cell in row])
    return out.getvalue()
