"""``Showroom``: a broadcast's host desk and its viewers' quote requests, behind the one gate.

What the page API (docs/pages.md) and the admin API do besides the real-time protocol: product
cards (the host: :attr:`~rooms.gate.Action.HOST`), quote requests (a viewer in the room:
``QUOTE``; the host lists them), closing a question (``MODERATE``, through
:meth:`RoomService.answer`) and going live (``HOST``, through :meth:`RoomService.set_state`).
Each method asks :meth:`RoomService.authorize` first and only then reads or writes the Store,
so an HTTP door only translates the answer.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from decimal import Decimal
from typing import Any

from config import LANGUAGES
from rooms.content import NO_TEXT, ProductCard, Question
from rooms.errors import InvalidInput, NoSuchRoom, NotAllowed, RoomFull
from rooms.events import QuestionAnswered, RoomChanged
from rooms.gate import Action
from rooms.picture import PICTURES_PER_ROOM, Picture, check_picture
from rooms.quote import QUOTES_PER_ROOM, Contact, QuoteRequest, Reply, check_message
from rooms.quote_export import quotes_csv
from rooms.room import Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.text import LocalizedText
from rooms.token import AccessToken

MAX_PRICE = Decimal("1e12")  # more than any card's price; a bigger one is a typo or an attack
PRICE_PLACES = 4  # digits after the point
PUBLIC_KINDS = frozenset({RoomKind.BROADCAST, RoomKind.FORUM})
PRODUCTS_PER_ROOM = 100  # cards the studio may create in one room
_PICTURE_NAME = re.compile(r"[0-9a-f]{64}\.(png|jpeg|webp)")


def picture_path(room_id: str, name: str) -> str:
    """Where the node serves a card's picture (web/page_api.py): a content-hash name."""
    return f"/pictures/{room_id}/{name}"


def _with(texts: LocalizedText, language: str, text: str) -> LocalizedText:
    """``texts`` with ``language`` set to ``text`` (removed when empty)."""
    merged = {k: v for k, v in texts.as_dict().items() if k != language}
    if text:
        merged[language] = text
    return LocalizedText(merged)


def check_price(price: Decimal) -> Decimal:
    """A card's price: finite, ``0 <= price < MAX_PRICE``, at most ``PRICE_PLACES`` decimal
    places (``1e999999999`` and ``0.000000001`` are refused, ``bad_price``)."""
    if not price.is_finite() or not 0 <= price < MAX_PRICE:
        raise InvalidInput("bad_price", f"price: must be a number from 0 to below {MAX_PRICE:f}")
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise InvalidInput("bad_price", f"price: more than {PRICE_PLACES} decimal places")
    return price


