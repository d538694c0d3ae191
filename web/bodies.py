"""The request bodies of the page, meetings and admin APIs, one strict pydantic model each.

A model checks a body's *shape*: which fields, their JSON types (strict: ``"1"`` is not a number
and ``["a"]`` is not a name), and bounds on every string, list and object so nothing a client
sends is unbounded. What a value *means* (a known language, a future slot, a valid currency, a
price in range) stays the domain's to decide, with its own codes. Fields a client may omit are
``None`` and left out of :meth:`~web.http_api.Body.fields`, so the domain's defaults apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from web.http_api import Body

Id = Annotated[str, StringConstraints(max_length=128)]
Short = Annotated[str, StringConstraints(max_length=200)]
Url = Annotated[str, StringConstraints(max_length=2_000)]
Text = Annotated[str, StringConstraints(max_length=4_000)]
Lang = Annotated[str, StringConstraints(max_length=8)]
Localized = Annotated[dict[Lang, Short], Field(max_length=12)]  # language -> text
Names = Annotated[list[Short], Field(max_length=50)]
Paragraph = Annotated[str, StringConstraints(max_length=1_000)]
LocalizedParagraph = Annotated[dict[Lang, Paragraph], Field(max_length=12)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Descriptions = Annotated[dict[Lang, Annotated[str, StringConstraints(max_length=1_000)]],
                         Field(max_length=12)]  # a product card's description per language
PRICE_CHARS = 40


def price_value(value: Any) -> Any:
    """A price as JSON sends it (a string like ``"12.50"`` or a number) -> ``Decimal``; its
    range and precision are the domain's (:func:`rooms.showroom.check_price`)."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("bad_price", "price must be a decimal number or a string")
    text = str(value).strip()
    if len(text) > PRICE_CHARS:
        raise PydanticCustomError("bad_price", "price is too long")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise PydanticCustomError("bad_price", "price must be a decimal number") from None
    if not price.is_finite():
        raise PydanticCustomError("bad_price", "price must be a finite number")
    return price


# -- page API (docs/pages.md) ---------------------------------------------------------------------
class NewProduct(Body):
    name: Short
    language: Lang = "en"
    price: Decimal | None = None
    currency: Annotated[str, StringConstraints(max_length=8)] = ""
    request_quote: bool = False
    description: Annotated[str, StringConstraints(max_length=1_000)] = ""

    _price = field_validator("price", mode="before")(price_value)


class ProductEdit(Body):
    """Changes to a card: ``name`` and ``description`` are in ``language``; omitted fields keep
    their value."""

    language: Lang = "en"
    name: Short | None = None
    description: Annotated[str, StringConstraints(max_length=1_000)] | None = None
    price: Decimal | None = None
    currency: Annotated[str, StringConstraints(max_length=8)] | None = None
    request_quote: bool | None = None

    _price = field_validator("price", mode="before")(price_value)


class QuoteAsk(Body):
    """A quote request: the card, and how to reach the buyer (the domain checks each field:
    :class:`rooms.quote.Contact`)."""

    product: Id
    language: Lang = "en"
    name: Short = ""
    company: Short = ""
    email: Short = ""
    phone: Short = ""
    message: Text = ""


class QuoteReply(Body):
    text: Text = ""
    meeting: bool = False


class RecordingEdit(Body):
    """PATCH a recording (page and admin API, issue 15 §5): rename and/or publish."""

    title: Short | None = None
    published: bool | None = None


# -- admin API (docs/admin-api.md) ---------------------------------------------------------------
class NewRoom(Body):
    id: Id
    kind: Short
    pavilion: Short
    title: Localized | None = None
    description: Annotated[dict[Lang, Text], Field(max_length=12)] | None = None
    exhibitor: Id | None = None
    starts_at: Short | None = None
    ends_at: Short | None = None
    time_zone: Short | None = None
    state: Short | None = None
    locked: bool | None = None
    capacity: Count | None = None
    stage_size: Count | None = None
    max_pinned: Count | None = None
    invitees: Annotated[list[Id], Field(max_length=100)] | None = None
    host_name: Localized | None = None
    interpretation: Annotated[list[Lang], Field(max_length=6)] | None = None  # issue 17


class Locked(Body):
    locked: bool = True


class Muted(Body):
    muted: bool = True


class Pinned(Body):
    pinned: bool = True


class Product(Body):
    name: Localized | None = None
    price: Decimal | None = None
    currency: Annotated[str, StringConstraints(max_length=8)] | None = None
    picture_url: Url | None = None
    link: Url | None = None
    request_quote: bool | None = None
    description: Descriptions | None = None

    _price = field_validator("price", mode="before")(price_value)


class NewToken(Body):
    identity: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    room: Id
    ttl_s: int = 3600
    grants: Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                      Field(max_length=16)] | None = None
    name: Short | None = None
    # an interpreter's languages (issue 17): codes among zh en ja ko ru mn
    languages: Annotated[list[Annotated[str, StringConstraints(max_length=8)]],
                         Field(max_length=6)] | None = None

    codes: ClassVar[Mapping[str, str]] = {
        "identity": "bad_identity", "room": "bad_room_id", "ttl_s": "bad_ttl",
        "grants": "bad_grants", "languages": "bad_language"}


# -- meetings API (docs/meetings-api.md) ---------------------------------------------------------
class Profile(Body):
    name: Localized | None = None
    pavilion: Short | None = None
    products: Names | None = None
    languages: Annotated[list[Lang], Field(max_length=12)] | None = None
    team: Annotated[list[Id], Field(max_length=50)] | None = None
    time_zone: Short | None = None
    description: LocalizedParagraph | None = None


class SlotOffer(Body):
    starts_at: Short | None = None
    date: Short | None = None
    start: Short | None = None
    time_zone: Short | None = None
    length_min: int | None = None
    languages: Annotated[list[Lang], Field(max_length=12)] | None = None


class Publish(Body):
    slots: Annotated[list[SlotOffer], Field(min_length=1, max_length=50)]
    host: Id | None = None

    codes: ClassVar[Mapping[str, str]] = {"slots": "bad_slots", "host": "bad_host"}


class Booking(Body):
    slot_id: Id
    message: Text | None = None
    time_zone: Short | None = None
    interpreter: Lang | None = None  # issue 17 §6: a language the buyer wants interpreted


class QuoteBooking(Body):
    slot_id: Id | None = None
    language: Lang | None = None
    message: Text | None = None
    time_zone: Short | None = None


class Answer(Body):
    reason: Text | None = None
    slot_id: Id | None = None


class Feedback(Body):
    rating: int | None = None
    note: Text | None = None
