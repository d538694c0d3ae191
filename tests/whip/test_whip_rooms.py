"""WHIP/WHEP and the rooms: unknown rooms, ended rooms, and demo's create-on-first-publish."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from streaming.viewer import ViewerLeg
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.streaming.clients import Publisher, Viewer, until
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

SDP = {"Content-Type": "application/sdp"}


def headers(room: str, *grants: Grant) -> dict[str, str]:
    token = mint(TEST_SECRET, identity="obs", room=room, grants=grants, ttl_s=600)
    return {**SDP, "Authorization": f"Bearer {token}"}


@pytest.fixture
async def offer() -> AsyncIterator[str]:
    publisher = Publisher("vp8")
    try:
        yield await publisher.offer()
    finally:
        await publisher.close()


async def start(pavilion_app: Callable[..., Awaitable[RunningApp]], demo: bool) -> RunningApp:
    running = await pavilion_app(demo=demo)
    await running.app[BACKEND_KEY].store.create_room(
        Room(id="closed-show", kind=RoomKind.BROADCAST, pavilion=Pavilion.AUTOMOBILE,
             title=LocalizedText({"en": "Over"}), state=RoomState.ENDED))
    return running


async def post(running: RunningApp, path: str, offer: str, hdrs: dict[str, str]) -> Any:
    async with aiohttp.ClientSession() as http, http.post(
        running.url + path, data=offer, headers=hdrs
    ) as response:
        return response.status, await response.text()


async def test_unknown_room_is_404_for_whip_and_whep(
    pavilion_app: Callable[..., Awaitable[RunningApp]], offer: str
) -> None:
    running = await start(pavilion_app, demo=False)
    assert await post(running, "/whip/nowhere", offer, headers("nowhere", Grant.PUBLISH)) == (
        404, "no room 'nowhere' (no_such_room)\n")
    status, _ = await post(running, "/whep/nowhere", offer, headers("nowhere", Grant.SUBSCRIBE))
    assert status == 404
    status, _ = await post(running, "/whip/Bad%20Id", offer, headers("*", Grant.PUBLISH))
    assert status == 404


async def test_ended_room_is_403(
    pavilion_app: Callable[..., Awaitable[RunningApp]], offer: str
) -> None:
    running = await start(pavilion_app, demo=True)
    status, text = await post(running, "/whip/closed-show", offer,
                              headers("closed-show", Grant.PUBLISH, Grant.CREATE))
    assert (status, text) == (403, "the room has ended (room_ended)\n")


async def test_create_opens_a_live_broadcast_in_demo_mode_only(
    pavilion_app: Callable[..., Awaitable[RunningApp]], offer: str
) -> None:
    running = await start(pavilion_app, demo=False)
    status, _ = await post(running, "/whip/launch", offer, headers("launch", Grant.PUBLISH,
                                                                   Grant.CREATE))
    assert status == 404  # outside demo mode rooms come from the admin API
    assert await running.app[BACKEND_KEY].store.get_room("launch") is None

    demo = await start(pavilion_app, demo=True)
    status, _ = await post(demo, "/whip/launch", offer, headers("launch", Grant.PUBLISH))
    assert status == 404  # publish alone does not create
    status, _ = await post(demo, "/whip/launch", offer, headers("launch", Grant.PUBLISH,
                                                                Grant.CREATE))
    assert status == 201
    room = await demo.app[BACKEND_KEY].store.get_room("launch")
    assert room is not None and (room.kind, room.state, room.exhibitor) == (
        RoomKind.BROADCAST, RoomState.LIVE, "obs")


async def test_whep_plays_the_participant_it_names(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    running = await start(pavilion_app, demo=True)
    plane = running.app[MEDIA_KEY]
    publishers = []
    for name in ("alice", "bob"):
        publisher = Publisher("vp8")
        publishers.append(publisher)
        token = mint(TEST_SECRET, identity=name, room="stage", grants=[Grant.PUBLISH,
                     Grant.CREATE], ttl_s=600)
        status, answer = await post(running, "/whip/stage", await publisher.offer(),
                                    {**SDP, "Authorization": f"Bearer {token}"})
        assert status == 201, answer
        await publisher.accept(answer)
    viewer = Viewer()
    try:
        status, text = await post(running, "/whep/stage?participant=carol", await viewer.offer(),
                                  headers("stage", Grant.SUBSCRIBE))
        assert (status, text) == (404, "'carol' publishes nothing in this room (no_such_track)\n")
        status, answer = await post(running, "/whep/stage?participant=alice",
                                    await viewer.offer(), headers("stage", Grant.SUBSCRIBE))
        assert status == 201, answer
        await viewer.accept(answer)
        leg = next(p for p in plane.peers.values() if isinstance(p, ViewerLeg))
        await until(lambda: bool(leg.subscriptions))
        assert {source.source_id for source, _ in leg.subscriptions} == set(
            plane.sources_of("stage", "alice"))
    finally:
        for peer in (viewer, *publishers):
            await peer.close()


async def _session(running: RunningApp, path: str, offer: str,
                   hdrs: dict[str, str]) -> tuple[str, str]:
    async with aiohttp.ClientSession() as http, http.post(
        running.url + path, data=offer, headers=hdrs
    ) as response:
        assert response.status == 201, await response.text()
        return await response.text(), response.headers["Location"]


async def test_a_whip_session_holds_the_rooms_media_lease_until_it_ends(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    """Like a Socket.IO member, a WHIP/WHEP session keeps the room's media on this node (so
    other nodes send their clients here), and lets it go by DELETE or when its connection dies."""
    running = await start(pavilion_app, demo=True)
    store, node = running.app[BACKEND_KEY].store, running.settings.node_id
    hdrs = headers("obs-show", Grant.PUBLISH, Grant.CREATE)
    publisher = Publisher("vp8")
    answer, location = await _session(running, "/whip/obs-show", await publisher.offer(), hdrs)
    await publisher.accept(answer)
    lease = await store.get_lease("obs-show")
    assert lease is not None and lease.holder.node_id == node
    async with aiohttp.ClientSession() as http, http.delete(running.url + location,
                                                            headers=hdrs) as response:
        assert response.status == 200
    await until(lambda: "obs-show" not in running.app[BACKEND_KEY].service.leases)
    assert await store.get_lease("obs-show") is None
    await publisher.close()

    again = Publisher("vp8")  # this time the encoder just dies: no DELETE
    answer, _ = await _session(running, "/whip/obs-show", await again.offer(), hdrs)
    await again.accept(answer)
    assert (await store.get_lease("obs-show")) is not None
    plane = running.app[MEDIA_KEY]
    await until(lambda: any(p.pc.connectionState == "connected" for p in plane.peers.values()))
    await again.close()
    await until(lambda: "obs-show" not in running.app[BACKEND_KEY].service.leases, 30)
    assert await store.get_lease("obs-show") is None

    player = Viewer()  # a player early for the show: 404, and it holds nothing
    status, _ = await post(running, "/whep/obs-show", await player.offer(),
                           headers("obs-show", Grant.SUBSCRIBE))
    assert status == 404
    assert await store.get_lease("obs-show") is None
    await player.close()


@pytest.mark.redis
async def test_whip_during_a_redis_outage_is_503_and_the_node_serves_on(
    pavilion_app: Callable[..., Awaitable[RunningApp]], redis_factory: Any, offer: str
) -> None:
    """The room and its lease live in Redis: without it a publisher is told to retry shortly
    (503 + Retry-After), nothing is half-opened, and the node answers everything else."""
    server = redis_factory()
    running = await pavilion_app(demo=True, redis_url=server.url)
    hdrs = headers("obs-show", Grant.PUBLISH, Grant.CREATE)
    server.stop()
    async with aiohttp.ClientSession() as http:
        async with http.post(running.url + "/whip/obs-show", data=offer, headers=hdrs) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
        async with http.get(running.url + "/healthz") as response:
            assert response.status == 200
    assert not running.app[MEDIA_KEY].peers
    assert not running.app[BACKEND_KEY].service.leases
