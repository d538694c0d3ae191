"""The live HLS door (issue 16 §3, docs/hls.md §4): ``GET|HEAD /hls/{room}/{name}``.

``index.m3u8`` is a room's entry playlist; every other name is relative to it (flat names,
:mod:`web.hls_request`). The feed (:class:`streaming.hls.feed.HlsFeed`) holds everything in
memory on the room's media node; this module asks the gate, parses, waits and sets headers:

- **The gate** (:func:`rooms.gate.decide_hls`): a public live room is open to anyone; other
  rooms need a signed link (``?exp=&u=&sig=``, :mod:`web.hls_signature`) that the page API
  hands to someone the gate let in (:func:`link`), signed for their identity. Every playlist
  request of a signed link asks the gate again (:func:`rooms.gate.decide_hls_viewer`): an
  identity removed from the room since is refused at its player's next reload; segments and
  parts are not asked again (immutable, cacheable). A refusal is 403 with a plain-text reason.
- **Blocking reload** (RFC 8216bis §6.2.5.2): ``_HLS_msn``/``_HLS_part`` wait up to three part
  targets plus one second for that part; 400 when it is too far ahead, 503 when it did not
  come. **Blocking preload hint** (§6.2.5.3): a part not complete yet is awaited likewise.
- **Caching**: media (init, segments, parts) never change: ``public, max-age=31536000,
  immutable``; playlists ``max-age=1``, a blocking reload's ``max-age=6`` (its URL names a
  future state, so any cache may keep the answer); strong ``ETag`` + ``If-None-Match`` on
  playlists; a private room's answers say ``private``. CORS ``*`` for public rooms.
- **One name, one content**: a room's next feed (the broadcast stopped and started again)
  names its segments from ``v0-0.m4s`` again, so every URI a playlist lists carries the
  feed's tag (``f=``, :class:`FeedTags`); media asked for with another feed's tag is 404.
  Caches (a CDN, :class:`web.hls_relay.HlsRelay`) key by the whole URL, so "immutable" holds.
- **Other nodes**: a node without the room's feed fetches from the room's media node
  (:class:`web.hls_relay.HlsRelay`: cached, coalesced) unless the request already came from
  a node (``X-Pavilion-Hop``).

Client input never gives a 5xx; a state-store outage is 503 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from aiohttp import web

from rooms import gate
from rooms.errors import NoSuchRoom, NotAllowed, StoreUnavailable
from rooms.room import ROOM_ID, Room
from streaming.hls.feed import PLAYLIST, HlsFeed
from web import hls_signature
from web.hls_relay import HOP_HEADER, Fetched, HlsRelay, RoomCache
from web.hls_request import BadAsk, HlsAsk, parse_ask
from web.http_api import access_token, api, reply
from web.keys import BACKEND_KEY, SETTINGS_KEY

IMMUTABLE = "max-age=31536000, immutable"
PLAYLIST_MAX_AGE_S = 1
BLOCKING_MAX_AGE_S = 6
STORE_RETRY_AFTER_S = 5
UPSTREAM_RETRY_AFTER_S = 1


class HlsFeeds(Protocol):
    """Where the door finds a room's feed on this node (the MediaPlane)."""

    def hls(self, room: str) -> HlsFeed | None: ...


class FeedTags:
    """A short random tag per feed object, for the ``f=`` every listed URI carries. Held by
    weak reference (a feed need not be hashable); dead feeds' tags are dropped."""

    MAX = 256

    def __init__(self) -> None:
        self._tags: dict[int, tuple[weakref.ref[HlsFeed], str]] = {}

    def of(self, feed: HlsFeed) -> str:
        held = self._tags.get(id(feed))
        if held is not None and held[0]() is feed:
            return held[1]
        if len(self._tags) >= self.MAX:
            self._tags = {k: v for k, v in self._tags.items() if v[0]() is not None}
        tag = secrets.token_hex(4)
        self._tags[id(feed)] = (weakref.ref(feed), tag)
        return tag


FEEDS_KEY: web.AppKey[HlsFeeds] = web.AppKey("hls_feeds")
TAGS_KEY = web.AppKey("hls_feed_tags", FeedTags)
RELAY_KEY = web.AppKey("hls_relay", HlsRelay)
ROOMS_KEY = web.AppKey("hls_rooms", RoomCache)


