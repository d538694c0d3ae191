"""The media plane's HTTP side: WHIP ingest and WHEP playback routes, and the plane's lifecycle.

``install(app, settings)`` adds ``/whip/{room}`` and ``/whep/{room}`` (POST, OPTIONS), their
resources ``/whip/{room}/{peer}`` and ``/whep/{room}/{peer}`` (PATCH, DELETE, OPTIONS), and one
``cleanup_ctx`` that owns the :class:`~streaming.MediaPlane` under :data:`MEDIA_KEY`. Protocol
decisions (status codes, limits, Link, ETag, sdpfrag) live in :mod:`signaling.whip`; this module
only moves values between aiohttp and there. Any refusal is a plain-text line and touches
nothing else in the server.

Who may publish or play is the one gate's decision (issue 11): a session enters its room
through :class:`signaling.media_door.MediaDoor` like a browser does (grant, schedule, lock,
waiting room, ban, stage), and this module translates refusals: 401 bad token, 403 the room's
rules, 404 no room or session, 429 + ``Retry-After`` too many negotiations or peers, 503 state
store down. In demo mode a WHIP publisher whose token carries ``create`` opens a new broadcast
room on first publish (issue 3 §9), so OBS can go live with nothing but ``pavilion token
--grants publish,create``.

With several nodes, a room's media lives on the node holding its lease (docs/protocol.md). A
WHIP or WHEP session holds it through its presence, like a Socket.IO member does; on a node
that does not hold it, the POST is answered ``307 Temporary Redirect`` to the same resource on
the node that does (RFC 9725, "Load Balancing and Redirections"), which the client repeats
its POST to.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from config import Settings
from rooms.errors import NoNodeAvailable, RateLimited, RoomsError, StoreUnavailable, WrongNode
from rooms.gate import Action
from rooms.token import AccessToken, TokenError, verify
from signaling import turn, whip
from signaling.errors import SignalingError
from signaling.media_door import Visit
from streaming import MediaError, MediaPlane
from streaming.errors import NothingPublished
from streaming.negotiation import NegotiationError
from streaming.plane import Answer
from web.cascade import EDGES_KEY
from web.keys import HUB_KEY

log = logging.getLogger(__name__)

MEDIA_KEY = web.AppKey("media_plane", MediaPlane)

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post, Accept-Patch",
}


def install(app: web.Application, settings: Settings) -> None:
    """Add the media routes and the MediaPlane's cleanup context to ``app``."""
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
        plane = MediaPlane(settings.media, settings.ice_servers,
                           max_recordings=settings.recordings.max_per_node,
                           max_hls=settings.hls.max_per_node)
        app[MEDIA_KEY] = plane
        yield
        await plane.aclose()

    return ctx


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
        except TokenError as exc:
            refusal = whip.token_refusal(exc.code, str(exc))
            return _text(refusal.status, refusal.reason, dict(refusal.headers))
        except WrongNode as exc:
            return _redirect(request, exc)
        except (RoomsError, SignalingError) as exc:
            refusal = whip.door_refusal(exc.code, exc.message, _retry_after(exc))
            return _text(refusal.status, refusal.reason, dict(refusal.headers))

    return wrapped


def _retry_after(exc: RoomsError | SignalingError) -> float | None:
    if isinstance(exc, RateLimited):
        return exc.retry_after_s
    if isinstance(exc, SignalingError):
        value = exc.extra.get("retry_after_s")
        return float(value) if isinstance(value, int | float) else None
    return 5.0 if isinstance(exc, StoreUnavailable | NoNodeAvailable) else None


def _redirect(request: web.Request, exc: WrongNode) -> web.Response:
    """The room's media is on another node: the same resource there (RFC 9725, "Load
    Balancing and Redirections"), query kept."""
    kind, room = request.path.split("/")[1], request.match_info["room"]
    target = f"{exc.node_url.rstrip('/')}/{kind}/{room}"
    if request.query_string:
        target += "?" + request.query_string
    return _text(307, f"room {room!r} is served by {exc.node_url}", {"Location": target})


def _text(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=reason + "\n", headers={**CORS, **(headers or {})})


