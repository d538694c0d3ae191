"""WHIP and WHEP over real HTTP against the whole app, with real aiortc peers (black box)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from tests.data import SDP_DIR
from tests.fixtures.pavilion import TEST_SECRET
from tests.fixtures.ports import media_mode
from tests.streaming.clients import Publisher, Viewer, clip, contiguous, until
from tests.streaming.test_udp_mux import host_ports
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

GSTREAMER = (SDP_DIR / "gstreamer-1.22-webrtcbin-whip-h264-offer.sdp").read_text()


def token(room: str = "expo", *grants: Grant, identity: str = "obs", ttl: int = 6 * 3600) -> str:
    return mint(
        TEST_SECRET, identity=identity, room=room, grants=grants or (Grant.PUBLISH,), ttl_s=ttl
    )


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


SDP = {"Content-Type": "application/sdp"}
ROOMS = ("expo", "other")


@pytest.fixture
async def node(pavilion_app: Callable[..., Awaitable[Any]],
               request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    ice = [{"urls": ["stun:stun.example.net:3478"]}]
    mode = getattr(request, "param", "per_peer")  # issue 19: "port" puts every peer on one
    running = await pavilion_app(demo=True, ice_servers=ice, media=media_mode(mode))
    for room in ROOMS:  # WHIP and WHEP need an existing room (tests/whip/test_whip_rooms.py)
        await running.app[BACKEND_KEY].store.create_room(
            Room(id=room, kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                 title=LocalizedText({"en": room}), state=RoomState.LIVE))
    async with aiohttp.ClientSession(running.url) as http:
        running.http = http
        yield running


async def whip_publish(node: Any, publisher: Publisher, room: str = "expo", **kw: Any) -> Any:
    offer = kw.pop("munge", lambda s: s)(await publisher.offer())
    headers = {**SDP, **auth(token(room, Grant.PUBLISH))}
    response = await node.http.post(f"/whip/{room}", data=offer, headers=headers)
    assert response.status == 201, await response.text()
    answer = await response.text()
    await publisher.accept(kw.pop("unmunge", lambda s: s)(answer))
    response.answer = answer
    return response


async def whep_watch(node: Any, viewer: Viewer, room: str = "expo") -> Any:
    headers = {**SDP, **auth(token(room, Grant.SUBSCRIBE, identity="player"))}
    response = await node.http.post(f"/whep/{room}", data=await viewer.offer(), headers=headers)
    assert response.status == 201, await response.text()
    await viewer.accept(await response.text())
    return response


@pytest.mark.parametrize("node", ["per_peer", "port"], indirect=True)
async def test_whip_publish_then_whep_play_then_delete(node: Any) -> None:
    publisher = Publisher("vp8")
    created = await whip_publish(node, publisher)
    udp_port = node.settings.media.udp_port
    if udp_port:  # one UDP port: every answer's host candidates carry it
        assert host_ports(created.answer) == {udp_port}
    location = created.headers["Location"]
    assert re.fullmatch(r"/whip/expo/[\w-]+", location)
    assert created.headers["Content-Type"].startswith("application/sdp")
    assert re.fullmatch(r'"[^"]+"', created.headers["ETag"])
    assert created.headers.getall("Link") == ['<stun:stun.example.net:3478>; rel="ice-server"']
    assert created.headers["Access-Control-Allow-Origin"] == "*"
    viewer = Viewer()
    played = await whep_watch(node, viewer)
    assert played.headers["Location"].startswith("/whep/expo/")
    await until(lambda: viewer.frames.get("video", 0) >= 15)
    assert contiguous(viewer.received["video"].sequences)
    if udp_port:
        assert host_ports(viewer.pc.remoteDescription.sdp) == {udp_port}
        assert len(node.app[MEDIA_KEY].mux.table) == 2
    # only the creator's token may end a session
    stranger = auth(token("expo", Grant.PUBLISH, identity="someone-else"))
    assert (await node.http.delete(location, headers=stranger)).status == 403
    ended = await node.http.delete(location, headers=auth(token("expo", Grant.PUBLISH)))
    assert ended.status == 200
    await until(lambda: viewer.ended["video"].is_set(), 10)
    assert (await node.http.delete(location, headers=auth(token()))).status == 404
    whep = played.headers["Location"]
    bye = await node.http.delete(
        whep, headers=auth(token("expo", Grant.SUBSCRIBE, identity="player"))
    )
    assert bye.status == 200
    await viewer.close()
    await publisher.close()


class HighProfile:
    def __init__(self) -> None:
        self.original = ""

    def munge(self, sdp: str) -> str:
        self.original = re.findall(r"profile-level-id=([0-9a-fA-F]{6})", sdp)[0]
        return re.sub(r"profile-level-id=[0-9a-fA-F]{6}", "profile-level-id=640c1f", sdp)

    def unmunge(self, sdp: str) -> str:
        return sdp.replace("profile-level-id=640c1f", f"profile-level-id={self.original}")


async def test_obs_like_whip_output_publishes(node: Any) -> None:
    """OBS: H264 (640c1f) + Opus, Bearer token, no trickle (aiortc gathers before offering)."""
    clip("h264")
    label = HighProfile()
    publisher = Publisher("h264")
    created = await whip_publish(node, publisher, munge=label.munge, unmunge=label.unmunge)
    assert "profile-level-id=640c1f" in created.answer
    assert "a=candidate:" in created.answer  # the answer is complete: no trickle needed
    viewer = Viewer()
    await whep_watch(node, viewer)
    await until(lambda: viewer.frames.get("video", 0) >= 10)
    await viewer.close()
    await publisher.close()


async def test_gstreamer_capture_is_answerable_over_http(node: Any) -> None:
    response = await node.http.post("/whip/expo", data=GSTREAMER, headers={**SDP, **auth(token())})
    assert response.status == 201
    assert "a=rtpmap:96 H264/90000" in await response.text()
    await node.http.delete(response.headers["Location"], headers=auth(token()))


async def test_patch_trickle_if_match_and_restart(node: Any) -> None:
    response = await node.http.post("/whip/expo", data=GSTREAMER, headers={**SDP, **auth(token())})
    location, etag = response.headers["Location"], response.headers["ETag"]
    frag = (
        "a=ice-ufrag:W7YWYILctSoy3bJNabhScloKT+lBeyL9\r\na=ice-pwd:CSRDAqwPsl7Jy0mPfhuw1HIXupoK7Hpv\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio0\r\n"
        "a=candidate:2 1 UDP 2015363327 127.0.0.1 46490 typ host\r\n"
    )
    trickle = {"Content-Type": "application/trickle-ice-sdpfrag", **auth(token())}
    ok = await node.http.patch(location, data=frag, headers={**trickle, "If-Match": etag})
    assert ok.status == 204
    stale = await node.http.patch(location, data=frag, headers={**trickle, "If-Match": '"old"'})
    assert stale.status == 412
    restart = frag.replace("W7YWYILctSoy3bJNabhScloKT+lBeyL9", "newufrag")
    assert (await node.http.patch(location, data=restart, headers=trickle)).status == 422
    wrong_type = {**trickle, "Content-Type": "application/sdp"}
    assert (await node.http.patch(location, data=frag, headers=wrong_type)).status == 415
    await node.http.delete(location, headers=auth(token()))


async def test_options_answers_cors_preflight(node: Any) -> None:
    response = await node.http.options("/whip/expo")
    assert response.status == 204
    assert response.headers["Accept-Post"] == "application/sdp"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Location" in response.headers["Access-Control-Expose-Headers"]


VP9_ONLY = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\n"
    "a=mid:0\r\na=sendonly\r\na=rtpmap:98 VP9/90000\r\na=setup:actpass\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
)


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "reason"),
    [
        ("/whip/expo", SDP, "OFFER", 401, "an Authorization: Bearer token is required"),
        ("/whip/expo", {**SDP, "Authorization": "Bearer nope"}, "OFFER", 401, "token was refused"),
        ("/whip/expo", {**SDP, **auth(token("expo", Grant.SUBSCRIBE))}, "OFFER", 403, "publish"),
        ("/whip/expo", {**SDP, **auth(token("other"))}, "OFFER", 403, "another room"),
        (
            "/whip/expo",
            {**auth(token()), "Content-Type": "text/plain"},
            "OFFER",
            415,
            "application/sdp",
        ),
        ("/whip/expo", {**SDP, **auth(token())}, "v=0\r\n" + "a=x\r\n" * 5000, 413, "larger"),
        ("/whip/expo", {**SDP, **auth(token())}, "not sdp", 400, "v=0"),
        ("/whip/expo", {**SDP, **auth(token())}, VP9_ONLY, 406, "no usable video codec"),
        (
            "/whep/expo",
            {**SDP, **auth(token("expo", Grant.SUBSCRIBE))},
            "OFFER",
            404,
            "nothing is published",
        ),
    ],
)
async def test_refusals_are_clear_and_harmless(
    node: Any, path: str, headers: dict[str, str], body: str, status: int, reason: str
) -> None:
    data = GSTREAMER if body == "OFFER" else body
    response = await node.http.post(path, data=data, headers=headers)
    assert response.status == status
    assert response.headers["Content-Type"].startswith("text/plain")
    assert reason in await response.text()
    assert node.app[__import__("web.media", fromlist=["MEDIA_KEY"]).MEDIA_KEY].peers == {}


async def test_server_keeps_serving_after_refusals(node: Any) -> None:
    for _ in range(3):
        bad = await node.http.post(
            "/whip/expo", data="v=0\r\nm=x\r\n", headers={**SDP, **auth(token())}
        )
        assert bad.status == 400
    publisher = Publisher("vp8")
    await whip_publish(node, publisher)
    viewer = Viewer()
    await whep_watch(node, viewer)
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    await viewer.close()
    await publisher.close()