def blocking_timeout(part_s: float) -> float:
    """How long a blocking request may wait: three part targets and a second (RFC 8216bis
    §6.2.5.2 asks the server to answer within three target durations)."""
    return 3 * part_s + 1.0


def _text(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain",
                        charset="utf-8", headers=headers)


async def serve(request: web.Request) -> web.StreamResponse:
    room_id = request.match_info["room"]
    name = request.match_info.get("name", "index.m3u8")
    try:
        ask = parse_ask(name, request.query)
    except BadAsk as exc:
        return _text(400, f"{exc.code}: {exc}")
    if ask is None or ROOM_ID.fullmatch(room_id) is None:
        return _text(404, "no_such_name: no such HLS resource")
    try:
        room = await request.app[ROOMS_KEY].get(room_id)
        _check_link(request, room, ask)
        gate.decide_hls(room, linked=ask.signed)
        if ask.signed and ask.playlist:
            await _check_viewer(request, room, ask.viewer or "")
    except NoSuchRoom:
        return _text(404, "no_such_room: no such room")
    except NotAllowed as exc:
        return _text(403, f"{exc.code}: {exc.message}")
    except StoreUnavailable:
        return _text(503, "store_unavailable: try again shortly",
                     **{"Retry-After": str(STORE_RETRY_AFTER_S)})
    return await _answer(request, room, ask)


def _check_link(request: web.Request, room: Room, ask: HlsAsk) -> None:
    if not ask.signed:
        return
    why = hls_signature.check(request.app[SETTINGS_KEY].secret_value(), room.id,
                              ask.viewer or "", ask.exp or "", ask.sig or "", now=time.time())
    if why is not None:
        raise NotAllowed(why, "this link is not valid" if why == "bad_signature"
                         else "this link has expired; reload the page")


async def _check_viewer(request: web.Request, room: Room, identity: str) -> None:
    """The link's identity may still watch (banned since: 403). Its facts are read as the
    gate's other doors read them; with the Store down this is ``StoreUnavailable`` (503):
    a ban cannot be ruled out, so a private room's playlist is not handed out."""
    facts = await request.app[BACKEND_KEY].service.identity_facts(room.id, identity)
    gate.decide_hls_viewer(facts)


async def _answer(request: web.Request, room: Room, ask: HlsAsk) -> web.StreamResponse:
    feed = request.app[FEEDS_KEY].hls(room.id)
    if feed is None:
        fetched = await _from_holder(request, room)
    elif ask.playlist:
        fetched = await _playlist(request, feed, ask)
    else:
        fetched = await _blob(request, feed, ask)
    return _respond(request, room, ask, fetched)


async def _from_holder(request: web.Request, room: Room) -> Fetched:
    if request.headers.get(HOP_HEADER):
        return Fetched.plain(404, "no_live_hls: this node has no live HLS for the room")
    settings = request.app[SETTINGS_KEY]
    return await request.app[RELAY_KEY].fetch(room.id, request.match_info.get(
        "name", "index.m3u8"), request.query_string, node_id=settings.node_id)


async def _playlist(request: web.Request, feed: HlsFeed, ask: HlsAsk) -> Fetched:
    if ask.msn is not None:
        timeout = blocking_timeout(request.app[SETTINGS_KEY].hls.part_s)
        started = time.monotonic()
        if not await feed.ready(ask.name, ask.msn, ask.part, timeout):
            if time.monotonic() - started < timeout / 2:  # refused at once: too far ahead
                return Fetched.plain(400, "too_far_ahead: _HLS_msn is beyond the next "
                                          "two segments (RFC 8216bis 6.2.5.2)")
            return Fetched.plain(503, "not_yet: the part did not come in time; retry",
                                 retry_after=UPSTREAM_RETRY_AFTER_S)
    tag = "f=" + request.app[TAGS_KEY].of(feed)
    text = feed.playlist(ask.name, low_latency=ask.low_latency,
                         query=f"{ask.carry}&{tag}" if ask.carry else tag)
    if text is None:
        return Fetched.plain(404, "no_such_playlist: no such playlist")
    return Fetched(200, text.encode(), PLAYLIST, final=feed.ended)


