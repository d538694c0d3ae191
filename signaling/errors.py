"""Error acknowledgements: every refusal a client reads is ``{ok: false, error: {code, message}}``.

``code`` is stable and machine-readable (pages translate it); ``message`` is one English sentence
for logs and developers. Refusals raised by the rooms domain (:class:`rooms.errors.RoomsError`),
by token checks (:class:`rooms.token.TokenError`) and by this package (:class:`SignalingError`)
all become the same shape through :func:`error_ack`; anything else is an ``internal_error`` whose
message says nothing about the server's insides (no traceback ever reaches a client).
"""

from __future__ import annotations

from typing import Any

from rooms.errors import RateLimited, RoomsError, WrongNode
from rooms.token import TokenError

Ack = dict[str, Any]

# Codes this package introduces (docs/protocol.md lists them with the domain's codes).
CODES: dict[str, str] = {
    "bad_payload": "the event's payload must be one JSON object",
    "bad_json": "the event's payload is not JSON or is nested too deeply",
    "payload_too_large": "the event's payload is larger than the limit",
    "unknown_event": "no such event",
    "missing_field": "a required field is missing",
    "bad_field": "a field has the wrong type or an out-of-range value",
    "mailbox_full": "too many events are waiting; slow down",
    "event_rate_limited": "too many events per second",
    "not_joined": "join the room first",
    "too_many_rooms": "this connection is in too many rooms",
    "sdp_too_large": "the SDP is larger than the limit",
    "sdp_too_many_lines": "the SDP has more lines than the limit",
    "too_many_candidates": "too many ICE candidates for this peer",
    "bad_offer": "the SDP offer cannot be used",
    "no_such_peer": "no such media peer",
    "no_such_track": "no such published track",
    "media_full": "the media plane is at a limit (viewers per track, candidates per peer)",
    "media_unavailable": "the media plane cannot take this now",
    "token_missing": "connect with an access token in the auth payload",
    "event_timeout": "the event took too long to handle",
    "session_closed": "the session has ended",
    "too_many_peers": "this connection or person holds too many media peers",
    "too_many_negotiations": "the node is negotiating too many sessions; retry shortly",
    "no_such_session": "no such WHIP or WHEP session",
    "not_yours": "this session belongs to someone else",
    "internal_error": "the server failed to handle this event",
}


class SignalingError(Exception):
    """A refusal made by the signalling layer itself; ``extra`` fields go into the ack."""

    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or CODES.get(code, code))
        self.code = code
        self.message = message or CODES.get(code, code)
        self.extra = extra


def ok(**fields: Any) -> Ack:
    """A successful acknowledgement carrying ``fields``."""
    return {"ok": True, **fields}


def failure(code: str, message: str, **extra: Any) -> Ack:
    return {"ok": False, "error": {"code": code, "message": message, **extra}}


def error_ack(exc: BaseException) -> Ack:
    """The acknowledgement for a refusal; unknown exceptions become ``internal_error``."""
    if isinstance(exc, SignalingError):
        return failure(exc.code, exc.message, **exc.extra)
    if isinstance(exc, WrongNode):
        return failure(exc.code, exc.message, node_url=exc.node_url, node_id=exc.node_id)
    if isinstance(exc, RateLimited):
        return failure(exc.code, exc.message, retry_after_s=round(exc.retry_after_s, 3))
    if isinstance(exc, RoomsError):
        return failure(exc.code, exc.message)
    if isinstance(exc, TokenError):
        return failure(exc.code, str(exc))
    return failure("internal_error", CODES["internal_error"])
