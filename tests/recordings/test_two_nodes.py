"""A recording asked for on one node runs on the node that serves the room's media (issue 15
§3): node B writes the record naming node A, A starts the recorder on B's order over the Bus,
stops it on B's order, and B serves the file by fetching it from A. Two real nodes, one real
redis-server, a real aiortc publisher."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from rooms.recording import RecordingState
from rooms.room import RoomKind
from tests.fixtures.pavilion import RunningApp
from tests.recordings.test_admin_end_to_end import ADMIN, KEY, ffprobe
from tests.signaling.rtc_client import make_room
from tests.streaming.clients import publish
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

Start = Callable[..., Awaitable[RunningApp]]


async def _until(check: Callable[[], Awaitable[bool] | bool], what: str,
                 within: float = 15) -> None:
    deadline = time.monotonic() + within
    while True:
        done = check()
        if done if isinstance(done, bool) else await done:
            return
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_start_and_stop_from_another_node_and_fetch_the_file_there(
        pavilion_app: Start, redis_url: str, tmp_path: Path) -> None:
    media = await pavilion_app(redis_url=redis_url, node_id="node-a", api_key=KEY,
                               recordings={"dir": str(tmp_path / "a")})
    other = await pavilion_app(redis_url=redis_url, node_id="node-b", api_key=KEY,
                               recordings={"dir": str(tmp_path / "b")})
    await make_room(media, "show", RoomKind.BROADCAST, exhibitor="gobi")
    await media.app[BACKEND_KEY].service.hold_media("show")  # as the publisher's WHIP would
    publisher = await publish(media.app[MEDIA_KEY], "show", "gobi")
    plane, store = media.app[MEDIA_KEY], other.app[BACKEND_KEY].store
    await _until(lambda: _listed(other, "node-a"), "node B sees node A")
    async with aiohttp.ClientSession(other.url, headers=ADMIN) as http:
        async with http.post("/api/admin/rooms/show/recordings") as started:
            assert started.status == 201, await started.text()
            rec_id = (await started.json())["id"]
        record = await store.get_recording(rec_id)
        assert record is not None and record.node == "node-a"
        await _until(lambda: plane.recording_of("show") == rec_id, "node A records")
        await asyncio.sleep(2.0)  # some media
        async with http.post(f"/api/admin/recordings/{rec_id}/stop") as asked:
            assert asked.status == 200, await asked.text()
        await _until(lambda: _done(other, rec_id), "node A stopped it on B's order")
        assert plane.recording_of("show") is None
        async with http.get(f"/api/admin/recordings/{rec_id}") as detail:
            files = (await detail.json())["files"]
        url = next(f["url"] for f in files if f["participant"] == "gobi")
        async with http.get(url, headers={"Range": "bytes=0-"}) as part:
            assert part.status == 206, await part.text()
            (tmp_path / "copy.webm").write_bytes(await part.read())
    assert float(ffprobe(tmp_path / "copy.webm")["format"]["duration"]) > 1.0
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    await publisher.close()


async def _listed(node: RunningApp, node_id: str) -> bool:
    return node_id in {n.node_id for n in await node.app[BACKEND_KEY].cluster.nodes()}


async def _done(node: RunningApp, rec_id: str) -> bool:
    found = await node.app[BACKEND_KEY].store.get_recording(rec_id)
    return found is not None and found.state is RecordingState.DONE