async def _blob(request: web.Request, feed: HlsFeed, ask: HlsAsk) -> Fetched:
    if ask.feed is not None and ask.feed != request.app[TAGS_KEY].of(feed):
        return Fetched.plain(404, "feed_gone: this segment belongs to an earlier broadcast")
    blob = feed.blob(ask.name)
    if blob is None:  # a preload hint's part, still being written (RFC 8216bis 6.2.5.3)
        timeout = blocking_timeout(request.app[SETTINGS_KEY].hls.part_s)
        blob = await feed.wait_blob(ask.name, timeout)
    if blob is None:
        return Fetched.plain(404, "no_such_name: no such segment or part")
    return Fetched(200, blob.data, blob.content_type)


def _respond(request: web.Request, room: Room, ask: HlsAsk,
             fetched: Fetched) -> web.StreamResponse:
    headers = dict(fetched.headers)
    if fetched.status == 200:
        headers.update(_caching(room, ask, fetched))
        if ask.playlist and request.headers.get("If-None-Match") == headers["ETag"]:
            return web.Response(status=304, headers=headers)
    if room.kind in gate.OPEN_HLS_KINDS:
        headers["Access-Control-Allow-Origin"] = "*"
    headers["Content-Type"] = fetched.content_type
    headers["X-Content-Type-Options"] = "nosniff"
    return web.Response(status=fetched.status, body=fetched.body, headers=headers)


def _caching(room: Room, ask: HlsAsk, fetched: Fetched) -> dict[str, str]:
    scope = "public" if room.kind in gate.OPEN_HLS_KINDS else "private"
    if not ask.playlist:
        return {"Cache-Control": f"{scope}, {IMMUTABLE}"}
    age = BLOCKING_MAX_AGE_S if ask.msn is not None or fetched.final else PLAYLIST_MAX_AGE_S
    etag = '"' + hashlib.blake2b(fetched.body, digest_size=12).hexdigest() + '"'
    return {"Cache-Control": f"{scope}, max-age={age}", "ETag": etag}


def link(room: Room, identity: str, secret: str, ttl_s: int) -> str:
    """The HLS URL a page plays for ``room``: plain where the public may fetch it, else signed
    for ``identity`` (the caller asked the gate first: :func:`rooms.gate.decide_hls_link`)."""
    url = f"/hls/{room.id}/index.m3u8"
    if gate.hls_open(room):
        return url
    return url + "?" + hls_signature.signed_query(secret, room.id, identity, now=time.time(),
                                                  ttl_s=ttl_s)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    backend = app[BACKEND_KEY]
    app[ROOMS_KEY] = RoomCache(backend.service.room)
    app[TAGS_KEY] = FeedTags()
    relay = HlsRelay(backend.store, timeout_s=blocking_timeout(settings.hls.part_s) + 5)
    app[RELAY_KEY] = relay
    yield
    await relay.aclose()


async def page_link(request: web.Request) -> web.Response:
    """``GET /api/pages/rooms/{room}/hls`` (Bearer token): the URL the page's player opens,
    once the gate says the caller may receive the room's media (docs/hls.md §5)."""
    token = access_token(request)
    room_id = request.match_info["room"]
    service = request.app[BACKEND_KEY].service
    facts = await service.facts(token, room_id)
    gate.decide_hls_link(token, facts)
    settings = request.app[SETTINGS_KEY]
    return reply({"ok": True, "url": link(facts.room, token.identity, settings.secret_value(),
                                          settings.hls.link_ttl_s),
                  "open": gate.hls_open(facts.room),
                  "webrtc_timeout_s": settings.hls.webrtc_timeout_s})


class _NoFeeds:
    """A node that packages no HLS itself (before the plane is wired): every room is
    another node's, or none (404)."""

    def hls(self, room: str) -> HlsFeed | None:
        return None


def install(app: web.Application,
            feeds: Callable[[web.Application], HlsFeeds] | None = None) -> None:
    """Add the HLS routes; ``feeds(app)`` gives the plane once the app has started (a feed
    source already set under :data:`FEEDS_KEY` before start wins)."""

    async def wire(app: web.Application) -> AsyncIterator[None]:
        if FEEDS_KEY not in app:
            app[FEEDS_KEY] = feeds(app) if feeds is not None else _NoFeeds()
        async for _ in _lifetime(app):
            yield

    app.cleanup_ctx.append(wire)
    app.router.add_get("/hls/{room}/index.m3u8", serve)
    app.router.add_get("/hls/{room}/{name}", serve)
    app.router.add_get("/api/pages/rooms/{room}/hls", api(page_link))
