"""A Socket.IO payload that is not JSON, or is nested past any sane depth, is acknowledged
``bad_json`` (docs/protocol.md): no traceback in the log, the session lives on (issue 11)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
import socketio

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, RtcClient, make_room, token
from web import rtc_json

DEEP = 30_000


@dataclass(frozen=True)
class Raw:
    """A payload to send as this exact JSON text (the library would refuse to encode it)."""

    text: str


class _RawJson:
    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        if isinstance(obj, list) and len(obj) == 2 and isinstance(obj[1], Raw):
            return f'["{obj[0]}",{obj[1].text}]'
        if isinstance(obj, Raw):
            return obj.text
        return socketio.packet.Packet.json.dumps(obj, **kwargs)  # type: ignore[no-any-return]

    @staticmethod
    def loads(text: str, **kwargs: Any) -> Any:
        return socketio.packet.Packet.json.loads(text, **kwargs)


class RawPacket(socketio.packet.Packet):  # type: ignore[misc]
    json = _RawJson


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("text", [nested(DEEP), '{"room": "hall", "text": [' + nested(DEEP) + "]}",
                                  nested(40), '{"room": "hall", "text": ', "[1, 2,, 3]"])
async def test_undecodable_payloads_are_acked_bad_json_without_a_traceback(
        pavilion_app: Any, caplog: pytest.LogCaptureFixture, text: str) -> None:
    caplog.set_level(logging.DEBUG)
    app = await pavilion_app(demo=False)
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "hall", HOST), packet_class=RawPacket)
    await client.ok("join", {"room": "hall"})
    caplog.clear()
    reply = await client.call("chat.send", Raw(text), within=10)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_json", reply
    assert not [r for r in caplog.records if r.exc_info], "no traceback is logged"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    await client.ok("chat.send", {"room": "hall", "text": "still here"})
    await client.close()


def test_loads_recovers_the_event_name_or_uses_a_placeholder() -> None:
    deep = nested(DEEP)
    [event, sentinel] = rtc_json.loads(f'["chat.send",{deep}]')
    assert event == "chat.send" and "deeper" in sentinel.reason
    assert rtc_json.loads(deep)[0] == rtc_json.UNKNOWN_EVENT
    assert isinstance(rtc_json.loads('{"token": ' + deep + "}"), type(sentinel))
    assert rtc_json.loads('["join",{"room":"hall"}]') == ["join", {"room": "hall"}]
    assert rtc_json.loads(nested(32)) == rtc_json.json_body.loads(nested(32))


async def test_a_connect_with_undecodable_auth_is_refused_without_a_traceback(
        pavilion_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = await pavilion_app(demo=False)
    client = RtcClient()
    client.sio.packet_class = RawPacket
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.sio.connect(app.url, namespaces=["/rtc"], transports=["websocket"],
                                 auth=Raw('{"token": ' + nested(DEEP) + "}"), wait_timeout=5)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith(("web", "socketio",
                                                                                "engineio"))]
    assert "RecursionError" not in caplog.text
    await client.sio.disconnect()
