"""A recording's files over HTTP, from any node (issue 15 §5, docs/recordings.md).

- ``GET /recordings/{id}/files/{name}?exp=&sig=``: a signed, expiring link
  (:mod:`web.file_signature`), or no signature at all for a published recording of a public
  room (the gate's :func:`~rooms.gate.decide_replay` with no token says yes). ``Range`` gives
  206, ``ETag``/``If-None-Match`` 304: aiohttp's ``FileResponse`` does both (RFC 9110 §14,
  §13.1.2), reading the file off the event loop.
- The admin API's ``/api/admin/recordings/{id}/files/{name}`` calls :func:`deliver` after its
  key check.

The files live on the node that recorded them (``Recording.node``). Another node fetches the
file from that node (its URL from the cluster's load reports) with a fresh short link, passes
``Range`` and the validators, and streams the answer back chunk by chunk: nothing is buffered
whole. A request that already came from a node (:data:`HOP_HEADER`) is never forwarded again,
so two nodes that disagree about a record cannot bounce a request between them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from rooms.errors import NoNodeAvailable, NoSuchRoom, NotAllowed
from rooms.gate import Action, decide_replay
from rooms.recording import Recording, RecordingFile, is_file_name
from rooms.replay_desk import ReplayDesk
from web import file_signature
from web.http_api import api
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.replay_hls import hls_file, signed_playlist

HOP_HEADER = "X-Pavilion-Hop"
HOP_TTL_S = 60
CHUNK = 64 * 1024
FORWARDED_REQUEST = ("Range", "If-Range", "If-None-Match", "If-Modified-Since")
FORWARDED_REPLY = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
                   "Last-Modified", "Cache-Control")
HTTP_KEY: web.AppKey[aiohttp.ClientSession] = web.AppKey("recording_http",
                                                          aiohttp.ClientSession)


async def serve(request: web.Request) -> web.StreamResponse:
    """The public route: a signed link, or a public recording's file without one."""
    rec_id, name = request.match_info["rec_id"], request.match_info["name"]
    recording = await ReplayDesk(request.app[BACKEND_KEY].service).get(rec_id)
    if "sig" in request.query or "exp" in request.query:
        secret = request.app[SETTINGS_KEY].secret_value()
        why = file_signature.check(secret, rec_id, name, request.query.get("exp", ""),
                                   request.query.get("sig", ""), now=time.time())
        if why is not None:
            raise NotAllowed(why, "this link is not valid" if why == "bad_signature"
                             else "this link has expired; open the recording again")
        if recording.hls and name.endswith(".m3u8"):  # what it lists, signed alike
            return await _signed_playlist(request, recording, name, int(request.query["exp"]))
    else:
        room = await request.app[BACKEND_KEY].service.room(recording.room)
        decide_replay(None, Action.WATCH, room, recording)
    return await deliver(request, recording, name)


async def deliver(request: web.Request, recording: Recording, name: str) -> web.StreamResponse:
    """The file of an already authorised request: from disk here, or from its node."""
    found = recording.file(name) if is_file_name(name) else None
    if found is None and recording.hls:
        found = hls_file(name)  # an HLS replay's playlists and segments (issue 16 §5)
    if found is None:
        raise NoSuchRoom(name, code="no_such_file", what="file")
    if recording.node == request.app[SETTINGS_KEY].node_id:
        return _local(request, recording, found)
    if request.headers.get(HOP_HEADER):
        raise NoSuchRoom(name, code="no_such_file", what="file")
    return await _forward(request, recording, found)


def _local(request: web.Request, recording: Recording, file: RecordingFile) -> web.FileResponse:
    path = request.app[SETTINGS_KEY].recordings_dir / recording.id / file.name
    if not path.is_file():
        raise NoSuchRoom(file.name, code="file_gone", what="file")
    return web.FileResponse(path, headers=_headers(file))


