"""Live HLS from another node (issue 16 §3, docs/hls.md §4): fetched once, cached, coalesced.

A room's HLS lives in memory on its media node, the holder of the room's lease. Any other node
answers a viewer by fetching the same URL from that node (with :data:`HOP_HEADER`, so the holder
never forwards it again) and keeps what it got:

- media (init segments, segments, parts) never change once published: a bounded LRU by bytes
  (:data:`BLOB_BUDGET`), keyed by room and name;
- playlists change every part: kept :data:`PLAYLIST_FRESH_S`, keyed by the whole query (a
  blocking reload names its future state in ``_HLS_msn``/``_HLS_part``);
- requests for the same key while one is on its way share it: a thousand viewers blocked on
  the next part cost the media node one request. The shared fetch is a task the relay owns
  (a viewer that leaves does not cancel it for the others; :meth:`HlsRelay.aclose` does).

:class:`RoomCache` keeps the room records the gate reads for a second, so a viewer's many
requests a second do not each cost a state-store round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp

from rooms.errors import StoreUnavailable
from rooms.room import Room
from rooms.store import LeaseHolder, Store

HOP_HEADER = "X-Pavilion-Hop"
BLOB_BUDGET = 64 * 1024 * 1024
MAX_BODY = 16 * 1024 * 1024  # a segment is ~0.5 MB at 2 Mbit/s; anything larger is refused
PLAYLIST_FRESH_S = 0.25
HOLDER_FRESH_S = 1.0
ROOM_FRESH_S = 1.0
ROOM_STALE_S = 300.0
MAX_ROOMS = 4096
PASSED_ON = ("Retry-After",)


@dataclass(frozen=True, slots=True)
class Fetched:
    """An answer the door turns into a response (from the local feed or from the holder)."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    final: bool = False  # a playlist with EXT-X-ENDLIST: changes no more

    @classmethod
    def plain(cls, status: int, text: str, *, retry_after: int | None = None) -> Fetched:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return cls(status, (text + "\n").encode(), "text/plain; charset=utf-8", headers)


class RoomCache:
    """The gate's room records, each read from the Store at most once per :data:`ROOM_FRESH_S`.

    With the Store down (DESIGN.md §5: local rooms keep working) a record read within
    :data:`ROOM_STALE_S` still answers, so viewers of a room keep watching through a Redis
    outage; a room not read recently is ``StoreUnavailable`` (the door: 503)."""

    def __init__(self, load: Callable[[str], Awaitable[Room]]) -> None:
        self._load = load
        self._rooms: OrderedDict[str, tuple[float, Room]] = OrderedDict()

    async def get(self, room_id: str) -> Room:
        now = time.monotonic()
        held = self._rooms.get(room_id)
        if held is not None and now - held[0] < ROOM_FRESH_S:
            return held[1]
        try:
            room = await self._load(room_id)  # NoSuchRoom: the caller's
        except StoreUnavailable:
            if held is not None and now - held[0] < ROOM_STALE_S:
                return held[1]
            raise
        self._rooms[room_id] = (now, room)
        self._rooms.move_to_end(room_id)
        if len(self._rooms) > MAX_ROOMS:
            self._rooms.popitem(last=False)
        return room


class BlobCache:
    """An LRU of immutable answers bounded by their bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[tuple[str, str], Fetched] = OrderedDict()

    def get(self, key: tuple[str, str]) -> Fetched | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], value: Fetched) -> None:
        if len(value.body) > self.budget // 8 or key in self._items:
            return
        self._items[key] = value
        self.size += len(value.body)
        while self.size > self.budget:
            _, old = self._items.popitem(last=False)
            self.size -= len(old.body)


class HlsRelay:
    """Fetches a room's HLS from the node holding its media, for a node that does not."""

    def __init__(self, store: Store, *, timeout_s: float, budget: int = BLOB_BUDGET) -> None:
        self.store = store
        self.blobs = BlobCache(budget)
        self.upstream_requests = 0  # for tests and the benchmark: requests sent to holders
        self._playlists: dict[str, tuple[float, Fetched]] = {}
        self._holders: dict[str, tuple[float, LeaseHolder | None]] = {}
        self._inflight: dict[str, asyncio.Task[Fetched]] = {}
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=timeout_s, connect=3))

    async def fetch(self, room: str, name: str, query: str, *, node_id: str) -> Fetched:
        """``/hls/{room}/{name}?{query}`` as the room's media node answers it (or a plain
        404 when no node holds the room's media, 503 when it cannot be reached)."""
        playlist = name.endswith(".m3u8")
        cached = self._cached(room, name, query, playlist)
        if cached is not None:
            return cached
        try:
            holder = await self._holder(room)
        except StoreUnavailable:
            return Fetched.plain(503, "store_unavailable: try again shortly", retry_after=5)
        if holder is None or holder.node_id == node_id:
            return Fetched.plain(404, "no_live_hls: the room has no live HLS")
        url = f"{holder.node_url.rstrip('/')}/hls/{quote(room)}/{quote(name)}"
        key = url + "?" + query if playlist else url
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._get(url, query, node_id))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        fetched = await asyncio.shield(task)
        self._keep(room, name, query, playlist, fetched)
        return fetched

    def _cached(self, room: str, name: str, query: str, playlist: bool) -> Fetched | None:
        if not playlist:
            return self.blobs.get((room, name))
        held = self._playlists.get(f"{room}/{name}?{query}")
        if held is not None and time.monotonic() - held[0] < PLAYLIST_FRESH_S:
            return held[1]
        return None

    def _keep(self, room: str, name: str, query: str, playlist: bool, fetched: Fetched) -> None:
        if fetched.status != 200:
            return
        if not playlist:
            self.blobs.put((room, name), fetched)
            return
        now = time.monotonic()
        self._playlists = {k: v for k, v in self._playlists.items()
                           if now - v[0] < PLAYLIST_FRESH_S}  # stale ones go: stays small
        self._playlists[f"{room}/{name}?{query}"] = (now, fetched)

    async def _holder(self, room: str) -> LeaseHolder | None:
        now = time.monotonic()
        held = self._holders.get(room)
        if held is not None and now - held[0] < HOLDER_FRESH_S:
            return held[1]
        lease = await self.store.get_lease(room)
        holder = lease.holder if lease is not None else None
        if len(self._holders) >= MAX_ROOMS:
            self._holders.clear()
        self._holders[room] = (now, holder)
        return holder

    async def _get(self, url: str, query: str, node_id: str) -> Fetched:
        self.upstream_requests += 1
        try:
            async with self._http.get(url + ("?" + query if query else ""),
                                      headers={HOP_HEADER: node_id}) as up:
                body = await up.content.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    return Fetched.plain(503, "upstream_too_large: the media node's answer "
                                              "is too large", retry_after=1)
                headers = {k: v for k in PASSED_ON if (v := up.headers.get(k)) is not None}
                final = up.status == 200 and b"#EXT-X-ENDLIST" in body
                return Fetched(up.status, body, up.headers.get(
                    "Content-Type", "application/octet-stream"), headers, final)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Fetched.plain(503, f"upstream_unavailable: the room's media node did not "
                                      f"answer ({type(exc).__name__})", retry_after=1)

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        for task in list(self._inflight.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.close()
