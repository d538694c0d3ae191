"""The room pages: exhibitor studio, viewer, forum stage and meeting room (issue 6).

Each handler finds the room, works out who is visiting (:mod:`web.page_access`), and renders a
template with three things the page's ES module needs: the room's public facts, a JSON *config*
(room id, token, role, ICE servers) and the JSON *strings* of :mod:`web.page_strings` in the
visitor's language. A visitor who cannot enter (bad link, ended room, invitation only) gets the
same page with a translated sentence and no connection: never a raw code, never a stack trace.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from config import Language, Settings
from rooms.errors import StoreUnavailable
from rooms.room import Room, RoomKind, RoomState
from web import page_api
from web.interpret_page import interpreter
from web.interpret_strings import LANGUAGE_NAMES
from web.keys import BACKEND_KEY, RENDERER_KEY, SETTINGS_KEY
from web.lobby import KIND_NAMES, PAVILION_NAMES, host_name
from web.opening import opening_notice
from web.page_access import (
    VISITOR_COOKIE,
    VISITOR_COOKIE_MAX_AGE_S,
    Visitor,
    demo_links,
    is_host,
    meeting_link,
    refused,
    visitor_for,
)
from web.page_strings import ERRORS, FALLBACK_ERROR, client_strings
from web.pages import html, request_language

PAGE_OF_KIND = {RoomKind.BROADCAST: "watch", RoomKind.FORUM: "forum", RoomKind.MEETING: "meeting"}
TOKEN_MAX = 4_096


@dataclass(frozen=True, slots=True)
class RoomView:
    """What a template shows of a room, in the visitor's language."""

    id: str
    kind: str
    kind_label: str
    state: str
    title: str
    description: str
    exhibitor: str
    pavilion_name: str
    starts_at: str | None
    languages: tuple[str, ...] = ()  # issue 17: interpretation announced, each named in itself


