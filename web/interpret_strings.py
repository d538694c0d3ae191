"""The words of interpretation channels (issue 17) for the room pages' scripts: the forum's
language picker and the interpreter console. Merged into :func:`web.page_strings.client_strings`;
the translations live in ``web/locale/<lang>/LC_MESSAGES/interpret.po``.
"""

from __future__ import annotations

from collections.abc import Mapping

from web.language import NATIVE_NAMES


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


# A language by its code: as its own speakers write it (the site's language switcher does the
# same), which is what a delegate looks for in a picker; not translated.
LANGUAGE_NAMES: Mapping[str, str] = {str(code): name for code, name in NATIVE_NAMES.items()}

WORDS: Mapping[str, str] = {
    "interp_original": N_("Original (no interpretation)"),
    "interp_listening": N_("You hear the %(language)s interpretation over the original."),
    "interp_silent": N_("The interpreter is silent: the original is back up."),
    "interp_not_live": N_("Nobody interprets into %(language)s right now: you hear the "
                          "original."),
    "interp_floor_level": N_("Original sound at %(num)s of 100"),
    "interp_floor": N_("The floor (original)"),
    "interp_relay": N_("You hear the %(language)s channel instead of the floor (relay)."),
    "interp_hearing_floor": N_("You hear the floor."),
    "interp_nobody": N_("Nobody"),
    "air_on_air": N_("ON AIR"),
    "air_muted": N_("ON AIR, muted"),
    "air_standby": N_("Standby"),
    "air_off": N_("Off air"),
    "unmute": N_("Unmute"),
    "air_elsewhere": N_("On air in %(language)s"),
    "handover_offered": N_("Your partner offers you the %(language)s channel: take it when "
                           "ready."),
}