async def _signed_playlist(request: web.Request, recording: Recording, name: str,
                           exp: int) -> web.Response:
    """An HLS replay's playlist with every URI in it signed until ``exp`` (web/replay_hls.py),
    read here or fetched from the node that holds it."""
    found = hls_file(name)
    if found is None:
        raise NoSuchRoom(name, code="no_such_file", what="file")
    if recording.node == request.app[SETTINGS_KEY].node_id:
        path = request.app[SETTINGS_KEY].recordings_dir / recording.id / name
        try:
            text = await asyncio.to_thread(path.read_text)
        except OSError:
            raise NoSuchRoom(name, code="file_gone", what="file") from None
    elif request.headers.get(HOP_HEADER):
        raise NoSuchRoom(name, code="no_such_file", what="file")
    else:
        text = await _fetch_text(request, recording, name)
    secret = request.app[SETTINGS_KEY].secret_value()
    headers = {**_headers(found), "Cache-Control": "private, max-age=60"}
    return web.Response(text=signed_playlist(text, secret, recording.id, exp),
                        headers=headers)


async def _fetch_text(request: web.Request, recording: Recording, name: str) -> str:
    url = await holder_url(request, recording)
    link = file_signature.signed_url(request.app[SETTINGS_KEY].secret_value(), recording.id,
                                     name, now=time.time(), ttl_s=HOP_TTL_S)
    try:
        async with request.app[HTTP_KEY].get(
                url.rstrip("/") + link,
                headers={HOP_HEADER: request.app[SETTINGS_KEY].node_id}) as up:
            if up.status != 200:
                raise NoSuchRoom(name, code="file_gone", what="file")
            return await up.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _unreachable(f"the node holding this recording did not answer: {exc}") from exc


def _headers(file: RecordingFile) -> dict[str, str]:
    return {"Content-Type": file.media_type, "Cache-Control": "private, max-age=3600",
            "Content-Disposition": f'inline; filename="{file.name}"',
            "X-Content-Type-Options": "nosniff"}


async def _forward(request: web.Request, recording: Recording,
                   file: RecordingFile) -> web.StreamResponse:
    url = await holder_url(request, recording)
    secret = request.app[SETTINGS_KEY].secret_value()
    link = file_signature.signed_url(secret, recording.id, file.name, now=time.time(),
                                     ttl_s=HOP_TTL_S)
    headers = {k: v for k in FORWARDED_REQUEST if (v := request.headers.get(k)) is not None}
    headers[HOP_HEADER] = request.app[SETTINGS_KEY].node_id
    try:
        up = await request.app[HTTP_KEY].request(request.method, url.rstrip("/") + link,
                                                 headers=headers)  # GET or HEAD
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _unreachable(f"the node holding this recording did not answer: {exc}") from exc
    async with up:
        return await _relay(request, up)


async def _relay(request: web.Request, up: aiohttp.ClientResponse) -> web.StreamResponse:
    """Stream the holder's answer back; a holder that breaks off mid-file ends our answer
    short too (the client sees a short body and retries with ``Range``)."""
    response = web.StreamResponse(status=up.status, headers={
        k: v for k in FORWARDED_REPLY if (v := up.headers.get(k)) is not None})
    await response.prepare(request)
    try:
        async for chunk in up.content.iter_chunked(CHUNK):
            await response.write(chunk)
    except (aiohttp.ClientError, TimeoutError):
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


def _unreachable(message: str) -> NoNodeAvailable:
    return NoNodeAvailable(message, code="recording_unavailable")


async def holder_url(request: web.Request, recording: Recording) -> str:
    for node in await request.app[BACKEND_KEY].cluster.nodes():
        if node.node_id == recording.node:
            return node.url
    raise _unreachable(f"node {recording.node}, which holds this recording, is not running")


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    """The client that fetches files from other nodes; closed with the app."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=5,
                                                                  sock_read=30))
    app[HTTP_KEY] = session
    yield
    await session.close()


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(http_ctx)
    app.router.add_get("/recordings/{rec_id}/files/{name}", api(serve))
