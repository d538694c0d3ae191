"""Every word the meeting pages' script shows, and a sentence for each error code of the API.

Rendered into each page as JSON (``<script type="application/json" id="meetings-i18n">``) in the
page's language, so ``web/static/meetings.js`` never shows English or a raw code to a reader of
another language. Values are English message ids marked with :func:`N_` (Babel extraction finds
them; tests/foundation/test_catalogs.py requires all six translations, in ``meetings.po``).
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from config import Language
from web.catalog import Catalogs
from web.language import NATIVE_NAMES


def N_(message: str) -> str:
    """Marks a message for extraction; translated when a page is rendered."""
    return message


WORDS: dict[str, str] = {
    "interpreter_asked": N_("Interpreter asked for: %(language)s"),  # issue 17 §6
    "free_slots": N_("Free meeting slots"),
    "no_slots": N_("No free slots at the moment."),
    "request": N_("Request this slot"),
    "message": N_("Message to the exhibitor"),
    "requested": N_("Request sent. The slot is held until the exhibitor answers."),
    "accept": N_("Accept this time"),
    "decline": N_("Decline this time"),
    "decline_reason": N_("Reason for declining"),
    "propose": N_("Propose another slot"),
    "withdraw": N_("Withdraw my request"),
    "cancel": N_("Cancel meeting"),
    "join": N_("Join the meeting"),
    "calendar": N_("Add to calendar (.ics)"),
    "rate": N_("Rate this meeting"),
    "note": N_("Private follow-up note"),
    "save": N_("Save my feedback"),
    "saved": N_("Your changes are saved."),
    "publish": N_("Publish slots"),
    "remove": N_("Remove slot"),
    "held": N_("Held by a request"),
    "languages": N_("Languages spoken"),
    "minutes": N_("%(num)s-minute slot"),
    "sign_in": N_("Open this page with your personal link to see your meetings."),
    "state_pending": N_("Waiting for the exhibitor"),
    "state_proposed": N_("Another time was proposed"),
    "state_accepted": N_("Meeting booked"),
    "state_declined": N_("Request declined"),
    "state_withdrawn": N_("Request withdrawn"),
    "state_cancelled": N_("Meeting cancelled"),
    "state_expired": N_("Expired without an answer"),
    "state_completed": N_("Meeting held"),
    "no_show_rate": N_("No-show rate"),
    "average_rating": N_("Average rating"),
    "nothing": N_("Nothing here yet."),
    "attendance_both_joined": N_("Both sides joined"),
    "attendance_buyer_no_show": N_("The buyer did not come"),
    "attendance_exhibitor_no_show": N_("The exhibitor did not come"),
    "attendance_both_no_show": N_("Nobody came"),
    "notice_request_created": N_("New meeting request"),
    "notice_request_accepted": N_("Your meeting request was accepted"),
    "notice_request_declined": N_("A meeting request was declined"),
    "notice_request_proposed": N_("The exhibitor proposed another time"),
    "notice_request_withdrawn": N_("A meeting request was withdrawn"),
    "notice_request_cancelled": N_("A meeting was cancelled"),
    "notice_request_expired": N_("A meeting request expired without an answer"),
    "notice_meeting_reminder": N_("Your meeting starts in 5 minutes."),
    "notice_meeting_ending": N_("The meeting room closes in one minute."),
    "notice_meeting_ended": N_("The meeting has ended. Please rate it."),
    # issue 17 §6: an interpreter assigned to a meeting (their notice links their console)
    "notice_meeting_interpreter": N_("An interpreter joins your meeting"),
    "open_console": N_("Open the interpreter console"),
    # issue 12: the exhibitor's profile page
    "create_profile": N_("Create your profile"),
    "edit_profile": N_("Edit your profile"),
    "no_profile": N_("You have no exhibitor profile yet: buyers find you by it. Create it "
                     "first, then publish your free slots."),
    "profile_saved": N_("Your profile is saved."),
    "open_dashboard": N_("Open your meeting dashboard"),
    "pick_language": N_("Please pick at least one language."),
}
ERRORS: dict[str, str] = {
    "slot_taken": N_("Someone else has just requested this slot. Please pick another."),
    "slot_overlap": N_("This slot overlaps one you already published."),
    "overlapping_slots": N_("Two of these slots overlap."),
    "slot_in_past": N_("A slot must start in the future."),
    "slot_held": N_("This slot has a request; it cannot be removed."),
    "buyer_busy": N_("You already have a meeting at that time."),
    "quota_reached": N_("You have too many open requests. Wait for answers or withdraw one."),
    "request_changed": N_("This request changed meanwhile. Reload the page."),
    "bad_time_zone": N_("Unknown time zone."),
    "reason_empty": N_("Please give a reason."),
    "no_free_slot": N_("This exhibitor has no free slot at the moment."),
    "token_missing": N_("Open this page with your personal link to see your meetings."),
    "token_expired": N_("Your link has expired. Ask the organiser for a new one."),
    "not_your_request": N_("This request is not yours."),
    "bad_transition": N_("That is no longer possible for this request."),
    "not_exhibitor": N_("Only an exhibitor's personal link can do this. Ask the organiser for "
                        "one."),
    "not_your_exhibitor": N_("This belongs to another exhibitor."),
    "not_delegate": N_("Booking a meeting needs your personal delegate link. Ask the organiser "
                       "for one."),
    "exhibitor_quota_reached": N_("You have too many open requests to this exhibitor. Wait for an "
                                  "answer or withdraw one."),
    "rate_limited": N_("Too many meeting requests from your network. Please try again later."),
    # issue 12: no code the pages can meet shows "Something went wrong"
    "no_such_exhibitor": N_("This exhibitor has no profile yet."),
    "name_empty": N_("Please give the name in English."),
    "name_too_long": N_("The name is too long (at most 200 characters)."),
    "description_too_long": N_("The description is too long (at most 1,000 characters)."),
    "description_control_chars": N_("The text contains characters that are not allowed. Please "
                                    "remove them."),
    "missing_field": N_("Some fields are missing or not valid. Please check the form."),
    "bad_field": N_("Some fields are missing or not valid. Please check the form."),
    "bad_languages": N_("Please pick at least one language."),
    "no_such_slot": N_("This slot no longer exists. Reload the page."),
    "no_such_request": N_("This request no longer exists. Reload the page."),
    "meeting_over": N_("This meeting is over."),
    "token_invalid": N_("This access link is not valid."),
    "bad_signature": N_("This access link is not valid."),
    "store_unavailable": N_("The service is temporarily unavailable."),
}
FALLBACK = N_("Something went wrong. Please try again.")


def client_strings(catalogs: Catalogs, lang: Language) -> dict[str, Any]:
    """The words and error sentences in ``lang``: ``{words: {...}, errors: {...}, fallback}``."""
    def tr(message: str) -> str:
        return catalogs.gettext(lang, message)

    return {"words": {k: tr(v) for k, v in WORDS.items()},
            "errors": {k: tr(v) for k, v in ERRORS.items()}, "fallback": tr(FALLBACK),
            # issue 17 §6: each language as its speakers write it (the interpreter asked for)
            "languages": {str(code): name for code, name in NATIVE_NAMES.items()}}


def script_json(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` can end it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
