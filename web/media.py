"""The media plane's HTTP side: WHIP ingest and WHEP playback routes, and the plane's lifecycle.

``install(app, settings)`` adds ``/whip/{room}`` and ``/whep/{room}`` (POST, OPTIONS), their
resources ``/whip/{room}/{peer}`` and ``/whep/{room}/{peer}`` (PATCH, DELETE, OPTIONS), and one
``cleanup_ctx`` that owns the :class:`~streaming.MediaPlane` under :data:`MEDIA_KEY`. Protocol
decisions (status codes, limits, Link, ETag, sdpfrag) live in :mod:`signaling.whip`; this module
only moves values between aiohttp and there. Any refusal is a plain-text line and touches
nothing else in the server.

The room must exist in the Store and not have ended (404 / 403 otherwise). In demo mode a WHIP
publisher whose token carries ``create`` opens a new broadcast room on first publish (issue 3
§9), so OBS can go live with nothing but ``pavilion token --grants publish,create``.

With several nodes, a room's media lives on the node holding its lease (docs/protocol.md). A
WHIP or WHEP session holds the lease while it lasts, like a Socket.IO member does; on a node
that does not hold it, the POST is answered ``307 Temporary Redirect`` to the same resource on
the node that does (RFC 9725, "Load Balancing and Redirections"), which the client repeats
its POST to. The hold is released when the session's peer leaves the plane (DELETE, or its
connection failed): the plane's ``PeerEnded`` event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from config import Settings
from rooms.errors import StoreUnavailable, WrongNode
from rooms.pavilion import Pavilion
from rooms.room import ROOM_ID, Room, RoomKind, RoomState
from rooms.service import RoomService
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant, TokenError, verify
from signaling import whip
from streaming import MediaError, MediaEvent, MediaPlane, PeerEnded, UnknownPeer
from streaming.negotiation import NegotiationError
from web.keys import BACKEND_KEY

log = logging.getLogger(__name__)

MEDIA_KEY = web.AppKey("media_plane", MediaPlane)
RESOURCES_KEY = web.AppKey("media_resources", dict)

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post, Accept-Patch",
}


@dataclass(frozen=True)
class Resource:
    """One WHIP or WHEP session: who created it, and its ICE session's ETag."""

    kind: str  # "whip" or "whep"
    room: str
    identity: str
    etag: str
    remote_ufrag: str | None


def install(app: web.Application, settings: Settings) -> None:
    """Add the media routes and the MediaPlane's cleanup context to ``app``."""
    app[RESOURCES_KEY] = {}
    app.cleanup_ctx.append(_plane_ctx(settings))
    routes = _Routes(settings)
    for kind in ("whip", "whep"):
        app.router.add_post(f"/{kind}/{{room}}", routes.create(kind))
        app.router.add_route("OPTIONS", f"/{kind}/{{room}}", routes.options("POST, OPTIONS"))
        resource = f"/{kind}/{{room}}/{{peer}}"
        app.router.add_patch(resource, routes.patch(kind))
        app.router.add_delete(resource, routes.delete(kind))
        app.router.add_route("OPTIONS", resource, routes.options("PATCH, DELETE, OPTIONS"))


