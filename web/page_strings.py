"""The words the room pages' JavaScript shows, and a sentence for every error code it can meet.

Client code must not hard-code English (issue 6): each page renders :func:`client_strings` for
its language into ``<script type="application/json" id="i18n">`` and the modules in
``web/static/`` read it. Keys are stable identifiers; values are English message ids marked with
:func:`N_` so Babel's extraction (tests/foundation/test_catalogs.py) finds them and every
catalog must translate them. Error codes map many-to-one onto sentences a person can act on; a
code not listed falls back to :data:`FALLBACK_ERROR`, so a raw code is never shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from config import Language
from web.catalog import Catalogs


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


FALLBACK_ERROR = N_("Something went wrong. Please try again.")

_TOKEN_INVALID = N_("This access link is not valid.")
_NOT_ALLOWED = N_("You are not allowed to do that.")
_TOO_FAST = N_("You are sending too fast. Please wait a moment.")
_UNAVAILABLE = N_("The service is temporarily unavailable.")

ERRORS: Mapping[str, str] = {
    "token_missing": N_("This page needs an access link. Ask the organiser for one."),
    "token_invalid": _TOKEN_INVALID,
    "bad_signature": _TOKEN_INVALID,
    "bad_algorithm": _TOKEN_INVALID,
    "token_expired": N_("Your access link has expired. Ask the organiser for a new one."),
    "wrong_room": N_("This access link is for another room."),
    "missing_grant": N_("Your access link does not allow this."),
    "no_join_grant": N_("Your access link does not allow this."),
    "no_chat_grant": N_("Your access link does not allow this."),
    "not_allowed": _NOT_ALLOWED,
    "not_moderator": _NOT_ALLOWED,
    "not_host": _NOT_ALLOWED,
    "room_full": N_("This room is full."),
    "waiting_room_full": N_("The waiting room is full. Please try again later."),
    "stage_full": N_("The stage is full."),
    "pins_full": N_("Unpin a product before pinning another."),
    "no_such_room": N_("This room does not exist."),
    "room_ended": N_("This room has ended."),
    "not_started": N_("This room has not started yet."),
    "room_locked": N_("The room is locked by the moderator."),
    "not_invited": N_("This meeting is by invitation only."),
    "banned": N_("You were removed from this room."),
    "muted": N_("A moderator has muted you."),
    "not_on_stage": N_("Only people on stage can use the camera."),
    "in_waiting_room": N_("Please wait: the host will let you in."),
    "rate_limited": _TOO_FAST,
    "event_rate_limited": _TOO_FAST,
    "message_too_long": N_("The message is too long."),
    "question_too_long": N_("The message is too long."),
    "message_empty": N_("Write something first."),
    "question_empty": N_("Write something first."),
    "camera_denied": N_("Camera or microphone access was denied."),
    "camera_missing": N_("No camera or microphone was found."),
    "screen_denied": N_("Screen sharing was cancelled or is not allowed."),
    "media_full": N_("The video server is busy. Please try again later."),
    "media_unavailable": _UNAVAILABLE,
    "store_unavailable": _UNAVAILABLE,
    "wrong_node": _UNAVAILABLE,
    "network_error": N_("The connection was lost. Reconnecting…"),
    "no_such_track": N_("Nothing is being broadcast yet."),
    "bad_price": N_("Enter a valid price."),
    "bad_currency": N_("Enter a three-letter currency code, like CNY."),
    "bad_product_id": N_("Enter a product name."),
    "product_name": N_("Enter a product name."),
    "internal_error": FALLBACK_ERROR,
}

# Words and sentences the scripts put on screen (buttons they relabel, statuses, notices).
WORDS: Mapping[str, str] = {
    "connecting": N_("Connecting…"),
    "reconnecting": N_("The connection was lost. Reconnecting…"),
    "reconnected": N_("Connected again."),
    "viewers": N_("Viewers: %(num)s"),
    "audience": N_("Audience: %(num)s"),
    "votes": N_("Votes: %(num)s"),
    "vote": N_("Vote"),
    "delete": N_("Delete"),
    "remove": N_("Remove"),
    "pin": N_("Pin"),
    "unpin": N_("Unpin"),
    "pinned": N_("Pinned"),
    "request_quote": N_("Request a quote"),
    "quote_sent": N_("Your request was sent to the exhibitor."),
    "quote_from": N_("%(name)s asks for a quote: %(product)s"),
    "quote_message": N_("Request for a quote: %(product)s"),
    "meeting_requested": N_("A meeting with the exhibitor was requested for %(when)s."),
    "price_on_request": N_("Price on request"),
    "sound_on": N_("Turn sound on"),
    "sound_off": N_("Turn sound off"),
    "on_air": N_("On air"),
    "off_air": N_("Off air"),
    "waiting_stream": N_("Waiting for the exhibitor to go live."),
    "room_closed": N_("This room has ended."),
    "removed": N_("You were removed from this room."),
    "muted_by_moderator": N_("A moderator has muted you."),
    "raise_hand": N_("Raise hand"),
    "lower_hand": N_("Lower hand"),
    "hand_raised": N_("Hand raised"),
    "promote": N_("Invite to stage"),
    "demote": N_("Back to audience"),
    "mute": N_("Mute"),
    "answered": N_("Mark answered"),
    "on_stage_now": N_("You are on stage: your camera is live."),
    "off_stage_now": N_("You are back in the audience."),
    "speaking": N_("Speaking"),
    "lock": N_("Lock room"),
    "unlock": N_("Unlock room"),
    "waiting_host": N_("Please wait: the host will let you in."),
    "knocking": N_("%(name)s is waiting to join"),
    "admit": N_("Admit"),
    "deny": N_("Turn away"),
    "admitted": N_("You are in the meeting."),
    "denied": N_("The host did not let you in."),
    "camera_on": N_("Turn camera on"),
    "camera_off": N_("Turn camera off"),
    "mic_on": N_("Unmute microphone"),
    "mic_off": N_("Mute microphone"),
    "share_screen": N_("Share screen"),
    "stop_share": N_("Stop sharing"),
    "you": N_("%(name)s (you)"),
    "copied": N_("Copied"),
    "left": N_("You left the meeting."),
    "product_saved": N_("Product saved."),
}


def client_strings(catalogs: Catalogs, lang: Language) -> dict[str, dict[str, str]]:
    """``{"words": {key: text}, "errors": {code: text}, "fallback": text}`` in ``lang``."""
    return {
        "words": {key: catalogs.gettext(lang, text) for key, text in WORDS.items()},
        "errors": {code: catalogs.gettext(lang, text) for code, text in ERRORS.items()},
        "fallback": {"error": catalogs.gettext(lang, FALLBACK_ERROR)},
    }
