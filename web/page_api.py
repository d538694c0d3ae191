"""The small JSON API the room pages call besides Socket.IO (docs/pages.md, "Page API").

What the real-time protocol does not (yet) carry, with the same access tokens (``Authorization:
Bearer``) and the same error shape ``{ok: false, error: {code, message}}``:

- ``GET|POST /api/pages/rooms/{room}/products``: the host lists and creates product cards
  (pinning stays a Socket.IO event, ``product.pin``);
- ``GET|POST /api/pages/rooms/{room}/quotes``: a viewer asks for a quote on a product; staff
  list the requests and get each one live as ``quote.requested`` on the staff channel;
- ``POST /api/pages/rooms/{room}/questions/{question}/answered``: a moderator closes a question;
  the room hears ``question.answered``;
- ``POST /api/pages/rooms/{room}/live``: the host takes a scheduled broadcast live;
- ``GET /api/pages/live``: live rooms and their audience, for the lobby's counts (public).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from config import LANGUAGES
from rooms.content import ProductCard
from rooms.errors import RoomsError
from rooms.room import Room, RoomState
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant, TokenError, verify
from signaling.wire import room_channel, staff_channel
from web.keys import BACKEND_KEY, RENDERER_KEY, SETTINGS_KEY
from web.pages import request_language
from web.quote_requests import QuoteLog, QuoteRequest
from web.rtc import HUB_KEY

QUOTES_KEY = web.AppKey("quote_requests", QuoteLog)
PREFIX = "/api/pages"
STATUS = {"token_missing": 401, "token_invalid": 401, "bad_signature": 401, "bad_algorithm": 401,
          "token_expired": 401, "no_such_room": 404, "no_such_product": 404,
          "no_such_question": 404}


class PageApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status or STATUS.get(code, 403 if code.startswith("not_") else 400)


def _failure(exc: PageApiError) -> web.Response:
    body = {"ok": False, "error": {"code": exc.code, "message": str(exc)}}
    return web.json_response(body, status=exc.status)


Handler = Callable[[web.Request], Awaitable[web.Response]]


def _api(handler: Handler) -> Handler:
    """Typed refusals become the JSON error shape; anything else stays a bug (500)."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except PageApiError as exc:
            return _failure(exc)
        except (TokenError, RoomsError) as exc:
            return _failure(PageApiError(exc.code, str(exc)))

    return wrapped


def _bearer(request: web.Request, room: str) -> AccessToken:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PageApiError("token_missing", "send Authorization: Bearer <access token>")
    settings = request.app[SETTINGS_KEY]
    access = verify(settings.secret_value(), token.strip(), room=room,
                    leeway_s=settings.token_leeway_s)
    access.require(Grant.JOIN)
    return access


async def _room(request: web.Request) -> Room:
    room_id = request.match_info["room"]
    room = await request.app[BACKEND_KEY].store.get_room(room_id)
    if room is None:
        raise PageApiError("no_such_room", f"no room {room_id[:64]!r}")
    return room


