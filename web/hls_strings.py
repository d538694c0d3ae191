"""The words of the viewer page's delivery choice (issue 16 §4, docs/hls.md §5): which mode it
plays in, the delay, why it moved to HLS, the data-saver switch. Merged into
:func:`web.page_strings.client_strings`; translations in ``web/locale/<lang>/LC_MESSAGES/hls.po``.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated when a page is rendered."""
    return message


DATA_SAVER = N_("Data saver")

WORDS: Mapping[str, str] = {
    "mode_webrtc": N_("Real-time (WebRTC)"),
    "mode_hls": N_("HTTP stream (HLS)"),
    "delay_live": N_("Delay: live"),
    "delay_seconds": N_("Delay: %(seconds)s s"),
    "data_saver": DATA_SAVER,
    "hls_seats": N_("All real-time seats are taken, so you are watching the HTTP stream. "
                    "You move back when a seat frees up."),
    "hls_network": N_("Your network does not let real-time video through, so you are "
                      "watching the HTTP stream."),
    "hls_saver": N_("Data saver is on: you are watching the HTTP stream at a lower quality."),
    "hls_retry": N_("The HTTP stream could not be played. Trying again…"),
}

ERRORS: Mapping[str, str] = {
    "link_required": N_("This room's stream needs a link from its page. Please reload the page."),
}