def _plane_ctx(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        plane = MediaPlane(settings.media, settings.ice_servers)
        app[MEDIA_KEY] = plane
        releases = _Releases(app)
        plane.listen(releases.on_event)
        yield
        await plane.aclose()
        await releases.drain()

    return ctx


class _Releases:
    """Ends the lease hold of a WHIP/WHEP session whose peer left the plane."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: MediaEvent) -> None:
        if not isinstance(event, PeerEnded):
            return
        resource = self._app[RESOURCES_KEY].pop(event.peer_id, None)
        if resource is not None:
            task = asyncio.get_running_loop().create_task(self._release(resource.room))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _release(self, room: str) -> None:
        await _release_quietly(self._app[BACKEND_KEY].service, room)

    async def drain(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refusals(handler: Handler) -> Handler:
    """Every refusal is a short plain-text answer with the RFC's status; bugs are a 500."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except whip.WhipError as exc:
            return _text(exc.status, exc.reason, dict(exc.headers))
        except (MediaError, NegotiationError) as exc:
            refusal = whip.media_refusal(exc)
            return _text(refusal.status, refusal.reason, dict(refusal.headers))

    return wrapped


def _text(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=reason + "\n", headers={**CORS, **(headers or {})})


class _Routes:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _auth(self, request: web.Request, room: str, grant: Grant) -> str:
        return self._access(request, room, grant).identity

    def _access(self, request: web.Request, room: str, grant: Grant) -> AccessToken:
        token = whip.bearer_token(request.headers.get("Authorization"))
        try:
            access = verify(
                self.settings.secret_value(),
                token,
                room=room,
                require=grant,
                leeway_s=self.settings.token_leeway_s,
            )
        except TokenError as exc:
            raise whip.token_refusal(exc.code, str(exc)) from None
        return access

    async def _open_room(self, request: web.Request, room_id: str, access: AccessToken,
                         kind: str) -> None:
        """The room must exist and not have ended; demo WHIP with ``create`` may open it."""
        store = request.app[BACKEND_KEY].store
        try:
            room = await store.get_room(room_id) if ROOM_ID.fullmatch(room_id) else None
            if room is None and kind == "whip" and self._may_create(access):
                await store.create_room(_new_broadcast(room_id, access))
                return
        except StoreUnavailable:
            raise whip.WhipError(503, "room state is unavailable, try again shortly",
                                 (("Retry-After", "5"),)) from None
        if room is None:
            raise whip.WhipError(404, f"no room {room_id!r}")
        if room.state is RoomState.ENDED:
            raise whip.WhipError(403, f"room {room_id!r} has ended")

    def _may_create(self, access: AccessToken) -> bool:
        return self.settings.demo and access.allows(Grant.CREATE)

    def create(self, kind: str) -> Handler:
        grant = Grant.PUBLISH if kind == "whip" else Grant.SUBSCRIBE

        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            room = request.match_info["room"]
            access = self._access(request, room, grant)
            identity = access.identity
            await self._open_room(request, room, access, kind)
            limits = self.settings.media
            whip.check_encoding(request.headers.get("Content-Encoding"))
            if request.content_length is not None and request.content_length > limits.max_sdp_bytes:
                raise whip.WhipError(
                    413, f"the SDP offer is larger than {limits.max_sdp_bytes} bytes"
                )
            body = await request.content.read(limits.max_sdp_bytes + 1)
            offer = whip.check_offer(request.headers.get("Content-Type"), body, limits)
            plane = request.app[MEDIA_KEY]
            service = request.app[BACKEND_KEY].service
            await _hold(request, service, kind, room)
            try:
                if kind == "whip":
                    answer = await plane.publish(room, identity, offer)
                else:
                    chosen = _chosen_sources(plane, room, request.query.get("participant"))
                    answer = await plane.subscribe_whep(room, identity, offer, chosen)
            except BaseException:
                await _release_quietly(service, room)
                raise
            etag = whip.etag(whip.ice_ufrag(answer.sdp))
            resources = request.app[RESOURCES_KEY]
            resources[answer.peer_id] = Resource(kind, room, identity, etag, _ufrag_or_none(offer))
            if answer.peer_id not in plane.peers:  # it failed before it was registered here
                del resources[answer.peer_id]
                await _release_quietly(service, room)
            location = f"/{kind}/{room}/{answer.peer_id}"
            response = web.Response(
                status=201,
                text=answer.sdp,
                content_type=whip.SDP,
                headers={**CORS, "Location": location, "ETag": etag, "Accept-Patch": whip.SDPFRAG},
            )
            for link in whip.ice_server_links(self.settings.ice_servers):
                response.headers.add("Link", link)
            return response

        return handler

    def _resource(self, request: web.Request, kind: str) -> tuple[str, Resource]:
        peer_id = request.match_info["peer"]
        resource = request.app[RESOURCES_KEY].get(peer_id)
        if resource is None or resource.kind != kind or resource.room != request.match_info["room"]:
            raise whip.WhipError(404, "no such session")
        grant = Grant.PUBLISH if kind == "whip" else Grant.SUBSCRIBE
        identity = self._auth(request, resource.room, grant)
        if identity != resource.identity:
            raise whip.WhipError(403, "this session belongs to someone else")
        return peer_id, resource

    def patch(self, kind: str) -> Handler:
        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            peer_id, resource = self._resource(request, kind)
            if whip.media_type(request.headers.get("Content-Type")) != whip.SDPFRAG:
                raise whip.WhipError(415, f"a PATCH must be {whip.SDPFRAG}")
            whip.check_if_match(request.headers.get("If-Match"), resource.etag)
            whip.check_encoding(request.headers.get("Content-Encoding"))
            limits = self.settings.media
            fragment = whip.parse_sdpfrag(
                await request.content.read(limits.max_sdp_bytes + 1), limits
            )
            whip.check_restart(fragment, resource.remote_ufrag)
            plane = request.app[MEDIA_KEY]
            for mid, candidate in fragment.candidates:
                await plane.add_candidate(peer_id, mid, candidate)
            return web.Response(status=204, headers={**CORS, "ETag": resource.etag})

        return handler

    def delete(self, kind: str) -> Handler:
        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            peer_id, _ = self._resource(request, kind)
            try:  # the plane's PeerEnded then ends the resource and its lease hold
                await request.app[MEDIA_KEY].close(peer_id)
            except UnknownPeer:
                pass  # the connection had already failed and was closed by the plane
            return _text(200, "session ended")

        return handler

    def options(self, methods: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            headers = {**CORS, "Access-Control-Allow-Methods": methods, "Allow": methods}
            if methods.startswith("POST"):
                headers["Accept-Post"] = whip.SDP
            else:
                headers["Accept-Patch"] = whip.SDPFRAG
            return web.Response(status=204, headers=headers)

        return handler


async def _hold(request: web.Request, service: RoomService, kind: str, room: str) -> None:
    """Hold the room's media lease for this session, or redirect to the node that holds it."""
    try:
        await service.hold_media(room)
    except WrongNode as exc:
        target = f"{exc.node_url.rstrip('/')}/{kind}/{room}"
        if request.query_string:
            target += "?" + request.query_string
        raise whip.WhipError(307, f"room {room!r} is served by {exc.node_url}",
                             (("Location", target),)) from None
    except StoreUnavailable:
        raise whip.WhipError(503, "room state is unavailable, try again shortly",
                             (("Retry-After", "5"),)) from None


async def _release_quietly(service: RoomService, room: str) -> None:
    try:
        await service.release_media(room)
    except Exception as exc:  # the lease then expires on its own (its TTL)
        log.warning("media lease of room %s not released: %s", room, exc)


def _chosen_sources(plane: MediaPlane, room: str, participant: str | None) -> list[str] | None:
    """WHEP ``?participant=ID`` plays that person's live tracks (a forum speaker, one meeting
    tile, an edge node cascading one publisher); without it, the room's latest audio and video."""
    if participant is None:
        return None
    sources = plane.sources_of(room, participant)
    if not sources:
        raise whip.WhipError(404, f"{participant!r} publishes nothing in room {room!r}")
    return sources


def _new_broadcast(room_id: str, access: AccessToken) -> Room:
    """The room a demo WHIP publisher opens: a live broadcast in the New Media pavilion."""
    return Room(id=room_id, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), exhibitor=access.identity,
                state=RoomState.LIVE)


def _ufrag_or_none(sdp: str) -> str | None:
    try:
        return whip.ice_ufrag(sdp)
    except ValueError:
        return None
