"""Typed errors of the rooms domain, each saying who is at fault and carrying a stable ``code``.

The signalling layer turns them into ``{ok: false, error: {code, message}}`` acknowledgements and
the admin API into JSON error bodies; pages translate the ``code`` (never the message, which is
English and meant for logs). ``fault`` tells a client whether retrying can help:
``client`` (fix the request), ``policy`` (the room's rules forbid it), ``server`` (try later).
"""

from __future__ import annotations

from typing import Literal

Fault = Literal["client", "policy", "server"]


class RoomsError(Exception):
    """Base of every refusal the domain makes; ``code`` is machine-readable and stable."""

    fault: Fault = "client"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidInput(RoomsError):
    """The request itself is malformed: too long, control characters, unknown value."""

    fault: Fault = "client"


class NotAllowed(RoomsError):
    """The caller's token or role does not permit this, or the room's state forbids it."""

    fault: Fault = "policy"


class RoomFull(RoomsError):
    """The room (or its stage, or its pinned products) is at its limit."""

    fault: Fault = "policy"

    def __init__(self, message: str, *, limit: int, code: str = "room_full") -> None:
        super().__init__(code, message)
        self.limit = limit


class NoSuchRoom(RoomsError):
    """No room (or participant, message, product, question) with that id."""

    fault: Fault = "client"

    def __init__(self, what_id: str, *, code: str = "no_such_room", what: str = "room") -> None:
        super().__init__(code, f"no {what} {what_id!r}")
        self.what_id = what_id


class WrongNode(RoomsError):
    """The room's media lives on another node; the client should go to ``node_url``."""

    fault: Fault = "policy"

    def __init__(self, node_url: str, *, node_id: str = "") -> None:
        super().__init__("wrong_node", f"room is served by {node_url}")
        self.node_url = node_url
        self.node_id = node_id


class RateLimited(RoomsError):
    """Too many requests of one kind; ``retry_after_s`` says when one more will be accepted."""

    fault: Fault = "client"

    def __init__(self, what: str, retry_after_s: float) -> None:
        super().__init__("rate_limited", f"too many {what}; retry in {retry_after_s:.2f} s")
        self.retry_after_s = retry_after_s


class StoreUnavailable(RoomsError):
    """Shared state cannot be reached (Redis down); nothing was written. Retry later."""

    fault: Fault = "server"

    def __init__(self, reason: str) -> None:
        super().__init__("store_unavailable", f"state store unavailable: {reason}")
        self.reason = reason


class JournalFull(RoomsError):
    """Redis is unreachable and this node's chat journal (rooms/chat_journal.py) is full: the
    message is refused, never dropped after acceptance. Retry once Redis is back."""

    fault: Fault = "server"

    def __init__(self, limit: int) -> None:
        super().__init__("chat_journal_full",
                         f"chat cannot be kept: {limit} messages already wait for the state store")
        self.limit = limit


class NoNodeAvailable(RoomsError):
    """No node can take a new room now (this one is draining and no other is alive)."""

    fault: Fault = "server"

    def __init__(self, message: str = "no node can take a new room now; try again soon", *,
                 code: str = "media_unavailable") -> None:
        super().__init__(code, message)


class NodeIdTaken(Exception):
    """Another live node holds this node's id: two nodes with one id would each drop the
    other's bus messages as their own echo, so the second one must not start (exit 2)."""

    def __init__(self, node_id: str, url: str) -> None:
        super().__init__(
            f"node id {node_id!r} is held by another live node ({url}); give each node its own "
            "node_id (PAVILION_NODE_ID), or leave it unset for <host name>-<port>")
        self.node_id = node_id
        self.url = url
