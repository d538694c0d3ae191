"""Time-limited TURN credentials, the TURN REST API scheme (draft-uberti-behave-turn-rest-00).

Pavilion and the TURN server share one secret and nothing else: no database of users, no call
between them. For each client Pavilion mints

- ``username = "<expiry unix time>:<identity>"`` and
- ``credential = base64(HMAC-SHA1(shared secret, username))``,

and the TURN server (coturn with ``use-auth-secret`` and ``static-auth-secret``) recomputes the
credential from the username it is sent and refuses one whose expiry has passed. A leaked
credential is good for one identity until its expiry, nothing more. Pure: no clock, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from config import IceServer, TurnSettings

# The TURN USERNAME attribute is at most 513 bytes (RFC 8489 §14.3); an identity is cut well
# below, and the separator the scheme uses is kept out of it so the expiry parses unambiguously.
IDENTITY_MAX_BYTES = 128


@dataclass(frozen=True, slots=True)
class TurnCredential:
    """One client's TURN username and password, valid until ``expires_at`` (unix time)."""

    username: str
    credential: str
    expires_at: int


def credential_for(secret: str, username: str) -> str:
    """``base64(HMAC-SHA1(secret, username))``: what coturn computes from the same two."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def username_for(identity: str, expires_at: int) -> str:
    """``<expiry>:<identity>``, the identity without ``:`` and cut to a bounded length."""
    safe = identity.replace(":", "_").encode()[:IDENTITY_MAX_BYTES].decode("utf-8", "ignore")
    return f"{expires_at}:{safe}" if safe else str(expires_at)


def mint(secret: str, identity: str, *, now: float, ttl_s: int) -> TurnCredential:
    """A credential for ``identity`` that the TURN server accepts until ``now + ttl_s``."""
    expires_at = int(now) + ttl_s
    username = username_for(identity, expires_at)
    return TurnCredential(username, credential_for(secret, username), expires_at)


def ice_servers(static: Sequence[IceServer], turn: TurnSettings | None, identity: str, *,
                now: float) -> list[IceServer]:
    """What one client is told to use: the configured servers, then the TURN server with a
    credential of its own (fresh each time it is asked)."""
    servers = list(static)
    if turn is not None:
        cred = mint(turn.shared_secret.get_secret_value(), identity, now=now, ttl_s=turn.ttl_s)
        servers.append(IceServer(urls=list(turn.urls), username=cred.username,
                                 credential=cred.credential))
    return servers
