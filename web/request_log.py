"""Every HTTP request's log context: its request id, the node and the route's room.

The middleware takes a sane incoming ``X-Request-Id`` (a proxy's, so both logs name one
request) or makes one, binds it with the node id and the route's ``{room}`` and ``{peer}``
(WHIP/WHEP PATCH and DELETE) for every line logged while the request is handled
(config/log_context.py), and the response echoes it in ``X-Request-Id`` -- also on errors and
streamed answers (set when the response is prepared).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from config import log_context

HEADER = "X-Request-Id"
KEY = web.RequestKey("request_id", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def middleware(node_id: str) -> Middleware:
    @web.middleware
    async def bound(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[KEY] = log_context.request_id(request.headers.get(HEADER))
        route = request.match_info  # /whip/{room}/{peer}: the WHIP/WHEP session's peer
        with log_context.bind(node=node_id, request_id=request[KEY], room=route.get("room"),
                              peer=route.get("peer")):
            return await handler(request)

    return bound


async def echo(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the request id goes back with every answer."""
    rid = request.get(KEY)
    if rid is not None and HEADER not in response.headers:
        response.headers[HEADER] = rid


def install(app: web.Application, node_id: str) -> None:
    app.middlewares.insert(0, middleware(node_id))
    app.on_response_prepare.append(echo)
