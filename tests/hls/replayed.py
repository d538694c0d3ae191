"""A broadcast that went live with HLS and stopped, for the replay tests (issue 16 §5)."""

from __future__ import annotations

import asyncio

import m3u8

from rooms.recording import Recording
from tests.fixtures.pavilion import RunningApp
from tests.hls.door import Start, put_rooms, room
from tests.streaming.clients import publish, until
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

HLS = {"segment_s": 1.0, "part_s": 0.25}
EXHIBITOR = "exhibitor-co"


async def replay_of(app: RunningApp, room_id: str) -> Recording | None:
    found = await app.app[BACKEND_KEY].store.list_recordings(room=room_id)
    return next((r for r in found if r.hls), None)


async def broadcast_and_stop(start: Start, room_id: str = "show", *,
                             past_window: int = 2) -> tuple[RunningApp, Recording, int]:
    """A node with a live broadcast by a real aiortc H264 publisher that stops once the live
    playlist's window has moved ``past_window`` segments on; its replay record, registered by
    the node, and the first msn the live playlist listed last."""
    app = await start(demo=False, hls=HLS)
    await put_rooms(app, room(room_id))
    plane = app.app[MEDIA_KEY]
    publisher = await publish(plane, room_id, EXHIBITOR, codec="h264", size=(320, 240))
    await until(lambda: plane.hls(room_id) is not None)
    feed = plane.hls(room_id)
    assert feed is not None
    first = [0]

    def moved_on() -> bool:  # more segments than the live window keeps
        text = feed.playlist("v0.m3u8", low_latency=False)
        first[0] = m3u8.loads(text).media_sequence if text else 0
        return first[0] >= past_window

    await until(moved_on, within=40)
    await publisher.close()  # the broadcast stops: no video for 3 segments ends the feed
    await until(lambda: feed.ended, within=20)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while (replay := await replay_of(app, room_id)) is None:
        assert loop.time() < deadline, "no replay record"
        await asyncio.sleep(0.1)
    return app, replay, first[0]
