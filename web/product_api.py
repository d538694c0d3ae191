"""The host's product cards over the page API, and their pictures (docs/pages.md, issue 12).

- ``GET|POST /api/pages/rooms/{room}/products``: list, create;
- ``PATCH|DELETE /api/pages/rooms/{room}/products/{product}``: edit (the room hears
  ``product.updated``), delete (``product.deleted``);
- ``PUT /api/pages/rooms/{room}/products/{product}/picture``: the raw bytes of a PNG, JPEG or
  WebP, at most :data:`rooms.picture.MAX_BYTES` (read in chunks, refused past the cap before the
  rest is read); the type comes from the bytes, never from the request's ``Content-Type``;
- ``GET /pictures/{room}/{sha256}.{png|jpeg|webp}``: public (product cards are), served from the
  Store by any node with its own type, ``nosniff``, ``inline``, a sandboxing CSP and a year of
  ``immutable`` caching (the name is the content's hash).

Each handler reads the request, asks :class:`rooms.showroom.Showroom` (which asks the gate), and
translates the answer.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from rooms.content import ProductCard
from rooms.errors import InvalidInput
from rooms.picture import MAX_BYTES
from rooms.showroom import Showroom
from signaling.wire import room_channel
from web.bodies import NewProduct, ProductEdit
from web.http_api import access_token, api, body, reply
from web.keys import BACKEND_KEY
from web.rtc import HUB_KEY

CHUNK = 64 * 1024
PICTURE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _showroom(request: web.Request) -> Showroom:
    return Showroom(request.app[BACKEND_KEY].service)


def _ids(request: web.Request) -> tuple[str, str]:
    return request.match_info["room"], request.match_info["product"]


async def list_products(request: web.Request) -> web.Response:
    cards = await _showroom(request).products(access_token(request), request.match_info["room"])
    return reply({"ok": True, "products": [c.to_dict() for c in cards]})


async def create_product(request: web.Request) -> web.Response:
    token, form = access_token(request), await body(request, NewProduct)
    price = form.price if form.price is not None else Decimal(0)
    card = await _showroom(request).new_product(
        token, request.match_info["room"], name=form.name, language=form.language, price=price,
        currency=form.currency, request_quote=form.request_quote, description=form.description)
    return reply({"ok": True, "product": card.to_dict()}, status=201)


async def edit_product(request: web.Request) -> web.Response:
    token, form = access_token(request), await body(request, ProductEdit)
    room_id, product_id = _ids(request)
    card = await _showroom(request).edit_product(
        token, room_id, product_id, language=form.language, name=form.name,
        description=form.description, price=form.price, currency=form.currency,
        request_quote=form.request_quote)
    await _announce(request, "product.updated", _updated(card))
    return reply({"ok": True, "product": card.to_dict()})


async def delete_product(request: web.Request) -> web.Response:
    room_id, product_id = _ids(request)
    await _showroom(request).delete_product(access_token(request), room_id, product_id)
    await _announce(request, "product.deleted", {"room_id": room_id, "product_id": product_id})
    return reply({"ok": True, "product_id": product_id})


async def upload_picture(request: web.Request) -> web.Response:
    token = access_token(request)
    room_id, product_id = _ids(request)
    card = await _showroom(request).set_picture(token, room_id, product_id,
                                                await _read_capped(request))
    await _announce(request, "product.updated", _updated(card))
    return reply({"ok": True, "product": card.to_dict()})


async def serve_picture(request: web.Request) -> web.Response:
    picture = await _showroom(request).picture(request.match_info["room"],
                                               request.match_info["name"])
    return web.Response(body=picture.data, content_type=picture.content_type,
                        headers=PICTURE_HEADERS)


async def _read_capped(request: web.Request) -> bytes:
    """The body, refused (``picture_too_large``) as soon as it passes ``MAX_BYTES``."""
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise InvalidInput("picture_too_large", f"a picture is at most {MAX_BYTES} bytes")
    chunks, size = [], 0
    while chunk := await request.content.read(CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            raise InvalidInput("picture_too_large", f"a picture is at most {MAX_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _updated(card: ProductCard) -> dict[str, object]:
    return {"room_id": card.room_id, "product_id": card.id, "product": card.to_dict()}


async def _announce(request: web.Request, event: str, payload: dict[str, object]) -> None:
    await request.app[HUB_KEY].outbox.send(room_channel(str(payload["room_id"])), event, payload)


def add_routes(app: web.Application, prefix: str) -> None:
    room = prefix + "/rooms/{room}/products"
    router = app.router
    router.add_get(room, api(list_products))
    router.add_post(room, api(create_product))
    router.add_patch(room + "/{product}", api(edit_product))
    router.add_delete(room + "/{product}", api(delete_product))
    router.add_put(room + "/{product}/picture", api(upload_picture))
    router.add_get("/pictures/{room}/{name}", api(serve_picture))
