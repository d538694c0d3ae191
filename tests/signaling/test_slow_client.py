"""A client that stops reading its socket is cut off instead of growing the node's memory, and
loses nothing: it resumes its session and fetches the chat it missed."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, NS, VIEWER, RtcClient, make_room, token
from web.rtc import SIO_KEY

BIG = {"chat_max_chars": 60_000, "max_payload_bytes": 100_000, "chat_per_second": 1_000.0,
       "chat_burst": 1_000, "events_per_second": 1_000.0, "event_burst": 1_000}


async def _stalled_viewer(http: aiohttp.ClientSession, url: str) -> tuple[object, str, str]:
    """Connect and join over a raw websocket, then never read again."""
    ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket")
    assert (await ws.receive_str()).startswith("0")
    await ws.send_str(f"40{NS}," + json.dumps({"token": token("slow", "hall", VIEWER)}))
    session = ""
    while not session:
        text = await ws.receive_str()
        if text.startswith(f"42{NS},"):
            name, payload = json.loads(text[len(NS) + 3:])
            session = payload["session"] if name == "session" else ""
    await ws.send_str(f"42{NS},1" + json.dumps(["join", {"room": "hall"}]))
    while not (await ws.receive_str()).startswith(f"43{NS},1"):
        pass
    return ws, session, "slow"


async def test_a_stalled_client_is_cut_off_and_resumes_without_losing_chat(pavilion_app):
    app = await pavilion_app(demo=False, signaling=BIG)
    manager = app.app[SIO_KEY].manager
    manager.max_backlog = 4  # packets queued in python-engineio
    manager.max_buffer_bytes = 256 * 1024  # bytes unread after a direct write
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "hall", HOST))
    state = await host.ok("join", {"room": "hall"})
    async with aiohttp.ClientSession() as http:
        ws, session, _ = await _stalled_viewer(http, app.url)
        first = await host.ok("chat.send", {"room": "hall", "text": "before"})
        sent = []
        for n in range(2_000):
            if manager.lagging:
                break
            sent.append(await host.ok("chat.send", {"room": "hall", "text": f"{n:04d}" * 4_000}))
            await asyncio.sleep(0.005)
        assert manager.lagging == 1
        await ws.close()
    assert state["waiting"] is False
    back = await RtcClient.connect(app, token("slow", "hall", VIEWER), session=session)
    assert back.session["resumed"] is True
    resumed = await back.ok("join", {"room": "hall", "after": first["message"]["id"]})
    missed, more = resumed["chat"], resumed["chat_more"]
    while more:
        page = await back.ok("chat.history", {"room": "hall", "after": missed[-1]["id"],
                                              "limit": 100})
        missed += page["messages"]
        more = bool(page["messages"])
    assert [m["id"] for m in missed] == [m["message"]["id"] for m in sent]
    assert host.seen("participant.left") == []
    await back.close()
    await host.close()