def _staff(access: AccessToken, room: Room) -> None:
    if not access.allows(Grant.MODERATE) and access.identity != room.exhibitor:
        raise PageApiError("not_host", "only the host or a moderator may do that")


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise PageApiError("bad_payload", "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise PageApiError("bad_payload", "the body must be a JSON object")
    return data


# -- products -------------------------------------------------------------------------------------
async def list_products(request: web.Request) -> web.Response:
    room = await _room(request)
    _staff(_bearer(request, room.id), room)
    cards = await request.app[BACKEND_KEY].store.list_products(room.id)
    return web.json_response({"ok": True, "products": [c.to_dict() for c in cards]})


async def create_product(request: web.Request) -> web.Response:
    room = await _room(request)
    _staff(_bearer(request, room.id), room)
    card = product_from(room.id, await _json(request))
    await request.app[BACKEND_KEY].store.put_product(card)
    return web.json_response({"ok": True, "product": card.to_dict()}, status=201)


def product_from(room_id: str, data: dict[str, Any]) -> ProductCard:
    """A new card from the studio's form: ``name``, ``language``, ``price``, ``currency``,
    ``request_quote``; a bad field is a :class:`rooms.errors.InvalidInput` with its code."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise PageApiError("product_name", "a product needs a name")
    language = str(data.get("language") or "en")
    if language not in LANGUAGES:
        raise PageApiError("bad_language", f"unknown language {language[:8]!r}")
    try:
        price = Decimal(str(data.get("price") or "0").strip())
    except InvalidOperation:
        raise PageApiError("bad_price", "price must be a decimal number") from None
    return ProductCard(id="p-" + secrets.token_hex(4), room_id=room_id,
                       name=LocalizedText({language: name}), price=price,
                       currency=str(data.get("currency") or "").strip().upper(),
                       request_quote=bool(data.get("request_quote")))


# -- quote requests -------------------------------------------------------------------------------
async def request_quote(request: web.Request) -> web.Response:
    room = await _room(request)
    access = _bearer(request, room.id)
    data = await _json(request)
    product_id = str(data.get("product") or "")
    cards = {c.id: c for c in await request.app[BACKEND_KEY].store.list_products(room.id)}
    card = cards.get(product_id)
    if card is None:
        raise PageApiError("no_such_product", f"no product {product_id[:64]!r} in this room")
    language = str(data.get("language") or "en")
    quote = QuoteRequest(room.id, card.id, card.name.get(language), access.identity,
                         access.name, language if language in LANGUAGES else "en", time.time())
    request.app[QUOTES_KEY].add(quote)
    hub = request.app[HUB_KEY]
    await hub.outbox.send(staff_channel(room.id), "quote.requested", quote.to_dict())
    return web.json_response({"ok": True, "request": quote.to_dict()}, status=201)


async def list_quotes(request: web.Request) -> web.Response:
    room = await _room(request)
    _staff(_bearer(request, room.id), room)
    quotes = request.app[QUOTES_KEY].of_room(room.id)
    return web.json_response({"ok": True, "requests": [q.to_dict() for q in quotes]})


# -- moderation the protocol does not carry yet ---------------------------------------------------
async def answer_question(request: web.Request) -> web.Response:
    room = await _room(request)
    access = _bearer(request, room.id)
    if not access.allows(Grant.MODERATE):
        raise PageApiError("not_moderator", "only a moderator may close a question")
    question = request.match_info["question"]
    if not await request.app[BACKEND_KEY].store.answer_question(room.id, question):
        raise PageApiError("no_such_question", f"no question {question[:64]!r}")
    found = [q for q in await request.app[BACKEND_KEY].store.list_questions(room.id)
             if q.id == question]
    payload = {**(found[0].to_dict() if found else {}), "answered": True,
               "room_id": room.id, "question_id": question}
    await request.app[HUB_KEY].outbox.send(room_channel(room.id), "question.answered", payload)
    return web.json_response({"ok": True, **payload})


async def go_live(request: web.Request) -> web.Response:
    room = await _room(request)
    access = _bearer(request, room.id)
    _staff(access, room)
    if room.state is RoomState.LIVE:
        return web.json_response({"ok": True, "room": room.to_dict()})
    backend = request.app[BACKEND_KEY]
    event = await backend.service.set_state(access, room.id, RoomState.LIVE)
    await request.app[HUB_KEY].announce([event])
    return web.json_response({"ok": True, "room": event.room.to_dict()})


async def live_counts(request: web.Request) -> web.Response:
    """``{rooms: {room_id: {count, text}}}`` for every live room, ``text`` in the request's
    language with its plural rules (public: the lobby shows it)."""
    store = request.app[BACKEND_KEY].store
    rooms = [r for r in await store.list_rooms() if r.state is RoomState.LIVE]
    lang = request_language(request)
    catalog = request.app[RENDERER_KEY].catalogs[lang]
    counts: dict[str, dict[str, Any]] = {}
    for room in rooms:
        n = await store.count_present(room.id)
        text = catalog.ngettext("%(num)d watching", "%(num)d watching", n) % {"num": n}
        counts[room.id] = {"count": n, "text": text}
    return web.json_response({"ok": True, "rooms": counts},
                             headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app[QUOTES_KEY] = QuoteLog()
    room = PREFIX + "/rooms/{room}"
    router = app.router
    router.add_get(room + "/products", _api(list_products))
    router.add_post(room + "/products", _api(create_product))
    router.add_get(room + "/quotes", _api(list_quotes))
    router.add_post(room + "/quotes", _api(request_quote))
    router.add_post(room + "/questions/{question}/answered", _api(answer_question))
    router.add_post(room + "/live", _api(go_live))
    router.add_get(PREFIX + "/live", _api(live_counts))
