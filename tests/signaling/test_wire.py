"""Room frames written straight to each websocket (web/rtc_frames.py): valid RFC 6455 frames, and
never ahead of what python-engineio still holds for the same client."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, NS, VIEWER, RtcClient, make_room, token
from web.rtc import SIO_KEY
from web.rtc_frames import message_frame, text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_text_frame_header_follows_rfc_6455(size: int) -> None:
    frame = text_frame(b"x" * size)
    assert frame[0] == 0x81  # FIN, text; RSV1 clear: not compressed
    assert frame[1] & 0x80 == 0  # a server never masks (RFC 6455 §5.1)
    if size < 126:
        assert frame[1] == size and len(frame) == 2 + size
    elif size < 65536:
        assert frame[1] == 126 and int.from_bytes(frame[2:4], "big") == size
    else:
        assert frame[1] == 127 and int.from_bytes(frame[2:10], "big") == size
    assert frame.endswith(b"x" * size)


def test_message_frame_is_an_engineio_message() -> None:
    assert message_frame('2/rtc,["batch",{}]') == text_frame(b'42/rtc,["batch",{}]')


async def _raw_client(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket")
    assert (await ws.receive_str()).startswith("0")
    await ws.send_str(f"40{NS}," + json.dumps({"token": token("raw", "hall", VIEWER)}))
    while not (await ws.receive_str()).startswith(f"40{NS},"):
        pass
    return ws


async def test_direct_frames_reach_a_browser_like_client_in_emit_order(pavilion_app):
    app = await pavilion_app(demo=False)
    sio = app.app[SIO_KEY]
    manager = sio.manager
    async with aiohttp.ClientSession() as http:
        ws = await _raw_client(http, app.url)  # negotiates permessage-deflate, as browsers do
        sid = next(iter(manager.rooms[NS][None]))  # the default room holds every client
        before = manager.direct
        for n in range(60):
            if n % 3 == 1:  # an emit with a callback goes through python-engineio's queue...
                await sio.emit("probe", {"n": n}, to=sid, namespace=NS, callback=lambda *a: None)
            else:  # ...and must never be overtaken by the direct writes around it
                await sio.emit("probe", {"n": n}, to=sid, namespace=NS)
        seen: list[int] = []
        while len(seen) < 60:
            text = await asyncio.wait_for(ws.receive_str(), 10)
            if text.startswith(f"42{NS},"):
                body = text[len(NS) + 3:]
                body = body[len(body) - len(body.lstrip("0123456789")):]
                name, payload = json.loads(body)
                assert name == "probe"
                seen.append(payload["n"])
        await ws.close()
    assert seen == list(range(60))
    assert manager.direct > before  # the fast path was taken where it could be


async def test_a_room_frame_decodes_in_the_python_socketio_client(pavilion_app):
    app = await pavilion_app(demo=False)
    manager = app.app[SIO_KEY].manager
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    viewer = await RtcClient.connect(app, token("viewer", "hall", VIEWER))
    await host.ok("join", {"room": "hall"})
    await viewer.ok("join", {"room": "hall"})
    before = manager.direct
    await host.ok("chat.send", {"room": "hall", "text": "直播 — привет"})
    message = await viewer.wait_for("chat.message")
    assert message["text"] == "直播 — привет"
    assert manager.direct > before
    await viewer.close()
    await host.close()
