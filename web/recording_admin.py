"""Recordings over the admin API (issue 15 §5, docs/admin-api.md "Recordings").

The admin API's key check and error table apply (web/admin_api.py's guard: these routes are
under ``/api/admin``); each handler acts as the organiser token :data:`web.admin_api.ADMIN`
through the same desks and gate as the pages and Socket.IO.

- ``POST /api/admin/rooms/{room}/recordings`` → 201 ``{"id"}`` (a meeting without everyone's
  consent: 202 ``{"consent": "asked"}``);
- ``POST /api/admin/recordings/{id}/stop``, ``GET /api/admin/recordings?room=``,
  ``GET|PATCH|DELETE /api/admin/recordings/{id}``, ``POST .../finalise``;
- ``GET /api/admin/recordings/{id}/files/{name}``: the file (Range, ETag), from any node.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web

from rooms.errors import InvalidInput
from rooms.gate import Action
from rooms.recording import Recording, RecordingState
from rooms.replay_desk import ReplayDesk
from signaling.errors import SignalingError
from signaling.recording_link import RecordingLink, files_of
from signaling.recording_sweep import remove_files
from web import recording_files
from web.admin_api import ADMIN, PREFIX
from web.bodies import RecordingEdit
from web.http_api import body, error, reply
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.recording_json import admin_url, recording_json
from web.rtc import HUB_KEY

RECORDINGS = PREFIX + "/recordings"
UNAVAILABLE = {"media_full": 503, "media_unavailable": 503}


def _desk(request: web.Request) -> ReplayDesk:
    return ReplayDesk(request.app[BACKEND_KEY].service)


def _link(request: web.Request) -> RecordingLink:
    return request.app[HUB_KEY].recordings


def _json(request: web.Request, recording: Recording) -> dict[str, Any]:
    """The record; a running one here lists its files as they grow."""
    link = _link(request)
    if (recording.state is RecordingState.RECORDING and recording.node == link.node_id
            and link.plane is not None and link.plane.recording_of(recording.room) == recording.id):
        recording = replace(recording, files=files_of(link.plane.recording_files(recording.id)))
    return recording_json(recording, admin_url, operator=True)


def _refused(exc: SignalingError) -> web.Response:
    return error(UNAVAILABLE.get(exc.code, 409), exc.code, exc.message)


async def start(request: web.Request) -> web.Response:
    try:
        started = await _link(request).begin(ADMIN, request.match_info["room_id"])
    except SignalingError as exc:
        return _refused(exc)
    if "consent" in started:
        return reply(started, status=202)
    return reply({"id": started["recording"]["id"], **started}, status=201)


async def stop(request: web.Request) -> web.Response:
    recording, _ = await _desk(request).open(ADMIN, request.match_info["rec_id"], Action.MANAGE)
    if recording.state is not RecordingState.RECORDING:
        return error(409, "not_recording", "this recording is not running")
    try:
        stopped = await _link(request).halt(recording)
    except SignalingError as exc:
        return _refused(exc)
    return reply(_json(request, stopped))


async def listing(request: web.Request) -> web.Response:
    found = await _desk(request).visible(ADMIN, room=request.query.get("room") or None)
    return reply({"recordings": [_json(request, r) for r, _ in found]})


async def detail(request: web.Request) -> web.Response:
    recording, _ = await _desk(request).open(ADMIN, request.match_info["rec_id"])
    return reply(_json(request, recording))


async def edit(request: web.Request) -> web.Response:
    form = await body(request, RecordingEdit)
    recording = await _desk(request).edit(ADMIN, request.match_info["rec_id"], title=form.title,
                                          published=form.published)
    return reply(_json(request, recording))


async def delete(request: web.Request) -> web.Response:
    recording = await _desk(request).delete(ADMIN, request.match_info["rec_id"])
    if recording.node == request.app[SETTINGS_KEY].node_id:  # elsewhere: that node's sweep
        await remove_files(request.app[SETTINGS_KEY].recordings_dir, recording.id)
    return reply({"id": recording.id, "deleted": True})


async def finalise(request: web.Request) -> web.StreamResponse:
    """Remux an interrupted recording's files, on the node that holds them (asked over HTTP
    with the same key when that is another node)."""
    recording, _ = await _desk(request).open(ADMIN, request.match_info["rec_id"], Action.MANAGE)
    if recording.state is not RecordingState.INTERRUPTED:
        raise InvalidInput("not_interrupted", "only an interrupted recording is finalised")
    if recording.node != request.app[SETTINGS_KEY].node_id:
        return await _on_holder(request, recording)
    return reply(_json(request, await _link(request).finalise(recording)))


async def _on_holder(request: web.Request, recording: Recording) -> web.Response:
    url = await recording_files.holder_url(request, recording)
    headers = {"Authorization": request.headers.get("Authorization", "")}
    try:
        async with request.app[recording_files.HTTP_KEY].post(
                url.rstrip("/") + request.path, headers=headers) as answer:
            return web.Response(status=answer.status, body=await answer.read(),
                                content_type="application/json")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return error(503, "recording_unavailable", f"the node holding it did not answer: {exc}")


async def download(request: web.Request) -> web.StreamResponse:
    recording, _ = await _desk(request).open(ADMIN, request.match_info["rec_id"])
    return await recording_files.deliver(request, recording, request.match_info["name"])


def install(app: web.Application) -> None:
    router = app.router
    router.add_post(PREFIX + "/rooms/{room_id}/recordings", start)
    router.add_get(RECORDINGS, listing)
    router.add_get(RECORDINGS + "/{rec_id}", detail)
    router.add_patch(RECORDINGS + "/{rec_id}", edit)
    router.add_delete(RECORDINGS + "/{rec_id}", delete)
    router.add_post(RECORDINGS + "/{rec_id}/stop", stop)
    router.add_post(RECORDINGS + "/{rec_id}/finalise", finalise)
    router.add_get(RECORDINGS + "/{rec_id}/files/{name}", download)
