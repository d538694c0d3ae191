"""The words of the organiser's console (issue 18 §2) for its script; the translations live in
``web/locale/<lang>/LC_MESSAGES/console.po`` (the template's own words are there too)."""

from __future__ import annotations

from collections.abc import Mapping

from config import Language
from web.catalog import Catalogs


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when the page is rendered."""
    return message


WORDS: Mapping[str, str] = {
    "no_rooms": N_("No room is live right now."),
    "no_alerts": N_("No alerts."),
    "publisher_quiet": N_("The publisher has sent nothing for %(value)s s."),
    "loss_high": N_("The publisher's stream loses %(value)s %% of its packets."),
    "node_full": N_("Node %(node)s is near capacity (load %(value)s)."),
    "on": N_("on"),
    "off": N_("off"),
    "none": N_("none"),
    "details": N_("Details"),
    "kick": N_("Remove"),
    "mute": N_("Mute"),
    "unmute": N_("Unmute"),
    "close": N_("Close the room"),
    "publish": N_("sends"),
    "view": N_("watches"),
    "absent": N_("not in the room (WHEP or an edge)"),
    "weak": N_("weak link"),
    "rtt": N_("round trip %(value)s ms"),
    "done": N_("Done."),
    "page": N_("Rooms %(from)s–%(to)s of %(total)s"),
    "unavailable": N_("The room store is unavailable; the figures will return with it."),
    "refused": N_("The console refused this key or link."),
    "expired": N_("Your organiser link has expired: open the console with a new one."),
    # a participant's role (rooms.participant.Role), by its code
    "role_host": N_("Host"),
    "role_cohost": N_("Co-host"),
    "role_moderator": N_("Moderator"),
    "role_speaker": N_("Speaker"),
    "role_viewer": N_("Viewer"),
    "role_guest": N_("Guest"),
    "role_interpreter": N_("Interpreter"),
}
ERRORS: Mapping[str, str] = {
    "not_organiser": N_("The console is for the organiser: use an organiser link or the "
                        "admin API key."),
}


def console_strings(catalogs: Catalogs, lang: Language) -> dict[str, str]:
    return {key: catalogs.gettext(lang, text) for key, text in WORDS.items()}
