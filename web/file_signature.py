"""Signed, expiring links to a recording's files (issue 15 §5): ``?exp=&sig=``.

A ``<video src>`` cannot send an ``Authorization`` header, so whoever may watch a recording
gets links that carry their own proof: an HMAC-SHA256 under the node secret (shared by every
node, like access tokens) over the recording id, the file name and the expiry. Any node checks
it without a lookup; a forged or altered link, or one past ``exp``, is refused. Pure functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

FILE_URL_TTL_S = 6 * 3600  # long enough to watch a long replay without the link lapsing
SIGNATURE_CHARS = 43  # base64url of the 32-byte digest, unpadded


def file_path(rec_id: str, name: str) -> str:
    return f"/recordings/{quote(rec_id)}/files/{quote(name)}"


def signature(secret: str, rec_id: str, name: str, exp: int) -> str:
    message = f"recording-file\n{rec_id}\n{name}\n{exp}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def signed_url(secret: str, rec_id: str, name: str, *, now: float,
               ttl_s: int = FILE_URL_TTL_S) -> str:
    exp = int(now) + ttl_s
    return f"{file_path(rec_id, name)}?exp={exp}&sig={signature(secret, rec_id, name, exp)}"


def check(secret: str, rec_id: str, name: str, exp: str, sig: str, *, now: float) -> str | None:
    """``None`` if the link is good, else why not: ``bad_signature`` or ``link_expired``."""
    if not exp.isdigit() or len(exp) > 12 or len(sig) != SIGNATURE_CHARS:
        return "bad_signature"
    if not hmac.compare_digest(sig, signature(secret, rec_id, name, int(exp))):
        return "bad_signature"
    if int(exp) < now:
        return "link_expired"
    return None
