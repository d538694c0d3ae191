"""The words the room pages' JavaScript shows, and a sentence for every error code it can meet.

Client code must not hard-code English (issue 6): each page renders :func:`client_strings` for
its language into ``<script type="application/json" id="i18n">`` and the modules in
``web/static/`` read it. Keys are stable identifiers; values are English message ids marked with
:func:`N_` so Babel's extraction (tests/foundation/test_catalogs.py) finds them and every
catalog must translate them. Error codes map many-to-one onto sentences a person can act on; a
code not listed falls back to :data:`FALLBACK_ERROR`, so a raw code is never shown. Every code
docs/protocol.md documents and every code rooms/, signaling/ and web/ refuse with must be here:
tests/pages/test_page_api.py reads both and fails on a code without a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

from config import Language
from web.catalog import Catalogs
from web.hls_strings import ERRORS as HLS_ERRORS
from web.hls_strings import WORDS as HLS_WORDS
from web.interpret_strings import LANGUAGE_NAMES
from web.interpret_strings import WORDS as INTERPRET_WORDS
from web.interpretation_strings import ERRORS as INTERPRETATION_ERRORS
from web.meetings_strings import ERRORS as MEETING_ERRORS
from web.recording_strings import ERRORS as RECORDING_ERRORS
from web.recording_strings import WORDS as RECORDING_WORDS
from web.viewer_strings import WORDS as PLAYER_WORDS


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


FALLBACK_ERROR = N_("Something went wrong. Please try again.")

_TOKEN_INVALID = N_("This access link is not valid.")
_NO_GRANT = N_("Your access link does not allow this.")
_NOT_ALLOWED = N_("You are not allowed to do that.")
_TOO_FAST = N_("You are sending too fast. Please wait a moment.")
_UNAVAILABLE = N_("The service is temporarily unavailable.")
_TOO_LONG = N_("The message is too long.")
_WRITE_FIRST = N_("Write something first.")
# Pure protocol misuse (a page or client bug, never the person's doing) shares one sentence.
_PROTOCOL = N_("The page sent a request the server cannot handle. Please reload the page.")
_RELOAD = N_("Please reload the page and try again.")
_MEDIA_SETUP = N_("Your browser's video connection could not be set up. Please reload the page.")
_CONTROL_CHARS = N_("The text contains characters that are not allowed. Please remove them.")
_TEXT_TOO_LONG = N_("The text is too long. Please shorten it.")
_CHECK_INPUT = N_("Some details are not valid. Please check them and try again.")
_BAD_TIME = N_("Enter a valid date and time.")
_BAD_LANGUAGE = N_("Choose one of the supported languages.")

_ROOM_ERRORS: Mapping[str, str] = {
    "token_missing": N_("This page needs an access link. Ask the organiser for one."),
    "token_invalid": _TOKEN_INVALID,
    "not_open_yet": N_("This meeting has not opened yet."),
    "bad_signature": _TOKEN_INVALID,
    "bad_algorithm": _TOKEN_INVALID,
    "token_expired": N_("Your access link has expired. Ask the organiser for a new one."),
    "wrong_room": N_("This access link is for another room."),
    "missing_grant": _NO_GRANT,
    "no_join_grant": _NO_GRANT,
    "no_chat_grant": _NO_GRANT,
    "no_publish_grant": _NO_GRANT,
    "no_subscribe_grant": _NO_GRANT,
    "not_allowed": _NOT_ALLOWED,
    # issue 15: record.consent with nothing asked (a stale dialog); finalise (admin API only)
    "no_consent_asked": N_("This room is not being recorded."),
    "not_interrupted": _NOT_ALLOWED,
    "not_moderator": _NOT_ALLOWED,
    "not_host": _NOT_ALLOWED,
    "not_organiser": _NOT_ALLOWED,
    "unauthorized": _NOT_ALLOWED,
    "admin_disabled": _NOT_ALLOWED,
    "not_your_exhibitor": _NOT_ALLOWED,
    "not_this_exhibitor": _NOT_ALLOWED,
    "room_full": N_("This room is full."),
    "waiting_room_full": N_("The waiting room is full. Please try again later."),
    "stage_full": N_("The stage is full."),
    "pins_full": N_("Unpin a product before pinning another."),
    "questions_full": N_("Too many questions are waiting for an answer. Please try again later."),
    "no_quotes": N_("This product does not take quote requests."),
    "no_such_room": N_("This room does not exist."),
    "room_exists": N_("A room with this id already exists."),
    "room_ended": N_("This room has ended."),
    "not_started": N_("This room has not started yet."),
    "room_locked": N_("The room is locked by the moderator."),
    "not_invited": N_("This meeting is by invitation only."),
    "banned": N_("You were removed from this room."),
    "muted": N_("A moderator has muted you."),
    "not_on_stage": N_("Only people on stage can use the camera."),
    "already_on_stage": N_("You are already on stage."),
    "not_promotable": N_("This person cannot be invited to the stage."),
    "no_invitation": N_("There is no invitation to the stage to answer."),
    "invitation_expired": N_("The invitation to the stage has expired."),
    "no_hands": N_("Raising a hand is possible only in forums."),
    "not_in_meeting": N_("Meetings have no stage."),
    "no_questions": N_("Questions are not open in this room."),
    "not_a_broadcast": N_("Only broadcasts show product cards."),
    "not_a_meeting": N_("This is possible only in a meeting."),
    "not_waiting": N_("This person is no longer waiting."),
    "in_waiting_room": N_("Please wait: the host will let you in."),
    "no_such_participant": N_("This person is no longer in the room."),
    "no_such_message": N_("This message no longer exists."),
    "no_such_product": N_("This product is no longer available."),
    "no_such_question": N_("This question no longer exists."),
    "no_such_track": N_("Nothing is being broadcast yet."),
    "rate_limited": _TOO_FAST,
    "event_rate_limited": _TOO_FAST,
    "mailbox_full": _TOO_FAST,
    "too_many_rooms": N_("You are in too many rooms at once. Close another room first."),
    "too_many_peers": N_("You have too many video connections open. Close another tab or window "
                         "first."),
    "too_many_negotiations": _UNAVAILABLE,
    "no_such_session": _RELOAD,
    "not_yours": _NOT_ALLOWED,
    "message_too_long": _TOO_LONG,
    "question_too_long": _TOO_LONG,
    "payload_too_large": _TOO_LONG,
    "body_too_large": _TOO_LONG,
    "message_empty": _WRITE_FIRST,
    "question_empty": _WRITE_FIRST,
    "note_empty": _WRITE_FIRST,
    "name_empty": N_("Enter a name."),
    "name_too_long": N_("The name is too long."),
    "note_too_long": _TEXT_TOO_LONG,
    "reason_too_long": _TEXT_TOO_LONG,
    "title_too_long": _TEXT_TOO_LONG,
    "product_too_long": _TEXT_TOO_LONG,
    "product_name_too_long": _TEXT_TOO_LONG,
    "description_too_long": _TEXT_TOO_LONG,
    "message_control_chars": _CONTROL_CHARS,
    "question_control_chars": _CONTROL_CHARS,
    "name_control_chars": _CONTROL_CHARS,
    "note_control_chars": _CONTROL_CHARS,
    "reason_control_chars": _CONTROL_CHARS,
    "title_control_chars": _CONTROL_CHARS,
    "product_control_chars": _CONTROL_CHARS,
    "product_name_control_chars": _CONTROL_CHARS,
    "camera_denied": N_("Camera or microphone access was denied."),
    "camera_missing": N_("No camera or microphone was found."),
    "screen_denied": N_("Screen sharing was cancelled or is not allowed."),
    "media_full": N_("The video server is busy. Please try again later."),
    "media_unavailable": _UNAVAILABLE,
    "store_unavailable": _UNAVAILABLE,
    "chat_journal_full": N_("Chat is paused: the server is keeping too many messages until its "
                            "connection comes back. Please try again shortly."),
    "wrong_node": _UNAVAILABLE,
    "no_such_node": _UNAVAILABLE,  # the admin API's (a node that stopped): never on a page
    "no_such_dead_letter": _RELOAD,  # the admin API's webhooks (issue 18 §1): never on a page
    "not_connected": _RELOAD,  # the organiser console's socket (issue 18 §2)
    "too_many_consoles": _UNAVAILABLE,  # the node's cap on open consoles
    "webhook_queue_full": _UNAVAILABLE,  # logged by the node, never sent to a client
    "network_error": N_("The connection was lost. Reconnecting…"),
    "bad_offer": _MEDIA_SETUP,
    "sdp_too_large": _MEDIA_SETUP,
    "sdp_too_many_lines": _MEDIA_SETUP,
    "too_many_candidates": _MEDIA_SETUP,
    "no_such_peer": _RELOAD,
    "not_joined": _RELOAD,
    "not_in_room": _RELOAD,
    "session_closed": _RELOAD,
    "unknown_event": _PROTOCOL,
    "bad_payload": _PROTOCOL,
    "bad_json": _PROTOCOL,
    "bad_field": _CHECK_INPUT,
    "missing_field": N_("Some required details are missing."),
    "bad_message_id": _PROTOCOL,
    "bad_room_id": _PROTOCOL,
    "bad_topic": _PROTOCOL,
    "bad_reaction": _PROTOCOL,
    "bad_price": N_("Enter a valid price."),
    "bad_currency": N_("Enter a three-letter currency code, like CNY."),
    "bad_product_id": N_("Enter a product name."),
    "product_name": N_("Enter a product name."),
    "bad_url": N_("Enter a web address starting with http:// or https://."),
    "bad_language": _BAD_LANGUAGE,
    "bad_languages": _BAD_LANGUAGE,
    "bad_datetime": _BAD_TIME,
    "naive_datetime": _BAD_TIME,
    "nonexistent_local_time": N_("That time does not exist in this time zone. Pick another."),
    "bad_schedule": N_("The end must be after the start."),
    "bad_length": N_("A meeting slot lasts 15, 30, 45 or 60 minutes."),
    "bad_rating": N_("Choose a rating from 1 to 5."),
    "too_many_products": N_("There are too many products. Remove some first."),
    "team_too_large": N_("The team has too many members."),
    "slot_started": N_("This slot has already started."),
    "own_slot": N_("You cannot request your own slot."),
    "same_slot": N_("Choose a different slot."),
    "not_your_slot": N_("You can only propose your own slots."),
    "no_such_slot": N_("This slot is no longer available."),
    "no_such_request": N_("This request no longer exists."),
    "no_such_exhibitor": N_("This exhibitor does not exist."),
    "meeting_over": N_("The meeting is already over."),
    "meeting_not_over": N_("The meeting has not ended yet."),
    "meeting_not_started": N_("You can rate the meeting once it has taken place."),
    "not_expired": N_("This request has not expired yet."),
    "bad_email": N_("Enter a valid e-mail address."),
    "bad_phone": N_("Enter a valid phone number."),
    "contact_missing": N_("Give an e-mail address or a phone number so the exhibitor can reach "
                          "you."),
    "company_too_long": _TEXT_TOO_LONG,
    "company_control_chars": _CONTROL_CHARS,
    "replies_full": N_("This request has too many replies."),
    "bad_picture": N_("Choose a PNG, JPEG or WebP picture."),
    "picture_empty": N_("Choose a PNG, JPEG or WebP picture."),
    "picture_too_large": N_("The picture is too large: at most 2 MB."),
    "picture_too_big": N_("The picture is too big: at most 4096 × 4096 pixels."),
    "pictures_full": N_("This room has too many pictures. Delete a product with a picture "
                        "first."),
    "no_such_picture": N_("This picture no longer exists."),
    "description_control_chars": _CONTROL_CHARS,
    "event_timeout": FALLBACK_ERROR,
    "internal_error": FALLBACK_ERROR,
    **{code: _CHECK_INPUT for code in (
        "bad_capacity", "bad_limit", "bad_text", "bad_message", "bad_note", "bad_reason",
        "bad_request_id", "bad_slot", "bad_slot_id", "bad_slots", "bad_host", "bad_identity",
        "bad_buyer", "bad_exhibitor", "bad_team_member", "bad_grants", "bad_ttl",
        "bad_pavilion", "bad_state", "bad_offset")},
}

# Every code a person can meet, from any page: the trade-meeting API's own sentences (in
# meetings.po) first, then recordings' (issue 15), then the room pages' (a code in two reads as
# the room pages say it).
ERRORS: Mapping[str, str] = {**MEETING_ERRORS, **RECORDING_ERRORS, **HLS_ERRORS,
                              **INTERPRETATION_ERRORS, **_ROOM_ERRORS}

# Words and sentences the scripts put on screen (buttons they relabel, statuses, notices).
WAIT_HOURS_MINUTES = N_("%(hours)s h %(minutes)s min")
WAIT_MINUTES = N_("%(minutes)s min")

WORDS: Mapping[str, str] = {
    "wait_hours_minutes": WAIT_HOURS_MINUTES,
    "wait_minutes": WAIT_MINUTES,
    "connecting": N_("Connecting…"),
    "reconnecting": N_("The connection was lost. Reconnecting…"),
    "reconnected": N_("Connected again."),
    "mic_only": N_("No camera found: you are on stage with your microphone only."),
    "moving_to_media": N_("This room's video is served by another server. Moving you there…"),
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
    "price_on_request": N_("Price on request"),
    "sound_on": N_("Turn sound on"),
    "sound_off": N_("Turn sound off"),
    "on_air": N_("On air"),
    "off_air": N_("Off air"),
    "waiting_stream": N_("Waiting for the exhibitor to go live."),
    # issue 14 §3: a viewer whose link cannot carry even the lowest video layer (adaptive.po)
    "weak_audio_only": N_("Weak connection: audio only"),
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
    # issue 12: names, the stage invitation, a speaker's own controls
    "name_saved": N_("Your name is now %(name)s."),
    "invited_to_stage": N_("You are invited to the stage."),
    "invitation_sent": N_("Invitation to the stage sent to %(name)s."),
    "invitation_declined": N_("%(name)s declined the invitation to the stage."),
    "invitation_lapsed": N_("The invitation to the stage has expired."),
    "invitation_lapsed_for": N_("The invitation to the stage for %(name)s has expired."),
    # default names: language-neutral markers the pages show in each reader's language
    # (web/static/rooms/names.js; translations of "Buyer" and the lapse notice in gaps.po)
    "visitor_default": N_("Visitor %(num)s"),
    "buyer_default": N_("Buyer %(num)s"),
    "invited": N_("Invited"),
    "mic_is_off": N_("Microphone off"),
    "camera_is_off": N_("Camera off"),
    # issue 12: quote requests and the exhibitor's inbox (translations in inbox.po)
    "quote_for": N_("Ask for a quote: %(product)s"),
    "withdraw": N_("Withdraw"),
    "withdrawn": N_("Your request was withdrawn."),
    "reply_from": N_("Reply from %(name)s"),
    "no_reply_yet": N_("No reply yet."),
    "new_reply": N_("The exhibitor replied to your request."),
    "unread": N_("%(num)s unread"),
    "reply": N_("Reply"),
    "reply_sent": N_("Reply sent."),
    "request_withdrawn_by": N_("%(name)s withdrew a request."),
    "new_request": N_("New quote request from %(name)s"),
    "meeting_request_from": N_("%(name)s asks to meet on %(when)s"),
    "question_from": N_("Question from %(name)s"),
    "propose_meeting": N_("Propose a meeting"),
    "meeting_proposed": N_("The exhibitor proposes a meeting: pick a time"),
    "meeting_proposal_sent": N_("Meeting proposed"),
    "edit": N_("Edit"),
    "save": N_("Save"),
    "picture": N_("Picture"),
    "product_deleted": N_("Product deleted."),
    "confirm_delete": N_("Delete this product?"),
}


def client_strings(catalogs: Catalogs, lang: Language) -> dict[str, dict[str, str]]:
    """``{"words": {key: text}, "errors": {code: text}, "fallback": text}`` in ``lang``."""
    return {
        "words": {key: catalogs.gettext(lang, text)
                  for key, text in {**WORDS, **PLAYER_WORDS, **RECORDING_WORDS, **INTERPRET_WORDS,
                                    **HLS_WORDS}.items()},
        "errors": {code: catalogs.gettext(lang, text) for code, text in ERRORS.items()},
        "fallback": {"error": catalogs.gettext(lang, FALLBACK_ERROR)},
        # issue 17: each language as its speakers write it (the interpretation pickers)
        "languages": dict(LANGUAGE_NAMES),
    }
