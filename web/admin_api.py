"""The admin HTTP API: JSON under ``/api/admin/``, for organisers' tools (docs/admin-api.md).

Authentication: ``Authorization: Bearer <api_key>``. Without an ``api_key`` the API is off
(404 ``admin_disabled``), except in demo mode, where the token secret is accepted instead so a
demo can be driven with curl (the CLI prints nothing secret; the operator sets the secret).
Every body is checked against its model (:mod:`web.bodies`); every refusal is
``{"ok": false, "error": {"code", "message"}}`` by the one error table of :mod:`web.http_api`.
Actions run through :class:`~rooms.service.RoomService` and :class:`~rooms.showroom.Showroom` as
the organiser token :data:`ADMIN` (every room, moderator), so they pass the same gate and follow
the same rules, and through the node's Socket.IO hub (``Hub.moderated``) they send the same
events, with the same effects, as a moderator in the room (``participant.removed``,
``participant.muted``, ``room.changed``, ``room.closed``, ``product.pinned``...).
"""

from __future__ import annotations

import hmac
import time
from typing import TypeVar

from aiohttp import web

from config import Settings
from rooms.content import ProductCard
from rooms.errors import InvalidInput, RoomsError
from rooms.events import Event
from rooms.factory import Backend
from rooms.organiser import OrganiserDesk
from rooms.overview import DEFAULT_LIMIT
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomState, check_room_id
from rooms.showroom import Showroom
from rooms.text import display_name
from rooms.token import AccessToken, Grant, mint, parse_grants, parse_languages
from web import openapi_doc
from web.bodies import Locked, Muted, NewRoom, NewToken, Pinned, Product
from web.cascade import EDGE_PREFIX
from web.http_api import Handler, body, error, failure, reply
from web.keys import DRAIN_KEY
from web.rtc import HUB_KEY

PREFIX = "/api/admin"
MAX_TOKEN_TTL_S = 7 * 24 * 3600
ADMIN = AccessToken(identity="admin", room="*", name="admin", expires_at=2**31 - 1,
                    grants=frozenset({Grant.JOIN, Grant.MODERATE, Grant.HIDDEN}))
_E = TypeVar("_E", Pavilion, RoomState)


