"""Signed, expiring links to a private room's live HLS (issue 16 §3): ``?exp=&u=&sig=``.

A player fetches dozens of names per minute (playlists, parts, segments) and cannot send an
``Authorization`` header from ``<video>`` or hls.js's default loader, so a page that the gate
let in gets one query that opens every name of its room: an HMAC-SHA256 under the node secret
(shared by every node, like access tokens) over the room, the expiry and the identity the
link was minted for (``u``), not the name. The door hands the query to
:meth:`streaming.hls.feed.HlsFeed.playlist`, which appends it to every URI it lists, so the
player's requests stay signed without knowing it.

The identity is signed so that the door can ask the gate, on every playlist request, whether
*that* identity has been removed from the room since (a ban: 403 at the player's next reload);
a link cannot be moved to another identity without breaking the signature. The identity goes
last in the signed message: the room (``ROOM_ID``) and the expiry (digits) hold no newline, so
the message stays unambiguous whatever the identity holds.

The expiry is rounded up to :data:`EXPIRY_STEP_S`: every page load of one viewer within the
same step gets the same URL, which a cache keeps once. (Public rooms' open URLs carry no
signature at all and are one URL for everyone.)
Pure functions (table-tested in tests/hls/test_gate.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from urllib.parse import quote

EXPIRY_STEP_S = 600
SIGNATURE_CHARS = 43  # base64url of the 32-byte digest, unpadded
MAX_IDENTITY_CHARS = 256


def signature(secret: str, room: str, exp: int, identity: str) -> str:
    message = f"hls-live\n{room}\n{exp}\n{identity}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def query(exp: str, identity: str, sig: str) -> str:
    """The link's query (no ``?``), the identity percent-encoded (RFC 3986 §2.1)."""
    return f"exp={exp}&u={quote(identity, safe='')}&sig={sig}"


def signed_query(secret: str, room: str, identity: str, *, now: float, ttl_s: int) -> str:
    """``exp=..&u=..&sig=..`` (no ``?``) for ``identity``, valid for at least ``ttl_s``."""
    exp = math.ceil((now + ttl_s) / EXPIRY_STEP_S) * EXPIRY_STEP_S
    return query(str(exp), identity, signature(secret, room, exp, identity))


def check(secret: str, room: str, identity: str, exp: str, sig: str, *,
          now: float) -> str | None:
    """``None`` if the link is good, else why not: ``bad_signature`` or ``link_expired``."""
    if not (exp.isascii() and exp.isdigit()) or len(exp) > 12 or len(sig) != SIGNATURE_CHARS:
        return "bad_signature"
    if not identity or len(identity) > MAX_IDENTITY_CHARS:
        return "bad_signature"
    if not hmac.compare_digest(sig, signature(secret, room, int(exp), identity)):
        return "bad_signature"
    if int(exp) < now:
        return "link_expired"
    return None
