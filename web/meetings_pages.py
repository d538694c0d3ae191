"""The trade-meeting pages: buyer's directory and booking, "my meetings", exhibitor dashboard,
exhibitor profile.

Server-rendered shells in the visitor's language; the data comes from ``/api/meetings`` through
``web/static/meetings.js`` with the access token of the link (``?token=``, kept in the tab's
sessionStorage so the link need not travel further). Every word the script shows is rendered
into the page from the catalog (:mod:`web.meetings_strings`); times are shown in the browser's
own zone (``Intl``), and the zone is sent with each request so e-mails and ICS files match.
In demo mode each page also offers a demo delegate's and the demo exhibitor's link.
"""

from __future__ import annotations

from aiohttp import web

from rooms.pavilion import Pavilion
from web.keys import RENDERER_KEY, SETTINGS_KEY
from web.lobby import PAVILION_NAMES
from web.meetings_strings import client_strings, script_json
from web.page_access import trade_demo_links
from web.pages import html, request_language
from web.zones import iana_zones

PAGES = {"directory": "meetings_directory.html", "mine": "meetings_mine.html",
         "dashboard": "meetings_dashboard.html", "profile": "meetings_profile.html"}


async def _page(request: web.Request, page: str, **config: str) -> web.Response:
    lang = request_language(request)
    renderer = request.app[RENDERER_KEY]
    pavilions = [(p.value, renderer.gettext(lang, PAVILION_NAMES[p])) for p in Pavilion]
    settings = request.app[SETTINGS_KEY]
    body = renderer.render(
        PAGES[page], lang, pavilions=pavilions, demo=trade_demo_links(settings, lang),
        zones=iana_zones(), exhibitor=config.get("exhibitor", ""),
        config=script_json({"page": page, "api": "/api/meetings", "lang": lang,
                            "node": settings.node_id, **config}),
        strings=script_json(client_strings(renderer.catalogs, lang)))
    return html(request, body, lang)


async def directory(request: web.Request) -> web.Response:
    return await _page(request, "directory", exhibitor=request.query.get("exhibitor", "")[:128],
                       quote=request.query.get("quote", "")[:200])


async def mine(request: web.Request) -> web.Response:
    return await _page(request, "mine")


async def exhibitor_dashboard(request: web.Request) -> web.Response:
    return await _page(request, "dashboard", exhibitor=request.match_info["exhibitor"][:128])


async def exhibitor_profile(request: web.Request) -> web.Response:
    """Create or edit an exhibitor's profile (names, description, languages, time zone)."""
    return await _page(request, "profile", exhibitor=request.match_info["exhibitor"][:128])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/meetings", directory, name="meetings-directory")
    app.router.add_get("/meetings/mine", mine, name="meetings-mine")
    app.router.add_get("/meetings/dashboard/{exhibitor}", exhibitor_dashboard,
                       name="meetings-dashboard")
    app.router.add_get("/meetings/profile/{exhibitor}", exhibitor_profile,
                       name="meetings-profile")
