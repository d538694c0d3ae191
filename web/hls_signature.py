"""Signed, expiring links to a private room's live HLS (issue 16 §3): ``?exp=&sig=``.

A player fetches dozens of names per minute (playlists, parts, segments) and cannot send an
``Authorization`` header from ``<video>`` or hls.js's default loader, so a page that the gate
let in gets one query that opens every name of its room: an HMAC-SHA256 under the node secret
(shared by every node, like access tokens) over the room and the expiry, not the name. The
door hands the query to :meth:`streaming.hls.feed.HlsFeed.playlist`, which appends it to every
URI it lists, so the player's requests stay signed without knowing it.

The expiry is rounded up to :data:`EXPIRY_STEP_S`: every viewer of a room who asks within the
same step gets the same URL, which a CDN then caches once instead of once per viewer.
Pure functions (table-tested in tests/hls/test_signature.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math

EXPIRY_STEP_S = 600
SIGNATURE_CHARS = 43  # base64url of the 32-byte digest, unpadded


def signature(secret: str, room: str, exp: int) -> str:
    message = f"hls-live\n{room}\n{exp}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def signed_query(secret: str, room: str, *, now: float, ttl_s: int) -> str:
    """``exp=..&sig=..`` (no ``?``) valid for at least ``ttl_s`` from ``now``."""
    exp = math.ceil((now + ttl_s) / EXPIRY_STEP_S) * EXPIRY_STEP_S
    return f"exp={exp}&sig={signature(secret, room, exp)}"


def check(secret: str, room: str, exp: str, sig: str, *, now: float) -> str | None:
    """``None`` if the link is good, else why not: ``bad_signature`` or ``link_expired``."""
    if not (exp.isascii() and exp.isdigit()) or len(exp) > 12 or len(sig) != SIGNATURE_CHARS:
        return "bad_signature"
    if not hmac.compare_digest(sig, signature(secret, room, int(exp))):
        return "bad_signature"
    if int(exp) < now:
        return "link_expired"
    return None
