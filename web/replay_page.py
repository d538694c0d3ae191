"""``GET /replay/{id}``: the replay of a recording (issue 15 §6, docs/recordings.md §5).

The handler asks the one gate (:class:`rooms.replay_desk.ReplayDesk`) whether this visitor may
watch the recording (docs/recordings.md §3: a published recording of a public room for anyone;
otherwise a token, ``?token=`` as on the room pages, of the room's exhibitor or a moderator, or
the organiser's), and renders the page with the facts a reader needs (title, room, pavilion,
date, duration). The page's script then fetches the record
with its signed file URLs and the timeline from the page API, with the same token.

A refusal never says whether the recording exists: an unknown id, a bad token and a recording
not for this visitor are the same translated "not found" page (404); a Store that is down is
the translated "unavailable" page (503). Never a 5xx for what the visitor sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from config import Language, Settings
from rooms.errors import RoomsError, StoreUnavailable
from rooms.recording import Recording
from rooms.replay_desk import ReplayDesk
from rooms.room import Room
from rooms.token import AccessToken, TokenError, verify
from web.keys import BACKEND_KEY, RENDERER_KEY, SETTINGS_KEY
from web.lobby import PAVILION_NAMES, host_name
from web.page_strings import client_strings
from web.pages import html, request_language
from web.replays import clock
from web.room_pages import TOKEN_MAX, language_links, script_json


@dataclass(frozen=True, slots=True)
class ReplayView:
    """What the replay template shows, in the visitor's language."""

    id: str
    title: str
    room_title: str
    pavilion_name: str
    exhibitor: str
    started_at: str
    started_at_utc: str
    duration: str


class Refused(Exception):
    """The visitor may not watch (or there is nothing to watch): the not-found page."""


def _access(settings: Settings, token: str) -> AccessToken | None:
    """The visitor's verified token, ``None`` without one; a bad one refuses."""
    if not token:
        return None
    try:
        return verify(settings.secret_value(), token, leeway_s=settings.token_leeway_s)
    except TokenError:
        raise Refused from None


async def _watchable(request: web.Request, token: str) -> tuple[Recording, Room]:
    """The recording and its room, if this visitor may watch it: the one gate decides
    (:meth:`rooms.replay_desk.ReplayDesk.open`); any refusal is :class:`Refused`."""
    access = _access(request.app[SETTINGS_KEY], token)
    desk = ReplayDesk(request.app[BACKEND_KEY].service)
    try:
        return await desk.open(access, request.match_info["id"])
    except StoreUnavailable:
        raise
    except RoomsError:
        raise Refused from None


async def _view(request: web.Request, recording: Recording, room: Room,
                lang: Language) -> ReplayView:
    gettext = request.app[RENDERER_KEY].gettext
    room_title = room.title.get(lang)
    started = datetime.fromtimestamp(recording.started_at, UTC)
    return ReplayView(
        id=recording.id, title=recording.title or room_title, room_title=room_title,
        pavilion_name=gettext(lang, PAVILION_NAMES[room.pavilion]),
        exhibitor=await host_name(request.app[BACKEND_KEY], room, lang),
        started_at=started.isoformat(), started_at_utc=started.strftime("%Y-%m-%d %H:%M UTC"),
        duration=clock(recording.duration_s))


def _config(recording: Recording, room: Room, token: str, lang: Language,
            names: dict[str, str]) -> dict[str, Any]:
    return {"recording": recording.id, "room": recording.room, "lang": lang,
            "token": token or None, "host": room.exhibitor, "exhibitor": room.exhibitor,
            "names": names}


async def replay(request: web.Request) -> web.Response:
    lang = request_language(request)
    renderer = request.app[RENDERER_KEY]
    token = request.query.get("token", "").strip()[:TOKEN_MAX]
    try:
        recording, room = await _watchable(request, token)
    except Refused:
        return html(request, renderer.render("not_found.html", lang), lang, status=404)
    except StoreUnavailable:
        return html(request, renderer.render("unavailable.html", lang), lang, status=503)
    view = await _view(request, recording, room, lang)
    names = {room.exhibitor: view.exhibitor} if room.exhibitor else {}
    body = renderer.render(
        "replay.html", lang, replay=view,
        config_json=script_json(_config(recording, room, token, lang, names)),
        strings_json=script_json(client_strings(renderer.catalogs, lang)),
        lang_href=language_links(request))
    response = html(request, body, lang)
    response.headers["Cache-Control"] = "no-store"  # a page opened with a token carries it
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/replay/{id}", replay, name="replay")
