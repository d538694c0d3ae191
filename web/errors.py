"""Error pages: a translated HTML 404 for people, plain answers for machines.

Only a GET that asks for HTML gets the page; API, WHIP/WHEP and asset requests keep aiohttp's
plain-text status (their clients are programs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from web.pages import not_found

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return await not_found(request)
        raise