class AdminApi:
    """The handlers, bound to the settings and the app key under which the backend lives."""

    def __init__(self, settings: Settings, backend_key: web.AppKey[Backend]) -> None:
        self.settings = settings
        self.backend_key = backend_key
        self.key = admin_key(settings)
        self.openapi_body = openapi_doc.load(openapi_doc.DEFAULT_PATH)  # missing: fails at start

    def backend(self, request: web.Request) -> Backend:
        return request.app[self.backend_key]

    def desk(self, request: web.Request) -> OrganiserDesk:
        backend = self.backend(request)
        return OrganiserDesk(backend.service, backend.cluster)

    def showroom(self, request: web.Request) -> Showroom:
        return Showroom(self.backend(request).service)

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authenticate admin routes and turn domain errors into JSON answers."""
        if not request.path.startswith(PREFIX + "/"):
            return await handler(request)
        if self.key is None:
            return error(404, "admin_disabled", "admin API disabled (set api_key)")
        if not _authorized(request, self.key):
            response = error(401, "unauthorized", "missing or wrong API key")
            response.headers["WWW-Authenticate"] = 'Bearer realm="pavilion-admin"'
            return response
        try:
            return await handler(request)
        except RoomsError as exc:
            return failure(exc, realm="pavilion-admin")

    # -- rooms -------------------------------------------------------------------------------------
    async def list_rooms(self, request: web.Request) -> web.Response:
        pavilion = _enum(Pavilion, request.query.get("pavilion"), "pavilion")
        state = _enum(RoomState, request.query.get("state"), "state")
        desk = self.desk(request)
        return reply({"rooms": await desk.rooms(ADMIN, pavilion=pavilion, state=state)})

    async def create_room(self, request: web.Request) -> web.Response:
        room = Room.from_dict((await body(request, NewRoom)).fields())
        try:
            await self.desk(request).create(ADMIN, room)
        except InvalidInput as exc:
            if exc.code != "room_exists":
                raise
            return error(409, exc.code, exc.message)
        return reply(room.to_dict(), status=201,
                                 headers={"Location": f"{PREFIX}/rooms/{room.id}"})

    async def get_room(self, request: web.Request) -> web.Response:
        desk = self.desk(request)
        room_id = request.match_info["room_id"]
        detail = await desk.detail(ADMIN, room_id)
        detail["edges"] = _edges(request, room_id)
        return reply(detail)

    async def close_room(self, request: web.Request) -> web.Response:
        room_id = request.match_info["room_id"]
        event = await self.backend(request).service.set_state(ADMIN, room_id, RoomState.ENDED)
        await _tell_clients(request, event)
        return reply(event.room.to_dict())

    async def lock_room(self, request: web.Request) -> web.Response:
        locked = (await body(request, Locked)).locked
        event = await self.backend(request).service.lock(ADMIN, request.match_info["room_id"],
                                                         locked)
        await _tell_clients(request, event)
        return reply(event.room.to_dict())

    # -- nodes (issue 13) ----------------------------------------------------------------------
    async def nodes(self, request: web.Request) -> web.Response:
        return reply(await self.desk(request).nodes(ADMIN))

    async def drain(self, request: web.Request) -> web.Response:
        """Drain this node (SIGTERM's drain: web/drain.py); another node's id: 409 wrong_node
        naming its URL, whose admin API drains it."""
        node = await self.desk(request).drain_target(ADMIN, request.match_info["node_id"])
        await request.app[DRAIN_KEY].begin()
        drain_s = self.settings.cluster.drain_s
        return reply({"id": node.node_id, "url": node.url, "draining": True,
                      "drain_s": drain_s}, status=202)

    # -- the organiser's overview (issue 18 §2, §7) ---------------------------------------------
    async def overview(self, request: web.Request) -> web.Response:
        offset = _count(request.query.get("offset"), "offset", 0)
        limit = _count(request.query.get("limit"), "limit", DEFAULT_LIMIT)
        return reply(await self.desk(request).overview(ADMIN, self.settings.cluster,
                                                       offset=offset, limit=limit))

    async def room_health(self, request: web.Request) -> web.Response:
        return reply(await self.desk(request).room_health(
            ADMIN, request.match_info["room_id"], self.settings.cluster))

    async def openapi(self, request: web.Request) -> web.Response:
        # The whole API as OpenAPI 3.1 (issue 18 §7), read once at start (web/openapi_doc.py)
        return web.Response(body=self.openapi_body, content_type="application/json")

    # -- participants ------------------------------------------------------------------------------
    async def participants(self, request: web.Request) -> web.Response:
        desk = self.desk(request)
        people = await desk.participants(ADMIN, request.match_info["room_id"])
        return reply({"participants": [p.to_dict() for p in people]})

    async def kick(self, request: web.Request) -> web.Response:
        event = await self.backend(request).service.kick(
            ADMIN, request.match_info["room_id"], request.match_info["identity"])
        await _tell_clients(request, event)
        return reply(event.to_dict())

    async def mute(self, request: web.Request) -> web.Response:
        muted = (await body(request, Muted)).muted
        event = await self.backend(request).service.mute(
            ADMIN, request.match_info["room_id"], request.match_info["identity"], muted)
        await _tell_clients(request, event)
        return reply(event.to_dict())

    # -- products ----------------------------------------------------------------------------------
    async def put_product(self, request: web.Request) -> web.Response:
        form = await body(request, Product)
        data = {**form.fields(), "id": request.match_info["product_id"],
                "room_id": request.match_info["room_id"]}
        card = await self.showroom(request).put_product(ADMIN, ProductCard.from_dict(data))
        return reply(card.to_dict())

    async def delete_product(self, request: web.Request) -> web.Response:
        room_id, product_id = request.match_info["room_id"], request.match_info["product_id"]
        await self.showroom(request).delete_product(ADMIN, room_id, product_id)
        return reply({"room_id": room_id, "product_id": product_id, "deleted": True})

    async def pin_product(self, request: web.Request) -> web.Response:
        pinned = (await body(request, Pinned)).pinned
        event = await self.backend(request).service.pin_product(
            ADMIN, request.match_info["room_id"], request.match_info["product_id"], pinned)
        await _tell_clients(request, event)
        return reply(event.to_dict())

    # -- tokens ------------------------------------------------------------------------------------
    async def mint_token(self, request: web.Request) -> web.Response:
        form = await body(request, NewToken)
        identity, room, ttl = form.identity, form.room, form.ttl_s
        if room != "*":
            check_room_id(room)
        if not 0 < ttl <= MAX_TOKEN_TTL_S:
            raise InvalidInput("bad_ttl", f"ttl_s must be an integer in 1..{MAX_TOKEN_TTL_S}")
        try:
            grants = parse_grants(form.grants or ["join", "subscribe", "chat"])
        except ValueError as exc:
            raise InvalidInput("bad_grants", str(exc)) from None
        try:
            languages = parse_languages(form.languages or [])
        except ValueError as exc:
            raise InvalidInput("bad_language", str(exc)) from None
        name = display_name(form.name or identity)
        now = int(time.time())
        token = mint(self.settings.secret_value(), identity=identity, room=room, grants=grants,
                     ttl_s=ttl, name=name, now=now, languages=languages)
        minted: dict[str, object] = {"token": token, "expires_at": now + ttl,
                                     "identity": identity, "room": room,
                                     "grants": sorted(g.value for g in grants)}
        if languages:
            minted["languages"] = list(languages)
        return reply(minted, status=201)


def install(app: web.Application, settings: Settings, backend_key: web.AppKey[Backend]) -> None:
    """Add the ``/api/admin/...`` routes and their authentication to ``app``."""
    api = AdminApi(settings, backend_key)
    app.middlewares.append(api.guard)
    room = PREFIX + "/rooms/{room_id}"
    router = app.router
    router.add_get(PREFIX + "/rooms", api.list_rooms, name="admin-rooms")
    router.add_post(PREFIX + "/rooms", api.create_room)
    router.add_get(room, api.get_room, name="admin-room")
    router.add_post(room + "/close", api.close_room)
    router.add_post(room + "/lock", api.lock_room)
    router.add_get(room + "/participants", api.participants)
    router.add_post(room + "/participants/{identity}/kick", api.kick)
    router.add_post(room + "/participants/{identity}/mute", api.mute)
    router.add_put(room + "/products/{product_id}", api.put_product)
    router.add_delete(room + "/products/{product_id}", api.delete_product)
    router.add_post(room + "/products/{product_id}/pin", api.pin_product)
    router.add_post(PREFIX + "/tokens", api.mint_token)
    router.add_get(PREFIX + "/nodes", api.nodes, name="admin-nodes")
    router.add_get(PREFIX + "/overview", api.overview, name="admin-overview")
    router.add_get(room + "/health", api.room_health)
    router.add_get(PREFIX + "/openapi.json", api.openapi)
    router.add_post(PREFIX + "/nodes/{node_id}/drain", api.drain)


def _edges(request: web.Request, room_id: str) -> list[str]:
    """The nodes pulling ``room_id`` from this node (their WHEP visits here as ``edge:<node>``,
    web/cascade.py); only the room's origin sees them."""
    hub = request.app.get(HUB_KEY)
    if hub is None:
        return []
    return sorted({visit.identity.removeprefix(EDGE_PREFIX) for visit in hub.door.visits.values()
                   if visit.room == room_id and visit.kind == "whep"
                   and visit.identity.startswith(EDGE_PREFIX)})


async def _tell_clients(request: web.Request, event: Event) -> None:
    """Send Socket.IO clients the events a moderator in the room would cause, with the same
    effects (the removed leave, the muted stop sending, a closed room empties on every node).
    An app built without Socket.IO (tests of this API alone) has no hub: nothing to tell."""
    hub = request.app.get(HUB_KEY)
    if hub is not None:
        await hub.moderated([event])


def admin_key(settings: Settings) -> str | None:
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    if settings.demo and settings.secret is not None:
        return settings.secret.get_secret_value()
    return None


def _authorized(request: web.Request, key: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())


def _count(raw: str | None, what: str, default: int) -> int:
    if raw in (None, ""):
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(f"bad_{what}", f"{what} must be a whole number")
    return int(raw)


def _enum(cls: type[_E], raw: str | None, what: str) -> _E | None:
    if raw in (None, ""):
        return None
    try:
        return cls(raw)
    except ValueError:
        raise InvalidInput(f"bad_{what}", f"unknown {what} {raw!r}") from None
