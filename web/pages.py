"""HTML pages: the language of each request, and the lobby.

The language is negotiated once per request (``?lang=`` > cookie > Accept-Language > default)
and remembered in a cookie when the visitor picked it explicitly.
"""

from __future__ import annotations

from aiohttp import web

from config import Language
from rooms.errors import StoreUnavailable
from web.keys import BACKEND_KEY, RENDERER_KEY, SETTINGS_KEY
from web.language import COOKIE, negotiate
from web.lobby import build_lobby

COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY_MAX = 100


def request_language(request: web.Request) -> Language:
    settings = request.app[SETTINGS_KEY]
    return negotiate(
        request.query.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("Accept-Language"),
        settings.default_language,
    )


def html(request: web.Request, body: str, lang: Language, status: int = 200) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    if request.query.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax", path="/")
    return response


async def lobby(request: web.Request) -> web.Response:
    lang = request_language(request)
    query = request.query.get("q", "")[:QUERY_MAX]
    pavilion = request.query.get("pavilion", "")[:QUERY_MAX] or None
    try:
        view = await build_lobby(request.app[BACKEND_KEY], request.app[RENDERER_KEY], lang, query,
                                 pavilion)
    except StoreUnavailable:
        body = request.app[RENDERER_KEY].render("unavailable.html", lang)
        return html(request, body, lang, status=503)
    body = request.app[RENDERER_KEY].render(
        "lobby.html",
        lang,
        live=view.live,
        upcoming=view.upcoming,
        ended=view.ended,
        pavilions=view.pavilions,
        replays=view.replays,
        chosen_pavilion=view.pavilion,
        query=query,
    )
    return html(request, body, lang)


async def not_found(request: web.Request) -> web.Response:
    lang = request_language(request)
    body = request.app[RENDERER_KEY].render("not_found.html", lang)
    return html(request, body, lang, status=404)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", lobby, name="lobby")
