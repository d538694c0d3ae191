"""A sentence for every refusal an interpretation channel can meet (issue 17), on any page.

Merged into :data:`web.page_strings.ERRORS`; the translations live in
``web/locale/<lang>/LC_MESSAGES/interpretation_errors.po``. The pages' own words (the listener's
picker, the interpreter console) are the pages' catalogs, not these.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


ERRORS: Mapping[str, str] = {
    "video_not_allowed": N_("An interpretation channel carries sound only: turn the camera off."),
    "wrong_language": N_("You do not interpret into this language."),
    "not_live": N_("Only the interpreter on air can do that."),
    "not_publishing": N_("Start your microphone in this channel before you take it over."),
    "no_such_channel": N_("Nobody interprets into this language right now."),
}
