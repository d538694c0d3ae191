"""WHIP (RFC 9725) and WHEP protocol logic, without HTTP machinery: pure and table-tested.

The aiohttp routes (web/media.py) read a request into plain values, call these functions, and
turn a :class:`WhipError` into a response with its status and a short plain-text reason. What a
client did wrong maps to the status RFC 9725 names: 400 malformed offer, 401 missing or bad
token, 403 token lacks the grant, 404 unknown room or resource, 406 no codec both ends can use,
412 ``If-Match`` on a stale ETag, 413 oversized SDP, 415 wrong media type or a content coding
other than identity, 422 an ICE restart (not supported), 429 too many negotiations or peers at
once, 503 the plane is shutting down or the state store is down. A refusal of the room's rules
(the one gate) is 403.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from config import IceServer, MediaLimits
from streaming.errors import (
    BadOffer,
    Capacity,
    CodecMismatch,
    MediaError,
    NegotiationError,
    NothingPublished,
    NoUsableCodec,
    PlaneClosed,
    UnknownPeer,
)

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"  # RFC 8840


@dataclass(frozen=True)
class WhipError(Exception):
    """A refusal: HTTP ``status``, a one-line ``reason``, and any headers the RFC asks for."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_encoding(content_encoding: str | None) -> None:
    """Only the identity coding is taken (RFC 9110 §8.4): anything else is 415 with
    ``Accept-Encoding: identity`` (RFC 9110 §15.5.16), decided before the body is read, so no
    decompressor ever runs on an SDP body."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if any(coding != "identity" for coding in codings):
        raise WhipError(415, "the body must not be content-encoded (only identity is accepted)",
                        (("Accept-Encoding", "identity"),))


def check_offer(content_type: str | None, body: bytes, limits: MediaLimits) -> str:
    """Validate a POSTed offer against RFC 9725 §4.2 and the node's limits; return the text."""
    if media_type(content_type) != SDP:
        raise WhipError(415, f"the offer must be sent as {SDP}", (("Accept-Post", SDP),))
    if len(body) > limits.max_sdp_bytes:
        raise WhipError(413, f"the SDP offer is larger than {limits.max_sdp_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WhipError(400, "the SDP offer is not UTF-8 text") from None
    if text.count("\n") + 1 > limits.max_sdp_lines:
        raise WhipError(413, f"the SDP offer has more than {limits.max_sdp_lines} lines")
    if not text.lstrip().startswith("v=0"):
        raise WhipError(400, "the body is not an SDP offer (it must start with v=0)")
    if "\nm=" not in text.replace("\r\n", "\n"):
        raise WhipError(400, "the SDP offer has no media section")
    return text


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1)."""
    if not authorization:
        raise WhipError(401, "an Authorization: Bearer token is required", _challenge())
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WhipError(401, "the Authorization header must be 'Bearer <token>'", _challenge())
    return token.strip()


def _challenge() -> tuple[tuple[str, str], ...]:
    return (("WWW-Authenticate", 'Bearer realm="pavilion"'),)


def token_refusal(code: str, message: str) -> WhipError:
    """A token refusal (``rooms.token.TokenError`` code) as 401 or 403."""
    if code in ("missing_grant", "wrong_room"):
        return WhipError(403, f"the token does not allow this: {message}")
    return WhipError(401, f"the token was refused: {message}", _challenge())


# The gate's and the door's refusal codes whose status is not the default 403 (the room's rules).
_DOOR_STATUS = {
    "no_such_room": 404, "no_such_track": 404, "no_such_session": 404,
    "no_such_participant": 404, "bad_room_id": 404, "rate_limited": 429,
    "too_many_negotiations": 429, "too_many_peers": 429, "store_unavailable": 503,
    "media_unavailable": 503, "origin_refused": 502,  # an edge's origin (web/cascade.py)
    "bad_language": 400, "bad_name": 400,
    "video_not_allowed": 400,  # issue 17: a video m-line offered into a channel
}


def door_refusal(code: str, message: str, retry_after_s: float | None = None) -> WhipError:
    """A refusal of the one gate (rooms.gate) or of the media door as an HTTP status: the
    room's rules are 403, unknown things 404, too much at once 429, the store down 503."""
    status = _DOOR_STATUS.get(code, 403)
    headers: tuple[tuple[str, str], ...] = ()
    if retry_after_s is not None and status in (429, 503):
        headers = (("Retry-After", str(max(1, math.ceil(retry_after_s)))),)
    return WhipError(status, f"{message} ({code})", headers)


