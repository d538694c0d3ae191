"""What happens around a recording (issue 15 §3, §5, §6): the replay's timeline of chat and
pins, auto-recording when a room goes live, interrupted records at start-up, retention."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from rooms.recording import RecordingState
from rooms.room import RoomKind, RoomState
from rooms.store import Store
from rooms.token import verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.recordings.helpers import recorded, room, write_file
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from web.keys import BACKEND_KEY, HUB_KEY
from web.recordings import SWEEP_KEY

Start = Callable[..., Awaitable[RunningApp]]


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_timeline_has_chat_and_pins_at_their_offsets(pavilion_app: Start,
                                                           tmp_path: Path) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi", products=2)
    store = app.app[BACKEND_KEY].store
    host = await RtcClient.connect(app, token("gobi", "show", HOST))
    viewer = await RtcClient.connect(app, token("ana", "show", VIEWER))
    await host.ok("join", {"room": "show"})
    await viewer.ok("join", {"room": "show"})
    await viewer.ok("chat.send", {"room": "show", "text": "before the recording"})
    started = (await host.ok("record.start", {"room": "show"}))["recording"]
    sent = (await viewer.ok("chat.send", {"room": "show", "text": "你好 привет"}))["message"]
    await host.ok("product.pin", {"room": "show", "product": "p1"})
    await host.ok("product.unpin", {"room": "show", "product": "p1"})
    await _until(lambda: _holds(store, started["id"], 3), "the timeline got three entries")
    entries = [e.to_dict() for e in await store.read_timeline(started["id"])]
    assert [e["kind"] for e in entries] == ["chat", "pin", "unpin"]
    chat, pin, unpin = entries
    assert chat["text"] == "你好 привет" and chat["sender"] == "ana" and chat["id"] == sent["id"]
    assert chat["at_s"] == pytest.approx(sent["sent_at"] - started["started_at"], abs=0.01)
    assert 0 <= chat["at_s"] <= pin["at_s"] <= unpin["at_s"]
    assert pin["product_id"] == "p1" and pin["product"]["name"]["en"] == "Product 1"
    await host.ok("record.stop", {"room": "show"})
    await viewer.ok("chat.send", {"room": "show", "text": "after"})
    await asyncio.sleep(0.3)  # the writer's batch: nothing more may arrive
    assert len(await store.read_timeline(started["id"])) == 3
    await host.close()
    await viewer.close()


async def _holds(store: Store, rec_id: str, n: int) -> bool:
    return len(await store.read_timeline(rec_id)) >= n


async def test_a_broadcast_of_an_auto_kind_is_recorded_when_it_goes_live(
        pavilion_app: Start, tmp_path: Path) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path), "auto": ["broadcast"]})
    store = app.app[BACKEND_KEY].store
    await store.put_room(replace(room("show"), state=RoomState.SCHEDULED))
    async with aiohttp.ClientSession() as http, http.post(
            f"{app.url}/api/pages/rooms/show/live",
            headers={"Authorization": f"Bearer {token('gobi', 'show', HOST)}"}) as response:
        assert response.status == 200, await response.text()
    found = await store.list_recordings(room="show")
    assert [(r.state, r.started_by) for r in found] == [(RecordingState.RECORDING, "auto")]


@pytest.mark.redis
async def test_records_left_recording_by_a_dead_run_are_interrupted_at_start(
        pavilion_app: Start, redis_url: str, tmp_path: Path) -> None:
    from rooms.redis_store import RedisStore  # a second client: the store before the node runs

    before = RedisStore.from_url(redis_url)
    await before.put_room(room("show"))
    await before.put_recording(replace(recorded("rec_deadrun00000", "show", node="node-q"),
                                       state=RecordingState.RECORDING))
    await before.put_recording(replace(recorded("rec_otherrun0000", "show", node="node-gone"),
                                       state=RecordingState.RECORDING))
    await before.aclose()
    app = await pavilion_app(redis_url=redis_url, node_id="node-q",
                             recordings={"dir": str(tmp_path)})
    store = app.app[BACKEND_KEY].store
    for rec_id in ("rec_deadrun00000", "rec_otherrun0000"):
        found = await store.get_recording(rec_id)
        assert found is not None and found.state is RecordingState.INTERRUPTED, rec_id


async def test_retention_deletes_old_records_and_their_files(pavilion_app: Start,
                                                             tmp_path: Path) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path),
                                         "retention_days": {"broadcast": 30, "meeting": 0}})
    store, node = app.app[BACKEND_KEY].store, app.settings.node_id
    await store.put_room(room("show"))
    await store.put_room(room("talk", RoomKind.MEETING))
    old = time.time() - 31 * 86_400
    await store.put_recording(recorded("rec_old000000000", "show", node=node, at=old))
    await store.put_recording(recorded("rec_new000000000", "show", node=node, at=time.time()))
    await store.put_recording(recorded("rec_kept00000000", "talk", node=node, at=old,
                                       kind=RoomKind.MEETING))
    for rec_id in ("rec_old000000000", "rec_new000000000", "rec_kept00000000",
                   "rec_orphan000000", "rec_young0000000"):
        write_file(tmp_path, rec_id, "gobi.webm", 1_000)
    os.utime(tmp_path / "rec_orphan000000", (old, old))  # deleted on another node long ago
    await app.app[SWEEP_KEY].sweep()
    assert not (tmp_path / "rec_orphan000000").exists(), "a directory without a record"
    assert (tmp_path / "rec_young0000000").exists(), "its record may be on its way"
    assert await store.get_recording("rec_old000000000") is None
    assert not (tmp_path / "rec_old000000000").exists()
    assert (tmp_path / "rec_new000000000" / "gobi.webm").exists()
    assert await store.get_recording("rec_kept00000000") is not None, "0 days: kept forever"


async def test_a_clean_stop_of_the_node_finishes_its_recordings(tmp_path: Path) -> None:
    from aiohttp import web

    from tests.fixtures.pavilion import make_settings
    from web.app import create_app

    app = create_app(make_settings(recordings={"dir": str(tmp_path)}))
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        store = app[BACKEND_KEY].store
        await store.put_room(room("show"))
        host = token("gobi", "show", HOST)
        await app[HUB_KEY].recordings.begin(verify(TEST_SECRET, host), "show")
        [running] = await store.list_recordings(room="show")
        assert running.state is RecordingState.RECORDING
    finally:
        await runner.cleanup()
    [ended] = await store.list_recordings(room="show")
    assert ended.state is RecordingState.DONE and ended.ended_at is not None


async def test_a_recording_of_a_node_that_left_is_interrupted_and_the_room_told(
        pavilion_app: Start, tmp_path: Path) -> None:
    app = await pavilion_app(recordings={"dir": str(tmp_path)})
    store = app.app[BACKEND_KEY].store
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    viewer = await RtcClient.connect(app, token("ana", "show", VIEWER))
    await viewer.ok("join", {"room": "show"})
    await store.put_recording(replace(recorded("rec_leftnode0000", "show", node="node-left",
                                               at=time.time()),
                                      state=RecordingState.RECORDING))
    await app.app[SWEEP_KEY].sweep()
    told = await viewer.wait_for("room.recording", lambda p: p["recording"] is False)
    assert told == {"room_id": "show", "recording": False, "id": "rec_leftnode0000",
                    "reason": "interrupted"}
    found = await store.get_recording("rec_leftnode0000")
    assert found is not None and found.state is RecordingState.INTERRUPTED
    await viewer.close()


async def test_a_live_room_of_an_auto_kind_is_recorded_when_media_arrives(
        pavilion_app: Start, tmp_path: Path) -> None:
    from tests.streaming.clients import publish
    from web.media import MEDIA_KEY

    app = await pavilion_app(recordings={"dir": str(tmp_path), "auto": ["broadcast"]})
    store = app.app[BACKEND_KEY].store
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    await app.app[BACKEND_KEY].service.hold_media("show")  # as the publisher's WHIP would
    publisher = await publish(app.app[MEDIA_KEY], "show", "gobi")
    await _until(lambda: _recorded_by_auto(store, "show"), "recorded automatically")
    assert len(await store.list_recordings(room="show")) == 1, "one recording for two tracks"
    await publisher.close()


async def _recorded_by_auto(store: Store, room_id: str) -> bool:
    return [r.started_by for r in await store.list_recordings(room=room_id)] == ["auto"]
