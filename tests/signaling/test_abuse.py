"""Bad input and floods: every bad message gets an error ack, a flooder is cut off, and the
server keeps serving everyone else. The hypothesis fuzz test over every event is test_fuzz.py."""

from __future__ import annotations

import asyncio

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token

LOOSE = {"events_per_second": 100_000.0, "event_burst": 100_000, "mailbox_size": 10_000}


async def test_bad_input_gets_error_acks_and_the_session_lives_on(pavilion_app):
    app = await pavilion_app(demo=False, signaling={"max_payload_bytes": 2_000})
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "hall", HOST))
    await client.ok("join", {"room": "hall"})
    cases = [
        ("no.such.event", {"room": "hall"}, "unknown_event"),
        ("chat.send", "just a string", "bad_payload"),
        ("chat.send", [1, 2], "bad_payload"),
        ("chat.send", {"room": "hall"}, "missing_field"),
        ("chat.send", {"room": "hall", "text": 5}, "bad_field"),
        ("chat.send", {"room": "hall", "text": "x" * 3_000}, "payload_too_large"),
        ("chat.send", {"room": "hall", "text": "a\x00b"}, "message_control_chars"),
        ("chat.send", {"room": "elsewhere", "text": "hi"}, "not_joined"),
        ("chat.history", {"room": "hall", "limit": 10_000}, "bad_field"),
        ("chat.history", {"room": "hall", "before": "nope"}, "bad_message_id"),
        ("join", {"room": "hall", "language": "xx"}, "bad_field"),
        ("publish", {"room": "hall", "sdp": "v=0\n" * 1_500}, "payload_too_large"),
        ("candidate", {"room": "hall", "peer": "nope", "candidate": "x"}, "no_such_peer"),
        ("reaction", {"room": "hall", "kind": "rocket"}, "bad_reaction"),
        ("chat.send", {"room": "hall", "text": {"deep": [[[[[[[[[[[1]]]]]]]]]]]}}, "bad_payload"),
    ]
    for event, payload, code in cases:
        reply = await client.call(event, payload)
        assert reply["ok"] is False and reply["error"]["code"] == code, (event, reply)
        assert "Traceback" not in reply["error"]["message"]
    await client.ok("chat.send", {"room": "hall", "text": "still here"})
    await client.close()


async def test_sdp_and_candidate_caps(pavilion_app):
    app = await pavilion_app(demo=False, media={"max_sdp_bytes": 1_000, "max_sdp_lines": 20})
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "hall", HOST))
    await client.ok("join", {"room": "hall"})
    big = await client.call("publish", {"room": "hall", "sdp": "a=" + "x" * 1_200})
    assert big["error"]["code"] == "sdp_too_large"
    lines = await client.call("publish", {"room": "hall", "sdp": "a=x\n" * 30})
    assert lines["error"]["code"] == "sdp_too_many_lines"
    await client.close()


async def test_a_flooding_client_is_disconnected_and_others_notice_nothing(pavilion_app):
    app = await pavilion_app(demo=False, signaling={"events_per_second": 20.0, "event_burst": 20})
    await make_room(app, "hall", RoomKind.BROADCAST, exhibitor="host")
    calm = await RtcClient.connect(app, token("calm", "hall", VIEWER))
    flood = await RtcClient.connect(app, token("flood", "hall", VIEWER))
    await calm.ok("join", {"room": "hall"})
    await flood.ok("join", {"room": "hall"})
    replies = await asyncio.gather(
        *(flood.call("chat.history", {"room": "hall"}, within=2) for _ in range(200)),
        return_exceptions=True)
    codes = {r["error"]["code"] for r in replies if isinstance(r, dict) and not r["ok"]}
    assert "event_rate_limited" in codes
    for _ in range(100):
        if not flood.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not flood.sio.connected
    await calm.wait_for("participant.left", lambda e: e["identity"] == "flood")
    await calm.ok("chat.send", {"room": "hall", "text": "fine here"})
    await calm.close()
