"""``Showroom``: a broadcast's host desk and its viewers' quote requests, behind the one gate.

What the page API (docs/pages.md) and the admin API do besides the real-time protocol: product
cards (the host: :attr:`~rooms.gate.Action.HOST`), quote requests (a viewer in the room:
``QUOTE``; the host lists them), closing a question (``MODERATE``, through
:meth:`RoomService.answer`) and going live (``HOST``, through :meth:`RoomService.set_state`).
Each method asks :meth:`RoomService.authorize` first and only then reads or writes the Store,
so an HTTP door only translates the answer.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from config import LANGUAGES
from rooms.content import ProductCard, Question
from rooms.errors import InvalidInput, NoSuchRoom, NotAllowed
from rooms.events import QuestionAnswered, RoomChanged
from rooms.gate import Action
from rooms.quote import QUOTES_PER_ROOM, QuoteRequest
from rooms.room import Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.text import LocalizedText
from rooms.token import AccessToken

MAX_PRICE = Decimal("1e12")  # more than any card's price; a bigger one is a typo or an attack
PRICE_PLACES = 4  # digits after the point
PUBLIC_KINDS = frozenset({RoomKind.BROADCAST, RoomKind.FORUM})


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
                          price: Decimal, currency: str, request_quote: bool) -> ProductCard:
        """A new card from the studio's form (the card checks language, currency, name)."""
        await self.service.authorize(token, room_id, Action.HOST)
        card = ProductCard(id="p-" + secrets.token_hex(4), room_id=room_id,
                           name=LocalizedText({language: name.strip()}), price=price,
                           currency=currency.strip().upper(), request_quote=request_quote)
        return await self.put_product(token, card)

    async def put_product(self, token: AccessToken, card: ProductCard) -> ProductCard:
        """Create or replace a card of ``card.room_id`` (pinning is separate)."""
        await self.service.authorize(token, card.room_id, Action.HOST)
        check_price(card.price)
        await self.store.put_product(card)
        return card

    async def delete_product(self, token: AccessToken, room_id: str, product_id: str) -> None:
        await self.service.authorize(token, room_id, Action.HOST)
        if not await self.store.delete_product(room_id, product_id):
            raise NoSuchRoom(product_id, code="no_such_product", what="product")

    # -- quote requests ---------------------------------------------------------------------------
    async def request_quote(self, token: AccessToken, room_id: str, product_id: str,
                            language: str) -> QuoteRequest:
        """A viewer in the room asks for a quote on a card that offers one, at the pace of
        questions (``RateLimited`` past it); every node's staff see it (:meth:`quotes`)."""
        await self.service.authorize(token, room_id, Action.QUOTE)
        self.service.rates.check(room_id, token.identity, "questions")  # as asking a question
        card = next((c for c in await self.store.list_products(room_id) if c.id == product_id),
                    None)
        if card is None:
            raise NoSuchRoom(product_id, code="no_such_product", what="product")
        if not card.request_quote:
            raise NotAllowed("no_quotes", "this product does not take quote requests")
        shown = language if language in LANGUAGES else "en"
        quote = QuoteRequest(room_id, card.id, card.name.get(shown), token.identity,
                             token.name or token.identity, shown, self.service.clock.now())
        await self.store.add_quote(quote, cap=self.quotes_per_room)
        return quote

    async def quotes(self, token: AccessToken, room_id: str) -> list[QuoteRequest]:
        await self.service.authorize(token, room_id, Action.HOST)
        return await self.store.list_quotes(room_id)

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