class Showroom:
    def __init__(self, service: RoomService, *, quotes_per_room: int = QUOTES_PER_ROOM) -> None:
        self.service = service
        self.store = service.store
        self.quotes_per_room = quotes_per_room

    # -- product cards (the host) -----------------------------------------------------------------
    async def products(self, token: AccessToken, room_id: str) -> list[ProductCard]:
        await self.service.authorize(token, room_id, Action.HOST)
        return await self.store.list_products(room_id)

    async def new_product(self, token: AccessToken, room_id: str, *, name: str, language: str,
                          price: Decimal, currency: str, request_quote: bool,
                          description: str = "") -> ProductCard:
        """A new card from the studio's form (the card checks language, currency, name)."""
        await self.service.authorize(token, room_id, Action.HOST)
        if len(await self.store.list_products(room_id)) >= PRODUCTS_PER_ROOM:
            raise RoomFull(f"a room has at most {PRODUCTS_PER_ROOM} products",
                           limit=PRODUCTS_PER_ROOM, code="too_many_products")
        card = ProductCard(id="p-" + secrets.token_hex(4), room_id=room_id,
                           name=LocalizedText({language: name.strip()}), price=price,
                           currency=currency.strip().upper(), request_quote=request_quote,
                           description=_with(NO_TEXT, language, description.strip()))
        return await self.put_product(token, card)

    async def put_product(self, token: AccessToken, card: ProductCard) -> ProductCard:
        """Create or replace a card of ``card.room_id`` (pinning is separate)."""
        await self.service.authorize(token, card.room_id, Action.HOST)
        check_price(card.price)
        await self.store.put_product(card)
        return card

    async def edit_product(self, token: AccessToken, room_id: str, product_id: str, *,
                           language: str, name: str | None = None,
                           description: str | None = None, price: Decimal | None = None,
                           currency: str | None = None,
                           request_quote: bool | None = None) -> ProductCard:
        """Change a card (the host): ``name`` and ``description`` in ``language`` (the other
        languages kept), and the fields given; the pin stays as it was."""
        await self.service.authorize(token, room_id, Action.HOST)
        card = await self._card(room_id, product_id)
        changes: dict[str, Any] = {}
        if name is not None and not name.strip():
            raise InvalidInput("product_name", "name: a card needs a name")
        if name is not None:
            changes["name"] = _with(card.name, language, name.strip())
        if description is not None:
            changes["description"] = _with(card.description, language, description.strip())
        if price is not None:
            changes["price"] = price
        if currency is not None:
            changes["currency"] = currency.strip().upper()
        if request_quote is not None:
            changes["request_quote"] = request_quote
        return await self.put_product(token, replace(card, **changes))

    async def delete_product(self, token: AccessToken, room_id: str, product_id: str) -> None:
        """Remove a card (unpinned with it) and its picture if no other card shows it."""
        await self.service.authorize(token, room_id, Action.HOST)
        card = await self._card(room_id, product_id)
        if not await self.store.delete_product(room_id, product_id):
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        await self._forget_picture(room_id, card.picture_url)

    async def set_picture(self, token: AccessToken, room_id: str, product_id: str,
                          data: bytes) -> ProductCard:
        """Give a card a picture checked by its bytes (:func:`rooms.picture.check_picture`),
        kept in the Store so every node serves it; at most ``PICTURES_PER_ROOM`` per room
        (``pictures_full``). The card's old picture goes if no other card shows it."""
        await self.service.authorize(token, room_id, Action.HOST)
        card = await self._card(room_id, product_id)
        picture = check_picture(data)
        if not await self.store.put_picture(room_id, picture.name, picture.data,
                                            cap=PICTURES_PER_ROOM):
            raise RoomFull(f"a room keeps at most {PICTURES_PER_ROOM} pictures",
                           limit=PICTURES_PER_ROOM, code="pictures_full")
        updated = replace(card, picture_url=picture_path(room_id, picture.name))
        await self.store.put_product(updated)
        if card.picture_url != updated.picture_url:
            await self._forget_picture(room_id, card.picture_url)
        return updated

    async def picture(self, room_id: str, name: str) -> Picture:
        """A stored picture of a room's cards, for anyone (cards are public): the bytes' type is
        checked again, so only a PNG, JPEG or WebP is ever served, under the type its name says;
        ``no_such_picture`` else. No hashing here: a fetch costs a header parse, not 2 MiB."""
        if await self.store.get_room(room_id) is None:
            raise NoSuchRoom(room_id)
        data = await self.store.get_picture(room_id, name) if _PICTURE_NAME.fullmatch(name) \
            else None
        if data is None:
            raise NoSuchRoom(name, code="no_such_picture", what="picture")
        picture = check_picture(data)  # the type again (cheap); the hash was checked on upload
        if not name.endswith("." + picture.kind):
            raise NoSuchRoom(name, code="no_such_picture", what="picture")
        return picture

    async def _card(self, room_id: str, product_id: str) -> ProductCard:
        found = [c for c in await self.store.list_products(room_id) if c.id == product_id]
        if not found:
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        return found[0]

    async def _forget_picture(self, room_id: str, url: str) -> None:
        prefix = picture_path(room_id, "")
        if not url.startswith(prefix):
            return  # an outside URL (the admin API's picture_url) or none
        if all(c.picture_url != url for c in await self.store.list_products(room_id)):
            await self.store.delete_picture(room_id, url.removeprefix(prefix))

    # -- quote requests ---------------------------------------------------------------------------
    async def request_quote(self, token: AccessToken, room_id: str, product_id: str,
                            language: str, *, name: str = "", company: str = "",
                            email: str = "", phone: str = "", message: str = "") -> QuoteRequest:
        """A viewer in the room asks for a quote on a card that offers one, with how to reach
        them, at the pace of questions (``RateLimited`` past it); every node's staff see it
        (:meth:`quotes`). Nothing is booked: a meeting is the buyer's separate choice."""
        await self.service.authorize(token, room_id, Action.QUOTE)
        contact = Contact.checked(name or token.name or token.identity, company, email, phone)
        message = check_message(message)
        self.service.rates.check(room_id, token.identity, "questions")  # as asking a question
        card = next((c for c in await self.store.list_products(room_id) if c.id == product_id),
                    None)
        if card is None:
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        if not card.request_quote:
            raise NotAllowed("no_quotes", "this product does not take quote requests")
        shown = language if language in LANGUAGES else "en"
        quote = QuoteRequest(room_id, card.id, card.name.get(shown), token.identity,
                             contact.name, shown, self.service.clock.now(),
                             id="q-" + secrets.token_hex(6), company=contact.company,
                             email=contact.email, phone=contact.phone,
                             message=message)
        await self.store.add_quote(quote, cap=self.quotes_per_room)
        self.service.hooks.emit("quote_requested", {"quote": quote.to_hook()},
                                room=room_id)  # issue 18 §1: the CRM's lead
        return quote

    async def quotes(self, token: AccessToken, room_id: str) -> list[QuoteRequest]:
        """Every request of the room (staff), oldest first."""
        await self.service.authorize(token, room_id, Action.HOST)
        return await self.store.list_quotes(room_id)

    async def quotes_csv(self, token: AccessToken, room_id: str) -> str:
        """Every request of the room as CSV (staff): :func:`rooms.quote_export.quotes_csv`."""
        return quotes_csv(await self.quotes(token, room_id))

    async def my_quotes(self, token: AccessToken, room_id: str) -> list[QuoteRequest]:
        """The caller's own requests in this room, with the replies they got."""
        await self.service.authorize(token, room_id, Action.QUOTE)
        return [q for q in await self.store.list_quotes(room_id)
                if q.requester == token.identity]

    async def withdraw_quote(self, token: AccessToken, room_id: str,
                             quote_id: str) -> QuoteRequest:
        """The buyer takes back their own request (``not_yours`` for anyone else's)."""
        await self.service.authorize(token, room_id, Action.QUOTE)
        quote = await self._quote(room_id, quote_id)
        if quote.requester != token.identity:
            raise NotAllowed("not_yours", "only the buyer may withdraw a request")
        if not await self.store.delete_quote(room_id, quote_id):
            raise NoSuchRoom(quote_id, code="no_such_request", what="request")
        return quote

    async def reply_quote(self, token: AccessToken, room_id: str, quote_id: str, text: str, *,
                          meeting: bool = False) -> tuple[QuoteRequest, Reply]:
        """Staff answer a request: the reply is kept with it (at most ``REPLIES_PER_QUOTE``);
        ``meeting`` proposes a meeting (the buyer's page then offers the exhibitor's slots)."""
        await self.service.authorize(token, room_id, Action.HOST)
        reply = Reply.checked(token.name or token.identity, text, self.service.clock.now(),
                              meeting=meeting)
        quote = (await self._quote(room_id, quote_id)).with_reply(reply)
        if not await self.store.replace_quote(quote):
            raise NoSuchRoom(quote_id, code="no_such_request", what="request")
        return quote, reply

    async def _quote(self, room_id: str, quote_id: str) -> QuoteRequest:
        found = [q for q in await self.store.list_quotes(room_id) if q.id == quote_id]
        if not found:
            raise NoSuchRoom(quote_id, code="no_such_request", what="request")
        return found[0]

    # -- the lobby --------------------------------------------------------------------------------
    async def audiences(self) -> list[tuple[Room, int]]:
        """Live public rooms (broadcasts, forums) and how many watch each (public figures:
        meetings are private and never listed)."""
        rooms = await self.store.list_rooms(state=RoomState.LIVE)
        return [(r, await self.watching(r)) for r in rooms if r.kind in PUBLIC_KINDS]

    async def watching(self, room: Room) -> int:
        """How many watch ``room``: those present (neither hidden nor waiting) but a
        broadcast's own exhibitor, who is on camera; nobody once it is not live (presence left
        over from an ended room is not an audience)."""
        if room.state is not RoomState.LIVE:
            return 0
        present = await self.store.count_present(room.id)
        if room.kind is RoomKind.BROADCAST and room.exhibitor:
            host = await self.store.get_participant(room.id, room.exhibitor)
            if host is not None and not host.hidden and not host.waiting:
                present -= 1
        return max(0, present)

    async def ended(self) -> list[Room]:
        """Public rooms that have ended: the lobby shows them as ended (never as watched: their
        presence, if any is left over, is not counted)."""
        return [r for r in await self.store.list_rooms(state=RoomState.ENDED)
                if r.kind in PUBLIC_KINDS]

    # -- the host's and moderator's buttons -------------------------------------------------------
    async def answer(self, token: AccessToken, room_id: str,
                     question_id: str) -> tuple[QuestionAnswered, Question | None]:
        """Close a question (a moderator); also the question as it now stands, if listed."""
        event = await self.service.answer(token, room_id, question_id)
        found = [q for q in await self.store.list_questions(room_id) if q.id == question_id]
        return event, (found[0] if found else None)

    async def go_live(self, token: AccessToken, room_id: str) -> tuple[Room, RoomChanged | None]:
        """Take a scheduled broadcast live (the host); already live is no change (``None``)."""
        room = (await self.service.authorize(token, room_id, Action.HOST)).room
        if room.state is RoomState.LIVE:
            return room, None
        event = await self.service.set_state(token, room_id, RoomState.LIVE)
        return event.room, event
