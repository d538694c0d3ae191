"""The RTMP door on a real node (issue 16 §8): what reaches the plane, what closes; the server
keeps serving everyone else after any hostile client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint, verify
from signaling.room_events import enforce
from tests.fixtures.pavilion import TEST_SECRET
from tests.fixtures.ports import free_port
from tests.rtmp.client import RtmpClient
from tests.rtmp.encoder import ffmpeg_publish, stop
from tests.streaming.clients import until
from web.keys import BACKEND_KEY, HUB_KEY
from web.media import MEDIA_KEY
from web.rtmp_ingest import RTMP_KEY

pytestmark = pytest.mark.slow


def token(*grants: Grant, identity: str = "hall-camera", room: str = "expo") -> str:
    return mint(TEST_SECRET, identity=identity, room=room,
                grants=grants or (Grant.JOIN, Grant.PUBLISH), ttl_s=3600)


@pytest.fixture
async def node(pavilion_app: Callable[..., Awaitable[Any]]) -> AsyncIterator[Any]:
    running = await pavilion_app(demo=False, rtmp_port=free_port())
    await running.app[BACKEND_KEY].store.create_room(
        Room(id="expo", kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
             title=LocalizedText({"en": "expo"}), exhibitor="hall-camera",
             state=RoomState.LIVE))
    running.port = running.settings.rtmp_port
    yield running


@pytest.mark.parametrize("order", ["kick", "mute", "end"])
async def test_an_rtmp_publish_is_a_visit_the_room_can_stop(node: Any, order: str) -> None:
    """A kick (the person leaves), a mute (they stop sending) or the room's end hangs up the
    encoder."""
    plane, hub = node.app[MEDIA_KEY], node.app[HUB_KEY]
    encoder = await ffmpeg_publish(f"rtmp://127.0.0.1:{node.port}/live/{token()}")
    await until(lambda: "video" in plane.live_sources("expo"), 20)
    (visit,) = hub.door.visits.values()
    assert (visit.kind, visit.room, visit.identity) == ("rtmp", "expo", "hall-camera")
    assert await hub.store.get_participant("expo", "hall-camera") is not None  # present
    moderator = verify(TEST_SECRET, token(Grant.JOIN, Grant.MODERATE, identity="mod"))
    if order == "kick":
        event = await hub.service.kick(moderator, "expo", "hall-camera")
    elif order == "mute":
        event = await hub.service.mute(moderator, "expo", "hall-camera", True)
    else:
        event = await hub.service.set_state(moderator, "expo", RoomState.ENDED)
    await enforce(hub, [event])
    assert await asyncio.wait_for(encoder.wait(), 15) is not None  # the server hung up
    await until(lambda: not plane.live_sources("expo") and not plane.locals, 10)
    assert not hub.door.visits


async def test_a_reconnecting_encoder_takes_over_its_sources(node: Any) -> None:
    """OBS reconnects before its old connection timed out: the new publish continues the same
    Sources (viewers keep their tracks) and the old connection is hung up."""
    plane, hub = node.app[MEDIA_KEY], node.app[HUB_KEY]
    url = f"rtmp://127.0.0.1:{node.port}/live/{token()}"
    first = await ffmpeg_publish(url)
    await until(lambda: "video" in plane.live_sources("expo"), 20)
    video = plane.live_sources("expo")["video"]
    second = await ffmpeg_publish(url)
    assert await asyncio.wait_for(first.wait(), 15) is not None  # hung up
    await until(lambda: len(plane.locals) == 1 and len(hub.door.visits) == 1, 10)
    packets = video.packets
    await until(lambda: video.packets > packets + 30, 10)  # fed by the second encoder
    assert plane.live_sources("expo")["video"] is video and not video.ended.is_set()
    await stop(second)
    await until(lambda: video.ended.is_set() and not plane.locals and not hub.door.visits, 10)


async def test_unsupported_codecs_are_refused_with_onstatus(node: Any) -> None:
    client = await RtmpClient.connect(node.port)
    assert (await client.publish(token()))["code"] == "NetStream.Publish.Start"
    await client.send(9, 0, b"\x90hvc1\x00\x00\x00")  # Enhanced RTMP HEVC
    status = await client.status()
    assert status["code"] == "NetStream.Publish.Rejected"
    assert "enhanced RTMP video (hvc1) is not supported" in status["description"]
    assert await client.closed()
    await client.close()
    plane = node.app[MEDIA_KEY]
    await until(lambda: not plane.locals and not node.app[HUB_KEY].door.visits, 10)


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # a browser at the wrong port
    b"\x03" + b"\x00" * 1536 + b"\x00" * 1536 + b"\xff" * 400,  # junk chunks
    b"\x03" + b"\x00" * 3072 + b"\x04\x00\x00\x00\x7f\xff\xff\x09\x01\x00\x00\x00",  # 8 MiB msg
])
async def test_garbage_closes_that_connection_only(node: Any, garbage: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
    writer.write(garbage)
    await writer.drain()
    client = RtmpClient(reader, writer)
    assert await client.closed()
    await client.close()
    encoder = await ffmpeg_publish(f"rtmp://127.0.0.1:{node.port}/live/{token()}", seconds=5)
    plane = node.app[MEDIA_KEY]
    await until(lambda: "video" in plane.live_sources("expo"), 20)  # still serving
    await stop(encoder)


async def test_slow_and_surplus_connections_are_closed(node: Any) -> None:
    server = node.app[RTMP_KEY]
    server.setup_timeout_s = 0.5  # slowloris: a handshake and a publish within this
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
    writer.write(b"\x03")  # one byte, then nothing
    slow = RtmpClient(reader, writer)
    assert await slow.closed(5)
    server.setup_timeout_s = 10.0
    server.max_connections = 2
    held = [await RtmpClient.connect(node.port) for _ in range(2)]
    surplus = RtmpClient(*await asyncio.open_connection("127.0.0.1", node.port))
    assert await surplus.closed(5)
    await surplus.close()
    assert server.refused_connections == 1
    for client in held:
        await client.close()
    await slow.close()
