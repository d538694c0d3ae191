"""A viewer's request for a quote on a broadcast's product card ("request a quote").

A request is a message with the buyer's contact details (name, company, e-mail and/or phone,
message) and the exhibitor's replies. Kept in the Store per room, capped (oldest dropped first),
so the exhibitor's staff see every request whichever node took it: a record for their attention,
not a ledger (the trade-meeting booking flow, :mod:`rooms.trade`, is where a request becomes a
meeting, and only if the buyer asks for one). The buyer lists and withdraws their own requests.

Everything a client sends here is bounded: :class:`Contact` checks each field's length, one line,
no control characters; a message is at most :data:`MESSAGE_MAX` characters; a request keeps at
most :data:`REPLIES_PER_QUOTE` replies (``replies_full`` past it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from rooms.errors import InvalidInput, RoomFull
from rooms.text import display_name, has_control_chars, short_text, user_text

QUOTES_PER_ROOM = 200
REPLIES_PER_QUOTE = 20
MESSAGE_MAX = 2_000
COMPANY_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 32
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()./-]{5,32}")


@dataclass(frozen=True, slots=True)
class Contact:
    """How the exhibitor reaches the buyer: a name, an optional company, and an e-mail address
    or a phone number (at least one)."""

    name: str
    company: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def checked(cls, name: str, company: str = "", email: str = "", phone: str = "") -> Contact:
        """Validated and trimmed; codes ``name_*``, ``company_*``, ``bad_email``, ``bad_phone``,
        ``contact_missing`` (neither e-mail nor phone)."""
        email, phone = email.strip(), phone.strip()
        if email and (len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email)):
            raise InvalidInput("bad_email", "email: not an e-mail address")
        if phone and (len(phone) > PHONE_MAX or not _PHONE.fullmatch(phone)):
            raise InvalidInput("bad_phone", "phone: not a phone number")
        if not email and not phone:
            raise InvalidInput("contact_missing", "give an e-mail address or a phone number")
        company = short_text(company.strip(), max_chars=COMPANY_MAX, what="company")
        return cls(display_name(name), company, email, phone)


@dataclass(frozen=True, slots=True)
class Reply:
    """The exhibitor's answer to a request, kept with it and sent live to the buyer."""

    author: str  # display name of the staff member
    text: str
    at: float
    meeting: bool = False  # "propose a meeting": the buyer's page offers the exhibitor's slots

    @classmethod
    def checked(cls, author: str, text: str, at: float, *, meeting: bool = False) -> Reply:
        """A reply's text is required unless it proposes a meeting (then it may be empty)."""
        if meeting and not text.strip():
            return cls(author, check_message(text), at, meeting=True)
        return cls(author, user_text(text, max_chars=MESSAGE_MAX, what="message"), at, meeting)


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    room_id: str
    product_id: str
    product_name: str  # in the requester's language, as the card showed it
    requester: str  # identity
    name: str  # display name, or the contact name the buyer gave
    language: str
    requested_at: float
    id: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    message: str = ""
    replies: tuple[Reply, ...] = ()

    def with_reply(self, reply: Reply, *, cap: int = REPLIES_PER_QUOTE) -> QuoteRequest:
        """This request with ``reply`` added; ``replies_full`` (RoomFull) once it holds ``cap``."""
        if len(self.replies) >= cap:
            raise RoomFull(f"a request keeps at most {cap} replies", limit=cap,
                           code="replies_full")
        return replace(self, replies=(*self.replies, reply))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_hook(self) -> dict[str, Any]:
        """The ``quote`` of a ``quote_requested`` webhook (docs/webhooks.md): the request as
        stored, plus ``identity`` and ``at``, the names the webhook contract gives the
        requester and the time."""
        return {**asdict(self), "identity": self.requester, "at": self.requested_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuoteRequest:
        replies = tuple(Reply(str(r["author"]), str(r["text"]), float(r["at"]),
                              bool(r.get("meeting")))
                        for r in data.get("replies") or ())
        return cls(room_id=str(data["room_id"]), product_id=str(data["product_id"]),
                   product_name=str(data["product_name"]), requester=str(data["requester"]),
                   name=str(data["name"]), language=str(data["language"]),
                   requested_at=float(data["requested_at"]), id=str(data.get("id", "")),
                   company=str(data.get("company", "")), email=str(data.get("email", "")),
                   phone=str(data.get("phone", "")), message=str(data.get("message", "")),
                   replies=replies)


def check_message(text: str) -> str:
    """A request's optional message: at most :data:`MESSAGE_MAX`, newlines allowed."""
    if has_control_chars(text, allow_newlines=True):
        raise InvalidInput("message_control_chars", "message contains control characters")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput("message_too_long", f"message is longer than {MESSAGE_MAX} characters")
    return text.strip()
