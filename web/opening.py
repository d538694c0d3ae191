"""The sentence a meeting link opened too early shows: when the room opens, and how long to wait.

``opening_notice`` renders "This meeting opens at <time>, in <wait>." for a visitor whose link
is sound but not valid yet (:func:`rooms.token.opens_at`). The server cannot know the visitor's
time zone, so it writes the instant in UTC with the language's own date rules (Babel) inside a
``<time id="opens-at" datetime="...">``; the page's script (``web/static/rooms/opening.js``)
rewrites it in the visitor's zone with the zone's label, counts down, and reloads the page by
itself when the link starts to work.
"""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

from config import Language
from web.catalog import Catalogs
from web.page_strings import N_
from web.zones import format_instant, format_wait

OPENS_AT = N_("This meeting opens at %(time)s, in %(wait)s.")


def opening_notice(catalogs: Catalogs, lang: Language, opens_at: float, now: float) -> Markup:
    """The sentence, escaped, with the time and the wait as elements the script updates."""
    when = datetime.fromtimestamp(opens_at, tz=UTC)
    time_el = Markup('<time id="opens-at" datetime="{}">{}</time>').format(
        when.isoformat().replace("+00:00", "Z"), format_instant(when, lang, "UTC"))
    wait_el = Markup('<span id="opens-in">{}</span>').format(
        format_wait(max(0.0, opens_at - now), lang, catalogs))
    return Markup(escape(catalogs.gettext(lang, OPENS_AT))) % {"time": time_el, "wait": wait_el}
