"""What people post in a room: chat messages, Q&A questions, and broadcasters' product cards.

Plain frozen values with one JSON shape each; the Store assigns ids. Chat ids are Redis stream
ids (``<ms>-<seq>``) on both backends, so they order the same way everywhere and a client can
resume after the last id it saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from rooms.errors import InvalidInput
from rooms.text import LocalizedText, has_control_chars, short_text

_CURRENCY = re.compile(r"[A-Z]{3}")  # ISO 4217
_PRODUCT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
URL_MAX = 2_000
PRODUCT_NAME_MAX = 120
PRODUCT_DESCRIPTION_MAX = 1_000
NO_TEXT = LocalizedText()


def check_description(text: str) -> str:
    """A card's description in one language: at most ``PRODUCT_DESCRIPTION_MAX`` characters,
    newlines allowed, no other control characters (``description_too_long`` ...)."""
    if len(text) > PRODUCT_DESCRIPTION_MAX:
        raise InvalidInput("description_too_long",
                           f"description is longer than {PRODUCT_DESCRIPTION_MAX} characters")
    if has_control_chars(text, allow_newlines=True):
        raise InvalidInput("description_control_chars", "description contains control characters")
    return text


def stream_id_key(message_id: str) -> tuple[int, int]:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``, for ordering; ``InvalidInput`` if bad."""
    ms, sep, seq = message_id.partition("-")
    if not ms.isdigit() or (sep and not seq.isdigit()) or len(message_id) > 40:
        raise InvalidInput("bad_message_id", f"not a chat message id: {message_id[:40]!r}")
    return int(ms), int(seq or 0)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat message. ``id`` is what clients see, dedupe and resume with: the stream id, or
    for a message a node kept in its journal during a Redis outage (rooms/chat_journal.py) the
    id that node gave it at acceptance. Then ``position`` is its stream id once written ("" while
    it waits, and for every other message: ``id`` is the position) and ``journaled_by`` the node
    that accepted it (that node delivered it to its own members at once)."""

    id: str
    room_id: str
    sender: str
    name: str
    text: str
    sent_at: float
    position: str = ""
    journaled_by: str = ""

    @property
    def cursor(self) -> str:
        """Where the message is in its room's stream (what a follower reads after)."""
        return self.position or self.id

    @property
    def waiting(self) -> bool:
        """Accepted into a node's journal and not written to the stream yet."""
        return bool(self.journaled_by) and not self.position

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "room_id": self.room_id, "sender": self.sender,
                "name": self.name, "text": self.text, "sent_at": self.sent_at}


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    room_id: str
    asker: str
    name: str
    text: str
    asked_at: float
    votes: int = 0
    answered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "room_id": self.room_id, "asker": self.asker, "name": self.name,
                "text": self.text, "asked_at": self.asked_at, "votes": self.votes,
                "answered": self.answered}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, votes: int = 0) -> Question:
        return cls(id=str(data["id"]), room_id=str(data["room_id"]), asker=str(data["asker"]),
                   name=str(data["name"]), text=str(data["text"]),
                   asked_at=float(data["asked_at"]), votes=votes,
                   answered=bool(data.get("answered")))


@dataclass(frozen=True, slots=True)
class ProductCard:
    """A product a broadcaster shows: pinned cards appear over the video."""

    id: str
    room_id: str
    name: LocalizedText
    price: Decimal
    currency: str
    picture_url: str = ""
    link: str = ""
    request_quote: bool = False  # show "request a quote" instead of (or beside) a price
    pinned: bool = False
    # a few lines per language, plain text (LocalizedText is immutable: one shared empty default)
    description: LocalizedText = NO_TEXT

    def __post_init__(self) -> None:
        if not _PRODUCT_ID.fullmatch(self.id):
            raise InvalidInput("bad_product_id", "product id must be 1-64 of A-Z a-z 0-9 _ -")
        if not _CURRENCY.fullmatch(self.currency):
            raise InvalidInput("bad_currency", "currency must be an ISO 4217 code like CNY")
        if not self.price.is_finite() or self.price < 0:
            raise InvalidInput("bad_price", "price must be a non-negative number")
        for url in (self.picture_url, self.link):
            if url and (not url.startswith(("https://", "http://", "/")) or len(url) > URL_MAX):
                raise InvalidInput("bad_url", "product URLs must be http(s) or site-relative")
        for lang in self.name:
            short_text(self.name[lang], max_chars=PRODUCT_NAME_MAX, what="product_name")
        for lang in self.description:
            check_description(self.description[lang])

    def with_pin(self, pinned: bool) -> ProductCard:
        return replace(self, pinned=pinned)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "room_id": self.room_id, "name": self.name.as_dict(),
                "price": str(self.price), "currency": self.currency,
                "picture_url": self.picture_url, "link": self.link,
                "request_quote": self.request_quote, "pinned": self.pinned,
                "description": self.description.as_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProductCard:
        try:
            name, description = data.get("name") or {}, data.get("description") or {}
            if not isinstance(name, Mapping) or not isinstance(description, Mapping):
                raise InvalidInput("bad_field", "name must be an object of language -> text")
            return cls(id=str(data["id"]), room_id=str(data["room_id"]),
                       name=LocalizedText(name),
                       price=Decimal(str(data.get("price", "0"))),
                       currency=str(data.get("currency") or ""),
                       picture_url=str(data.get("picture_url") or ""),
                       link=str(data.get("link") or ""),
                       request_quote=bool(data.get("request_quote")),
                       pinned=bool(data.get("pinned")),
                       description=LocalizedText(description))
        except KeyError as exc:
            raise InvalidInput("missing_field", f"product {exc.args[0]!r} is required") from None
        except InvalidOperation:
            raise InvalidInput("bad_price", "price must be a decimal number") from None