def script_json(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>`` can end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


async def room_of(request: web.Request) -> Room:
    """The room of the page's path, or 404 (503 while the Store is unreachable)."""
    try:
        room = await request.app[BACKEND_KEY].store.get_room(request.match_info["room"])
    except StoreUnavailable:
        raise web.HTTPServiceUnavailable(text="the room store is unavailable") from None
    if room is None:
        raise web.HTTPNotFound()
    return room


async def _view(request: web.Request, room: Room, lang: Language) -> RoomView:
    gettext = request.app[RENDERER_KEY].gettext
    host = await host_name(request.app[BACKEND_KEY], room, lang)
    return RoomView(room.id, room.kind.value, gettext(lang, KIND_NAMES[room.kind]),
                    room.state.value, room.title.get(lang), room.description.get(lang),
                    host, gettext(lang, PAVILION_NAMES[room.pavilion]),
                    room.starts_at.isoformat() if room.starts_at else None,
                    tuple(LANGUAGE_NAMES[c] for c in room.interpretation if c in LANGUAGE_NAMES))


def _token_param(request: web.Request) -> str | None:
    token = request.query.get("token", "").strip()
    return token[:TOKEN_MAX] or None


def _visitor(request: web.Request, room: Room, lang: Language, *, staff_only: bool) -> Visitor:
    if room.state is RoomState.ENDED:
        return refused("room_ended")
    settings = request.app[SETTINGS_KEY]
    return visitor_for(settings, room, _token_param(request), staff_only=staff_only,
                       key=request.cookies.get(VISITOR_COOKIE))


def _config(settings: Settings, room: Room, visitor: Visitor, lang: Language) -> dict[str, Any]:
    return {
        "room": room.id, "kind": room.kind.value, "state": room.state.value, "lang": lang,
        "token": visitor.token, "identity": visitor.identity, "role": visitor.role,
        "moderates": visitor.moderates, "publishes": visitor.publishes, "minted": visitor.minted,
        "exhibitor": room.exhibitor, "namespace": "/rtc", "node": settings.node_id,
        "iceServers": [s.model_dump(exclude_none=True) for s in settings.ice_servers],
        # issue 16 §4: the page may fall back to the room's HLS (docs/hls.md §5)
        "hls": {"enabled": room.kind.value in settings.hls.kinds,
                "webrtcTimeoutS": settings.hls.webrtc_timeout_s,
                "seatRetryS": settings.hls.seat_retry_s},
    }


def language_links(request: web.Request) -> Any:
    """Language links that keep the rest of the query (a host's ``?token=`` must survive)."""
    def href(code: str) -> str:
        query = {k: v for k, v in request.query.items() if k != "lang"}
        return "?" + urlencode({**query, "lang": code})
    return href


async def render_room(request: web.Request, template: str, room: Room, visitor: Visitor,
                **extra: Any) -> web.Response:
    lang = request_language(request)
    renderer = request.app[RENDERER_KEY]
    settings = request.app[SETTINGS_KEY]
    error: str | None = None
    if visitor.opens_at is not None:  # a sound link, early: when it opens (it reloads then)
        error = opening_notice(renderer.catalogs, lang, visitor.opens_at, time.time())
    elif visitor.error is not None:
        error = renderer.gettext(lang, ERRORS.get(visitor.error, FALLBACK_ERROR))
    body = renderer.render(
        template, lang, room=await _view(request, room, lang), visitor=visitor, error=error,
        config_json=script_json(_config(settings, room, visitor, lang)),
        strings_json=script_json(client_strings(renderer.catalogs, lang)),
        demo=demo_links(settings, room), lang_href=language_links(request),
        script="rooms/" + template.replace(".html", ".js"), exhibitor_id=room.exhibitor,
        meet_href=meeting_link(settings, room.exhibitor, lang),
        opening=visitor.opens_at is not None, **extra)
    status = 200 if error is None else (410 if visitor.error == "room_ended" else 403)
    response = html(request, body, lang, status=status)
    response.headers["Cache-Control"] = "no-store"  # pages carry a personal token
    response.headers["Referrer-Policy"] = "no-referrer"
    if visitor.key is not None:  # the same visitor in every tab and after a reload
        response.set_cookie(VISITOR_COOKIE, visitor.key, max_age=VISITOR_COOKIE_MAX_AGE_S,
                            path="/", httponly=True, samesite="Lax", secure=request.secure)
    return response


def _expect(room: Room, kind: RoomKind, request: web.Request) -> None:
    """A room opened under another kind's page goes to its own page, query kept."""
    if room.kind is not kind:
        target = f"/{PAGE_OF_KIND[room.kind]}/{room.id}"
        if request.query_string:
            target += "?" + request.query_string
        raise web.HTTPFound(target)


Handler = Callable[[web.Request], Awaitable[web.Response]]


async def room_entry(request: web.Request) -> web.Response:
    """``/room/{room}``: the lobby's link; sends each kind of room to its page."""
    room = await room_of(request)
    target = f"/{PAGE_OF_KIND[room.kind]}/{room.id}"
    raise web.HTTPFound(target + ("?" + request.query_string if request.query_string else ""))


def _public_page(kind: RoomKind, template: str) -> Handler:
    """A room page anyone with access may open (viewer, forum, meeting): its kind is checked,
    the visitor's token read or minted, the page rendered in the visitor's language."""

    async def page(request: web.Request) -> web.Response:
        room = await room_of(request)
        _expect(room, kind, request)
        visitor = _visitor(request, room, request_language(request), staff_only=False)
        return await render_room(request, template, room, visitor)

    return page


watch = _public_page(RoomKind.BROADCAST, "watch.html")
forum = _public_page(RoomKind.FORUM, "forum.html")
meeting = _public_page(RoomKind.MEETING, "meeting.html")


async def studio(request: web.Request) -> web.Response:
    room = await room_of(request)
    if room.kind is not RoomKind.BROADCAST:
        raise web.HTTPNotFound()
    lang = request_language(request)
    visitor = _visitor(request, room, lang, staff_only=True)
    if visitor.error is None and not is_host(visitor):
        visitor = refused("not_host")
    settings = request.app[SETTINGS_KEY]
    return await render_room(request, "studio.html", room, visitor,
                       whip_url=f"{settings.base_url}/whip/{room.id}")


async def interpret(request: web.Request) -> web.Response:
    """The interpreter console (issue 17 §8): the gate decides who may open it."""
    room = await room_of(request)
    return await render_room(request, "interpret.html", room, await interpreter(request, room))


def add_routes(app: web.Application) -> None:
    """The pages and their JSON helpers; called once from :func:`web.app.create_app`."""
    app.router.add_get("/room/{room}", room_entry, name="room")
    app.router.add_get("/watch/{room}", watch, name="watch")
    app.router.add_get("/studio/{room}", studio, name="studio")
    app.router.add_get("/forum/{room}", forum, name="forum")
    app.router.add_get("/meeting/{room}", meeting, name="meeting")
    app.router.add_get("/interpret/{room}", interpret, name="interpret")  # issue 17
    page_api.add_routes(app)
