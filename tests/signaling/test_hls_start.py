"""A broadcast's HLS starts with its first video and ends with the room (issue 16 §1, §5):
real node, real Socket.IO clients, a real aiortc H264 publisher. The join ack says where the
room's HLS is (docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rooms.room import RoomKind
from tests.fixtures.pavilion import RunningApp
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import publish, until
from web.media import MEDIA_KEY

Start = Callable[..., Awaitable[RunningApp]]


async def test_a_broadcast_gets_hls_with_its_video_and_loses_it_with_the_room(
        pavilion_app: Start) -> None:
    app = await pavilion_app(hls={"segment_s": 1.0, "part_s": 0.25})
    plane = app.app[MEDIA_KEY]
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    await make_room(app, "talk", RoomKind.MEETING, exhibitor="gobi")
    viewer = await RtcClient.connect(app, token("ana", "show", VIEWER))
    before = await viewer.ok("join", {"room": "show"})
    assert (before["hls"], before["hls_url"]) == (False, None)  # no video yet
    assert (before["hls_enabled"], before["prefer_h264"]) == (True, True)  # studio_h264 default
    publisher = await publish(plane, "show", "gobi", codec="h264", size=(320, 240))
    meeting = await publish(plane, "talk", "gobi", codec="h264", size=(320, 240))
    await until(lambda: plane.hls("show") is not None)
    feed = plane.hls("show")
    assert feed is not None
    await until(lambda: feed.playlist("index.m3u8", low_latency=True) is not None)
    assert plane.hls("talk") is None  # meetings are not in [hls] kinds by default
    late = await RtcClient.connect(app, token("bo", "show", VIEWER))
    ack = await late.ok("join", {"room": "show"})
    assert (ack["hls"], ack["hls_url"]) == (True, "/hls/show/index.m3u8")
    host = await RtcClient.connect(app, token("gobi", "show", HOST))
    await host.ok("join", {"room": "show"})
    await host.ok("room.close", {"room": "show"})
    await until(lambda: feed.ended)
    assert plane.hls("show") is feed  # kept: the replay starts from its segments
    text = feed.playlist("v0.m3u8", low_latency=True) or ""
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    for client in (viewer, late, host):
        await client.close()
    await publisher.close()
    await meeting.close()
