"""What a log line is about: node, room, session, identity, request and peer, in contextvars.

Every package may import this module (it is in ``config/``). Whoever starts handling something
binds what it knows -- the HTTP middleware the request id, a Socket.IO session's mailbox the
session, identity and room, the media plane the peer -- and every log line written inside,
including in tasks created there (asyncio copies the context into a new task), carries it:
:mod:`config.logs` formats it as JSON fields or ``key=value`` suffixes.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

FIELDS = ("node", "room", "session", "identity", "request_id", "peer", "track")
MAX_VALUE = 128  # a value longer than this is cut (a log line stays a line)
_VARS: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"pavilion_log_{name}", default=None) for name in FIELDS
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

Tokens = list[tuple[ContextVar[str | None], Token[str | None]]]


def current() -> dict[str, str]:
    """The fields bound here, without those that are unset."""
    found = {name: var.get() for name, var in _VARS.items()}
    return {name: value for name, value in found.items() if value}


def set_fields(**values: object) -> Tokens:
    """Bind fields until :func:`reset` (for code that cannot use ``with bind(...)``).

    ``None`` leaves a field as it is; an unknown field name is a programming error."""
    tokens: Tokens = []
    for name, value in values.items():
        if value is None:
            continue
        var = _VARS[name]
        tokens.append((var, var.set(str(value)[:MAX_VALUE])))
    return tokens


def reset(tokens: Tokens) -> None:
    """Undo :func:`set_fields`, newest first."""
    for var, token in reversed(tokens):
        var.reset(token)


@contextmanager
def bind(**values: object) -> Iterator[None]:
    """``with bind(room="r1", session=sid): ...``: lines logged inside carry these fields."""
    tokens = set_fields(**values)
    try:
        yield
    finally:
        reset(tokens)


def request_id(offered: str | None) -> str:
    """An incoming ``X-Request-Id`` when it is sane (1-128 of ``A-Za-z0-9._:-``), else a new
    random one (a proxy's id ties its access log to ours; a hostile one cannot forge lines)."""
    if offered and _REQUEST_ID.match(offered):
        return offered
    return secrets.token_hex(8)