def media_refusal(exc: MediaError | NegotiationError) -> WhipError:
    """The plane's refusal as the RFC's status code."""
    if isinstance(exc, NoUsableCodec | CodecMismatch):
        return WhipError(406, str(exc))
    if isinstance(exc, NegotiationError | BadOffer):
        return WhipError(400, str(exc))
    if isinstance(exc, NothingPublished | UnknownPeer):
        return WhipError(404, str(exc))
    if isinstance(exc, Capacity):
        return WhipError(429 if "candidate" in str(exc) else 503, str(exc))
    if isinstance(exc, PlaneClosed):
        return WhipError(503, str(exc), (("Retry-After", "5"),))
    return WhipError(500, "the media plane failed")


def ice_server_links(servers: Sequence[IceServer]) -> list[str]:
    """``Link`` header values for the ICE servers (RFC 9725 §4.6, RFC 8288)."""
    links = []
    for server in servers:
        for url in server.urls:
            value = f'<{url}>; rel="ice-server"'
            if server.username is not None and server.credential is not None:
                value += (
                    f'; username="{_quoted(server.username)}"'
                    f'; credential="{_quoted(server.credential)}"; credential-type="password"'
                )
            links.append(value)
    return links


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def ice_ufrag(sdp: str) -> str:
    """The first ``a=ice-ufrag`` of an SDP (session or media level)."""
    for line in sdp.splitlines():
        if line.startswith("a=ice-ufrag:"):
            return line[len("a=ice-ufrag:") :].strip()
    raise ValueError("the SDP has no ice-ufrag")


def etag(ufrag: str) -> str:
    """The resource's entity tag: it names the ICE session (RFC 9725 §4.3.1)."""
    return f'"{ufrag}"'


def check_if_match(if_match: str | None, current: str) -> None:
    """412 when the client's ``If-Match`` names another ICE session (RFC 9110 §13.1.1)."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" not in tags and current not in tags:
        raise WhipError(412, "the ETag does not match this ICE session")


@dataclass(frozen=True)
class SdpFragment:
    """A trickle-ice-sdpfrag body (RFC 8840 §9): ICE credentials and candidates per mid."""

    ufrag: str | None
    pwd: str | None
    candidates: tuple[tuple[str | None, str], ...] = field(default_factory=tuple)
    end_of_candidates: bool = False


def parse_sdpfrag(body: bytes, limits: MediaLimits) -> SdpFragment:
    """Parse a PATCH body; malformed is 400, oversized 413 (limits as for offers)."""
    if len(body) > limits.max_sdp_bytes:
        raise WhipError(413, f"the SDP fragment is larger than {limits.max_sdp_bytes} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WhipError(400, "the SDP fragment is not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > limits.max_sdp_lines:
        raise WhipError(413, f"the SDP fragment has more than {limits.max_sdp_lines} lines")
    ufrag = pwd = None
    mid: str | None = None
    candidates: list[tuple[str | None, str]] = []
    end = False
    for line in lines:
        if len(line) < 2 or line[1] != "=":
            raise WhipError(400, f"malformed line in the SDP fragment: {line[:60]!r}")
        if line.startswith("a=ice-ufrag:"):
            ufrag = line[12:]
        elif line.startswith("a=ice-pwd:"):
            pwd = line[10:]
        elif line.startswith("m="):
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith("a=candidate:"):
            if len(line[12:].split()) < 8:
                raise WhipError(400, f"malformed ICE candidate: {line[:60]!r}")
            candidates.append((mid, line[2:]))
        elif line == "a=end-of-candidates":
            end = True
    return SdpFragment(ufrag, pwd, tuple(candidates), end)


def check_restart(fragment: SdpFragment, remote_ufrag: str | None) -> None:
    """An ICE restart (new credentials, RFC 8840 §4.4) is not supported: 422 (RFC 9725 §4.3.2)."""
    if fragment.ufrag is not None and remote_ufrag is not None and fragment.ufrag != remote_ufrag:
        raise WhipError(422, "ICE restarts are not supported; start a new session")
