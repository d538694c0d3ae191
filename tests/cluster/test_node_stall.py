"""A media node that stalls past its load report's life and comes back (issue 13, node loss).

Node A is a real ``pavilion serve`` process holding a broadcast (an aiortc WHIP publisher on
it); node B (in this process) has the room's members. A is frozen with ``SIGSTOP`` until B sees
its report expire (default timings: reports every 2 s, living 6 s), then thawed with
``SIGCONT``: it reports again, still holding the room's media. What members on B must hear
(signaling/media_return.py):

* one who joined while A looked dead got no tracks (a dead node's are not listed): without a
  sweep, B tells that member A's tracks when it sees A again, and nobody else;
* after a sweep (every member heard ``track.unpublished`` and ``participant.left`` for A's
  members), A records its tracks again and tells the room ``track.published``, and its keeper
  announces the members it wrote back (``participant.joined``): every member, old or new, lists
  them again.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.store import LeaseHolder
from rooms.token import Grant, mint
from tests.cluster.helpers import ids, wait_nodes
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.signaling.rtc_client import RtcClient, token
from tests.streaming.clients import Publisher
from web.keys import BACKEND_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
EXHIBITOR = "changbai-foods"
WITHIN_S = 15.0  # A reports at once when thawed; B looks every 2 s


async def _publishing_origin(redis_url: str, pavilion_process: Any, pavilion_app: Any,
                             http: aiohttp.ClientSession) -> tuple[Any, Any, Publisher]:
    origin = pavilion_process(env=node_env(redis_url, "node-a"))
    other = await pavilion_app(redis_url=redis_url, node_id="node-b",
                               cluster={"placement": "first"})
    await wait_nodes(other.url, lambda found: ids(found) == ["node-a", "node-b"])
    publisher = Publisher("vp8")
    headers = {"Authorization": "Bearer " + mint(TEST_SECRET, identity=EXHIBITOR, room=ROOM,
                                                 grants=[Grant.PUBLISH], ttl_s=600),
               "Content-Type": "application/sdp"}
    async with http.post(f"{origin.url}/whip/{ROOM}", data=await publisher.offer(),
                         headers=headers) as response:
        assert response.status == 201, await response.text()
        await publisher.accept(await response.text())
    store = other.app[BACKEND_KEY].store
    deadline = time.monotonic() + WITHIN_S
    while len((await store.get_tracks(ROOM) or ("", []))[1]) < 2:  # A recorded both
        assert time.monotonic() < deadline, await store.get_tracks(ROOM)
        await asyncio.sleep(0.1)
    return origin, other, publisher


async def _freeze_until_dead(origin: Any, other: Any) -> None:
    origin.proc.send_signal(signal.SIGSTOP)
    placer = other.app[BACKEND_KEY].service.placer
    deadline = time.monotonic() + 3 * WITHIN_S
    while await placer.alive("node-a"):
        assert time.monotonic() < deadline, "node-a's report never expired"
        await asyncio.sleep(0.1)


def _listed(client: RtcClient, joined: list[dict[str, Any]]) -> set[str]:
    """The exhibitor's sources this client believes published: its join's, then each event."""
    sources = {t["source"] for t in joined if t["participant"] == EXHIBITOR}
    for name, event in client.events:
        if name in ("track.published", "track.unpublished") and event["participant"] == EXHIBITOR:
            (sources.add if name == "track.published" else sources.discard)(event["source"])
    return sources


async def _member(node: Any, identity: str) -> tuple[RtcClient, dict[str, Any]]:
    """A member of the room on ``node``, and its join's state."""
    client = await RtcClient.connect(node, token(identity, ROOM))
    return client, await client.ok("join", {"room": ROOM})


def _presence(client: RtcClient) -> list[str]:
    """The exhibitor's presence events this client heard, in order."""
    return [name for name, event in client.events if name.startswith("participant.") and EXHIBITOR
            in (event.get("identity"), event.get("participant", {}).get("identity"))]


async def _until_listed(client: RtcClient, joined: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + WITHIN_S
    while len(_listed(client, joined)) != count:
        assert time.monotonic() < deadline, client.events
        await asyncio.sleep(0.1)


async def test_a_join_while_the_media_node_looked_dead_gets_its_tracks_when_it_is_back(
        redis_url: str, pavilion_process: Any, pavilion_app: Any) -> None:
    async with aiohttp.ClientSession() as http:
        origin, other, publisher = await _publishing_origin(redis_url, pavilion_process,
                                                            pavilion_app, http)
        early, state = await _member(other, "visitor-early")
        before = state["tracks"]
        assert len(_listed(early, before)) == 2
        store = other.app[BACKEND_KEY].store  # nobody may sweep A: the stall is short
        blocker = LeaseHolder("test-blocker", "http://127.0.0.1:9")
        assert (await store.claim_lease("sweep:node-a", blocker, ttl_s=120)).holder == blocker
        await _freeze_until_dead(origin, other)
        try:
            late, joined = await _member(other, "visitor-late")
            assert joined["tracks"] == [] and joined["media_node"] is None
        finally:
            origin.proc.send_signal(signal.SIGCONT)
        await _until_listed(late, joined["tracks"], 2)
        await asyncio.sleep(2.5)  # one more look of B's: nothing more to anyone
        assert len(late.seen("track.published")) == 2
        assert early.seen("track.published") == early.seen("track.unpublished") == []
        assert _presence(early) == []  # nobody swept A: nobody heard it leave
        assert "node-a stopped reporting" not in origin.output()
    for client in (early, late):
        await client.close()
    await publisher.close()


async def test_a_swept_media_node_that_comes_back_announces_its_tracks_again(
        redis_url: str, pavilion_process: Any, pavilion_app: Any) -> None:
    async with aiohttp.ClientSession() as http:
        origin, other, publisher = await _publishing_origin(redis_url, pavilion_process,
                                                            pavilion_app, http)
        early, state = await _member(other, "visitor-early")
        before = state["tracks"]
        await _freeze_until_dead(origin, other)
        try:
            await _until_listed(early, before, 0)  # B swept A: track.unpublished, twice
            store = other.app[BACKEND_KEY].store
            assert await store.get_tracks(ROOM) is None
            late, joined = await _member(other, "visitor-late")
            assert joined["tracks"] == []
        finally:
            origin.proc.send_signal(signal.SIGCONT)
        await _until_listed(early, before, 2)
        await _until_listed(late, joined["tracks"], 2)
        deadline = time.monotonic() + WITHIN_S  # the exhibitor was there after all
        while _presence(early)[-2:] != ["participant.left", "participant.joined"]:
            assert time.monotonic() < deadline, _presence(early)
            await asyncio.sleep(0.2)
        recorded = await store.get_tracks(ROOM)
        assert recorded is not None and recorded[0] == "node-a" and len(recorded[1]) == 2
        lease = await store.get_lease(ROOM)
        assert lease is not None and lease.holder.node_id == "node-a"
        assert "recorded and announced again" in origin.output()
    for client in (early, late):
        await client.close()
    await publisher.close()
