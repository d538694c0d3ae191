"""The ``Pavilion-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>``.

Made afresh at each attempt (a fresh ``t``), so a receiver can refuse anything older than its
replay window (docs/webhooks.md: 5 minutes) without refusing a retry. Pure functions.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Pavilion-Signature"
ID_HEADER = "Pavilion-Webhook-Id"
EVENT_HEADER = "Pavilion-Event"
REPLAY_WINDOW_S = 300


def sign(secret: str, body: bytes, *, now: int) -> str:
    """The header value for ``body`` at ``now`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={now},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: int,
           window_s: int = REPLAY_WINDOW_S) -> bool:
    """What a receiver checks: a ``v1`` that matches and a ``t`` within the window."""
    fields = dict(part.partition("=")[::2] for part in header.split(","))
    stamp = fields.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > window_s:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))
