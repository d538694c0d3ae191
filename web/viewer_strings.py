"""The words of the player controls and of an ended broadcast (issue 12), for the room pages'
scripts. Merged into :func:`web.page_strings.client_strings`; the translations live in
``web/locale/<lang>/LC_MESSAGES/viewer.po``.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


WORDS: Mapping[str, str] = {
    "stream_ended": N_("This broadcast has ended."),
    "fullscreen": N_("Full screen"),
    "exit_fullscreen": N_("Exit full screen"),
    "link_copied": N_("Link copied."),
    "copy_by_hand": N_("Copy this link: %(url)s"),
    "receiving": N_("%(width)s×%(height)s at %(kbps)s kbit/s"),
    "nothing_received": N_("No video received yet"),
}
