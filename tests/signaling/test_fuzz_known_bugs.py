"""Bugs the fuzz test (tests/signaling/test_fuzz.py) found outside this task's files, pinned.

Each is a strict ``xfail``: it runs, shows the bug is still there, and fails once it is fixed, so
the marker (and the matching predicate the fuzz test uses to tell the known bug from a new one)
gets removed. Both are in streaming/ and turn a bad client input into ``internal_error``
instead of a clean refusal (``bad_offer``); the server keeps serving everyone else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiortc.sdp import candidate_from_sdp

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, RtcClient, make_room, token

SDPS = tuple(p.read_bytes().decode("utf-8")  # as captured: CRLF kept
             for p in sorted(Path("/work/shared/data/sdp").glob("*.sdp")))
CHROMIUM = next(sdp for sdp in SDPS if "a=sendonly" in sdp and "H264" in sdp)


def known_publish_crash(payload: object) -> bool:
    """The offer falls in the streaming/ bug the fuzz test found (the first xfail test below): some
    media section lacks exactly one ``a=mid`` and one sendonly/recvonly/inactive direction, or
    the session part carries them. Only such offers may still get ``internal_error``."""
    sdp = payload.get("sdp") if isinstance(payload, dict) else None
    if not isinstance(sdp, str):
        return False
    head, *sections = re.split(r"\r?\nm=", sdp)
    if sections and re.search(r"^a=(mid:|sendonly|recvonly|sendrecv|inactive)", head, re.M):
        return True
    return any(len(re.findall(r"^a=mid:", section, re.M)) != 1
               or len(re.findall(r"^a=(sendonly|recvonly|inactive)\r?$", section, re.M)) != 1
               for section in sections)


def known_candidate_crash(payload: object) -> bool:
    """The candidate falls in the second streaming/ bug the fuzz test found (the second xfail test):
    aiortc's ``candidate_from_sdp`` fails it with ``AssertionError``, which streaming/peer.py's
    ``add_candidate`` does not turn into a refusal."""
    text = payload.get("candidate") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        return False
    try:
        candidate_from_sdp(text.removeprefix("candidate:"))
    except AssertionError:
        return True
    except Exception:  # refused cleanly (bad_offer); internal_error for it is a new bug
        return False
    return False


def known_crash(event: str, payload: object) -> bool:
    return (event == "publish" and known_publish_crash(payload)) or (
        event == "candidate" and known_candidate_crash(payload))


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "streaming/ bug found by this fuzz test: a publish offer with a sendrecv section (here the "
    "captured Chromium offer without its a=sendonly) makes streaming/publisher.py answer() read "
    "the DTLS transport of a transceiver that has none (AttributeError), and the clean-up's "
    "pc.close() fails the same way: the client gets internal_error instead of bad_offer. "
    "Strict: this test fails once streaming/ is fixed, so the marker gets removed."))
async def test_a_publish_offer_with_a_sendrecv_section_is_refused_cleanly(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "expo", HOST))
    try:
        await client.ok("join", {"room": "expo"})
        offer = CHROMIUM.replace("a=sendonly\r\n", "", 1)
        assert known_publish_crash({"sdp": offer}) and not known_publish_crash({"sdp": CHROMIUM})
        reply = await client.call("publish", {"room": "expo", "sdp": offer})
        assert reply["ok"] or reply["error"]["code"] != "internal_error", reply
    finally:
        await client.close()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "streaming/ bug found by this fuzz test: a trickled candidate that aiortc's "
    "candidate_from_sdp rejects with AssertionError (not ValueError/IndexError, which "
    "streaming/peer.py add_candidate catches) becomes internal_error instead of bad_offer. "
    "Strict: this test fails once streaming/ is fixed, so the marker gets removed."))
async def test_a_malformed_candidate_on_a_real_peer_is_refused_cleanly(pavilion_app):
    app = await pavilion_app(demo=False)
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="host")
    client = await RtcClient.connect(app, token("host", "expo", HOST))
    try:
        await client.ok("join", {"room": "expo"})
        peer = (await client.ok("publish", {"room": "expo", "sdp": CHROMIUM}))["peer"]
        bad = "candidate:1 1 udp 2122260223 127.0.0.1 9 host"  # no "typ"
        assert known_candidate_crash({"candidate": bad})
        reply = await client.call("candidate", {"room": "expo", "peer": peer, "candidate": bad})
        assert reply["ok"] or reply["error"]["code"] != "internal_error", reply
    finally:
        await client.close()
