"""The organiser's console page, ``GET /console`` (issue 18 §2, docs/pages.md "Console").

With ``?token=`` (an organiser token: every room, ``moderate``) the link is checked by the one
gate (:func:`rooms.gate.decide_organiser_console`) before the page renders; a refusal is the
page with a translated sentence and a 403. Without one the page asks for the admin API key.
Either way the page holds no figures itself: it reads them over Socket.IO (``/console``,
web/console.py), which asks the gate again at connect.
"""

from __future__ import annotations

from aiohttp import web

from rooms import gate
from rooms.errors import NotAllowed
from rooms.token import TokenError, verify
from web.console_strings import ERRORS as CONSOLE_ERRORS
from web.console_strings import console_strings
from web.keys import RENDERER_KEY, SETTINGS_KEY
from web.page_strings import ERRORS, FALLBACK_ERROR
from web.pages import html, request_language
from web.room_pages import language_links, script_json

TOKEN_MAX = 4_096


def refusal(request: web.Request, token: str) -> str | None:
    """The code that refuses ``token`` at this door, or None (the organiser)."""
    settings = request.app[SETTINGS_KEY]
    try:
        access = verify(settings.secret_value(), token, leeway_s=settings.token_leeway_s)
        gate.decide_organiser_console(access)
    except (TokenError, NotAllowed) as exc:
        return exc.code
    return None


async def console(request: web.Request) -> web.Response:
    lang = request_language(request)
    renderer = request.app[RENDERER_KEY]
    token = request.query.get("token", "").strip()[:TOKEN_MAX]
    code = refusal(request, token) if token else None
    error = None
    if code is not None:
        text = {**ERRORS, **CONSOLE_ERRORS}.get(code, FALLBACK_ERROR)
        error = renderer.gettext(lang, text)
    config = {"namespace": "/console", "token": token if code is None else "", "lang": lang}
    body = renderer.render("console.html", lang, error=error, config_json=script_json(config),
                           words_json=script_json(console_strings(renderer.catalogs, lang)),
                           lang_href=language_links(request))
    response = html(request, body, lang, status=200 if error is None else 403)
    response.headers["Cache-Control"] = "no-store"  # the link carries a personal token
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console", console, name="console")
