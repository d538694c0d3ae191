"""The words of recordings and replays on the pages (issue 15 §5, §6): the recording indicator,
the Record/Stop button, the meeting's consent dialog, the studio's "Recordings" panel and the
replay page's scripts, and a sentence for every refusal a recording can meet.

Merged into :func:`web.page_strings.client_strings` (words) and :data:`web.page_strings.ERRORS`
(codes); the translations live in ``web/locale/<lang>/LC_MESSAGES/recordings_pages.po``. Message
ids the other catalogs already hold ("Delete", "Decline", "Save") are reused, never redefined
(web/catalog.py refuses an id defined twice).
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


WORDS: Mapping[str, str] = {
    # the indicator every participant sees (docs/recordings.md §3: `room.recording`, join ack)
    "rec_on": N_("Recording"),
    "rec_started": N_("This room is now being recorded."),
    "rec_stopped": N_("The recording has stopped."),
    "rec_failed": N_("The recording stopped because of a problem on the server. The room goes on."),
    # the Record/Stop button of whoever may record
    "rec_start": N_("Record"),
    "rec_stop": N_("Stop recording"),
    # a meeting's consent (issue 15 §5): every participant present agrees before it starts
    "rec_consent_asked": N_("%(name)s wants to record this meeting. Do you agree?"),
    "rec_consent_joined": N_("This meeting is being recorded once everyone agrees. Do you agree?"),
    "rec_consent_sent": N_("Everyone in the meeting is asked to agree before recording starts."),
    "rec_agree": N_("Agree"),
    "rec_decline": N_("Decline"),
    "rec_agreed_by": N_("Agreed: %(names)s"),
    "rec_waiting_for": N_("Waiting for: %(names)s"),
    "rec_declined": N_("Someone declined: this meeting is not recorded."),
    # the studio's "Recordings" panel
    "rec_published": N_("Published"),
    "rec_unpublished": N_("Not published"),
    "rec_publish": N_("Publish"),
    "rec_unpublish": N_("Unpublish"),
    "rec_rename": N_("Rename"),
    "rec_download": N_("Download"),
    "rec_watch": N_("Watch the replay"),
    "rec_title_prompt": N_("New title for this recording:"),
    "rec_confirm_delete": N_("Delete this recording for good?"),
    "rec_deleted": N_("Recording deleted."),
    "rec_saved": N_("Recording saved."),
    "rec_state_recording": N_("Recording now"),
    "rec_state_failed": N_("Stopped by a server problem"),
    "rec_state_interrupted": N_("Interrupted"),
    # the replay page
    "rec_program": N_("Program: the speaker on screen"),
    "rec_file_of": N_("Camera of %(name)s"),
    "rec_no_file": N_("This recording has no video to play yet."),
}

_NO_RECORDING = N_("This recording does not exist or is not available to you.")

ERRORS: Mapping[str, str] = {
    # the page API and the file route (rooms/replay_desk.py, web/recording_files.py)
    "no_such_recording": _NO_RECORDING,
    "no_such_file": _NO_RECORDING,
    "file_gone": _NO_RECORDING,
    "link_expired": N_("This link to the recording has expired. Open the replay page again."),
    "recording_unavailable": N_("The server that holds this recording cannot be reached. "
                                "Please try again later."),
    "recording_running": N_("This recording is still being written. Stop it first."),
    "not_recorder": N_("You are not allowed to do that."),
    "other_room": N_("This access link is for another room."),
    # record.start / record.stop / record.consent (docs/recordings.md §4)
    "already_recording": N_("This room is already being recorded."),
    "not_recording": N_("This room is not being recorded."),
    "consent_declined": N_("Someone declined: this meeting is not recorded."),
    "consent_pending": N_("Not everyone has agreed to the recording yet."),
    "recordings_full": N_("This server records too many rooms at once. Please try again later."),
}
