"""Recordings over the page API (issue 15 §5, docs/pages.md "Recordings").

- ``GET /api/pages/recordings?room=&pavilion=&mine=1``: published recordings of public rooms
  for anyone; with a token also what it may manage (``mine=1``: only that);
- ``GET /api/pages/recordings/{id}``: the record, ``files[].url`` signed for the caller;
- ``GET /api/pages/recordings/{id}/timeline``: chat and product cards at their offsets;
- ``PATCH`` (``{title?, published?}``) and ``DELETE /api/pages/recordings/{id}``: the room's
  exhibitor, its moderators, the organiser.

The token is optional on reads (``Authorization: Bearer``, or ``?access_token=``); every
decision is :class:`rooms.replay_desk.ReplayDesk`'s, which asks the gate.
"""

from __future__ import annotations

from aiohttp import web

from rooms.errors import InvalidInput
from rooms.pavilion import Pavilion
from rooms.replay_desk import ReplayDesk
from rooms.token import AccessToken
from signaling.recording_sweep import remove_files
from web.bodies import RecordingEdit
from web.http_api import access_token, api, body, reply
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.recording_json import recording_json, signed

PREFIX = "/api/pages/recordings"
NO_STORE = {"Cache-Control": "no-store"}


def _desk(request: web.Request) -> ReplayDesk:
    return ReplayDesk(request.app[BACKEND_KEY].service)


def _caller(request: web.Request) -> AccessToken | None:
    """The caller's token if they sent one (a bad one is refused, never ignored)."""
    if "Authorization" in request.headers or "access_token" in request.query:
        return access_token(request, from_query=True)
    return None


def _pavilion(raw: str) -> Pavilion | None:
    if not raw:
        return None
    try:
        return Pavilion(raw)
    except ValueError:
        raise InvalidInput("bad_pavilion", f"unknown pavilion {raw[:64]!r}") from None


async def list_recordings(request: web.Request) -> web.Response:
    query = request.query
    found = await _desk(request).visible(
        _caller(request), room=query.get("room") or None,
        pavilion=_pavilion(query.get("pavilion", "")), mine=query.get("mine") in ("1", "true"))
    url = signed(request.app[SETTINGS_KEY].secret_value())
    return reply({"ok": True, "recordings": [recording_json(r, url, room) for r, room in found]},
                 headers=NO_STORE)


async def get_recording(request: web.Request) -> web.Response:
    recording, room = await _desk(request).open(_caller(request), request.match_info["rec_id"])
    url = signed(request.app[SETTINGS_KEY].secret_value())
    return reply({"ok": True, "recording": recording_json(recording, url, room)},
                 headers=NO_STORE)


async def timeline(request: web.Request) -> web.Response:
    entries = await _desk(request).timeline(_caller(request), request.match_info["rec_id"])
    return reply({"ok": True, "entries": [e.to_dict() for e in entries]}, headers=NO_STORE)


async def edit_recording(request: web.Request) -> web.Response:
    token, form = access_token(request), await body(request, RecordingEdit)
    recording = await _desk(request).edit(token, request.match_info["rec_id"], title=form.title,
                                          published=form.published)
    url = signed(request.app[SETTINGS_KEY].secret_value())
    return reply({"ok": True, "recording": recording_json(recording, url)})


async def delete_recording(request: web.Request) -> web.Response:
    recording = await _desk(request).delete(access_token(request), request.match_info["rec_id"])
    if recording.node == request.app[SETTINGS_KEY].node_id:  # elsewhere: that node's sweep
        await remove_files(request.app[SETTINGS_KEY].recordings_dir, recording.id)
    return reply({"ok": True, "id": recording.id})


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(PREFIX, api(list_recordings))
    router.add_get(PREFIX + "/{rec_id}", api(get_recording))
    router.add_get(PREFIX + "/{rec_id}/timeline", api(timeline))
    router.add_patch(PREFIX + "/{rec_id}", api(edit_recording))
    router.add_delete(PREFIX + "/{rec_id}", api(delete_recording))