class _Routes:
    """Read the request, ask the hub's :class:`~signaling.media_door.MediaDoor`, translate."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _access(self, request: web.Request) -> AccessToken:
        """The bearer's verified token (signature, expiry); what it may do, the gate decides."""
        token = whip.bearer_token(request.headers.get("Authorization"))
        return verify(self.settings.secret_value(), token, leeway_s=self.settings.token_leeway_s)

    def create(self, kind: str) -> Handler:
        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            room = request.match_info["room"]
            access = self._access(request)
            hub = request.app[HUB_KEY]
            if kind == "whip" and self.settings.demo:
                await hub.service.open_demo_broadcast(access, room)
            whip.check_encoding(request.headers.get("Content-Encoding"))
            offer = whip.check_offer(request.headers.get("Content-Type"),
                                     await self._body(request), self.settings.media)
            participant = request.query.get("participant")
            # issue 17: WHIP ?channel= (an interpreter's audio), WHEP ?language= (a listener's)
            channel = request.query.get("channel" if kind == "whip" else "language")
            visit, answer = await self._open(request, kind, room, access, offer, participant,
                                             channel)
            response = web.Response(
                status=201, text=answer.sdp, content_type=whip.SDP,
                headers={**CORS, "Location": f"/{kind}/{room}/{visit.peer_id}",
                         "ETag": visit.etag, "Accept-Patch": whip.SDPFRAG},
            )
            servers = turn.ice_servers(self.settings.ice_servers, self.settings.turn,
                                       access.identity, now=time.time())
            for link in whip.ice_server_links(servers):
                response.headers.add("Link", link)
            return response

        return handler

    async def _open(self, request: web.Request, kind: str, room: str, access: AccessToken,
                    offer: str, participant: str | None,
                    channel: str | None = None) -> tuple[Visit, Answer]:
        """Enter through the door; a WHEP viewer of a cascaded room is first placed by load
        (``WrongNode``: a 307 to the chosen node), then served here as the origin, or as an
        edge from an upstream pulled from it (web/cascade.py)."""
        hub, edges = request.app[HUB_KEY], request.app.get(EDGES_KEY)
        if kind != "whep" or edges is None or not self.settings.cluster.cascade:
            return await hub.door.open(kind, room, access, offer, participant, channel=channel)
        # the one gate first (issue 11): a caller the room refuses learns no node by a 307
        await hub.service.admit_entry(access, room, Action.SUBSCRIBE)
        origin = await edges.place(room, access.identity)
        if origin is None:
            try:
                return await hub.door.open(kind, room, access, offer, participant,
                                           channel=channel)
            except WrongNode as exc:
                if not await edges.serves(room):
                    raise
                origin = exc.node_url
        if channel is not None:  # issue 17: the stage (where published) and the channel
            with contextlib.suppress(NothingPublished):
                await edges.ensure(room, None, origin)
            await edges.ensure(room, None, origin, channel)
        else:
            await edges.ensure(room, participant, origin)
        return await hub.door.open(kind, room, access, offer, participant, media=False,
                                   channel=channel)

    async def _body(self, request: web.Request) -> bytes:
        limit = self.settings.media.max_sdp_bytes
        if request.content_length is not None and request.content_length > limit:
            raise whip.WhipError(413, f"the SDP offer is larger than {limit} bytes")
        return await request.content.read(limit + 1)

    def _visit(self, request: web.Request, kind: str) -> Visit:
        hub = request.app[HUB_KEY]
        return hub.door.visit(kind, request.match_info["room"], request.match_info["peer"],
                              self._access(request))

    def patch(self, kind: str) -> Handler:
        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            visit = self._visit(request, kind)
            if whip.media_type(request.headers.get("Content-Type")) != whip.SDPFRAG:
                raise whip.WhipError(415, f"a PATCH must be {whip.SDPFRAG}")
            whip.check_if_match(request.headers.get("If-Match"), visit.etag)
            whip.check_encoding(request.headers.get("Content-Encoding"))
            limits = self.settings.media
            fragment = whip.parse_sdpfrag(
                await request.content.read(limits.max_sdp_bytes + 1), limits
            )
            whip.check_restart(fragment, visit.remote_ufrag)
            plane = request.app[MEDIA_KEY]
            for mid, candidate in fragment.candidates:
                await plane.add_candidate(visit.peer_id, mid, candidate)
            return web.Response(status=204, headers={**CORS, "ETag": visit.etag})

        return handler

    def delete(self, kind: str) -> Handler:
        @_refusals
        async def handler(request: web.Request) -> web.StreamResponse:
            visit = self._visit(request, kind)
            await request.app[HUB_KEY].door.close(visit)
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
