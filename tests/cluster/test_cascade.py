"""Cascade, first slice (issue 13): two in-process nodes on one real redis-server. A publisher
sends to node A (the room's origin); WHEP viewers on node B (``[cluster] cascade = true``) are
served by B itself from one upstream that B pulls from A over A's WHEP, packet-forwarded: no
decoder on either node. The origin's admin detail lists B as an edge; B drops the upstream
shortly after its last viewer leaves."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from streaming import MediaPlane
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.fixtures.ports import media_mode
from tests.signaling.rtc_client import RtcClient, token
from tests.streaming.clients import Publisher, Viewer, until
from web.cascade import EDGES_KEY
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}


def _headers(identity: str, grant: Grant) -> dict[str, str]:
    token = mint(TEST_SECRET, identity=identity, room=ROOM, grants=[grant], ttl_s=600)
    return {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}


async def _post(http: aiohttp.ClientSession, url: str, offer: str,
                hdrs: dict[str, str]) -> tuple[int, str, Any]:
    async with http.post(url, data=offer, headers=hdrs, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers


async def _edges(http: aiohttp.ClientSession, node: RunningApp) -> list[str]:
    async with http.get(f"{node.url}/api/admin/rooms/{ROOM}", headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        edges: list[str] = (await response.json())["edges"]
        return edges


def _no_decoder(plane: MediaPlane) -> None:
    for peer in plane.peers.values():
        for transceiver in peer.pc.getTransceivers():
            # aiortc's receiver was never started: no jitter buffer fed, no decoder thread
            assert transceiver.receiver._RTCRtpReceiver__decoder_thread is None


async def _watch(http: aiohttp.ClientSession, node: RunningApp, who: str) -> tuple[Viewer, str]:
    viewer = Viewer()
    status, answer, headers = await _post(http, f"{node.url}/whep/{ROOM}",
                                          await viewer.offer(), _headers(who, Grant.SUBSCRIBE))
    assert status == 201, answer  # served by this node, not redirected
    await viewer.accept(answer)
    return viewer, f"{node.url}{headers['Location']}"


@pytest.mark.parametrize("mode", ["per_peer", "port"])  # issue 19: each node on one UDP port
async def test_an_edge_serves_its_viewers_from_one_upstream_to_the_origin(
        redis_url: str, pavilion_app: Any, mode: str) -> None:
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", api_key=API_KEY,
                           cluster={"placement": "first"}, media=media_mode(mode))
    b = await pavilion_app(redis_url=redis_url, node_id="node-b", api_key=API_KEY,
                           cluster={"placement": "first", "cascade": True,
                                    "cascade_linger_s": 0.5}, media=media_mode(mode))
    plane_a, plane_b = a.app[MEDIA_KEY], b.app[MEDIA_KEY]
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession() as http:
        status, answer, _ = await _post(http, f"{a.url}/whip/{ROOM}", await publisher.offer(),
                                        _headers("changbai-foods", Grant.PUBLISH))
        assert status == 201, answer  # node A holds the room's media: the origin
        await publisher.accept(answer)

        first, first_url = await _watch(http, b, "viewer-1")
        await until(lambda: first.frames.get("video", 0) >= 30
                    and first.frames.get("audio", 0) >= 30, 20)
        assert len(plane_b.upstreams(ROOM)) == 1
        assert not plane_a.upstreams()
        upstream = plane_b.upstreams(ROOM)[0]
        assert upstream.participant == "origin" and len(upstream.inbounds) == 2
        assert all(i.source is not None and i.source.packets > 0 for i in upstream.inbounds)
        assert await _edges(http, a) == ["node-b"]
        if mode == "port":  # the edge's pull: an ICE agent on each node's one port
            assert plane_a.mux is not None and plane_b.mux is not None
            assert len(plane_a.mux.table) == 2 and len(plane_b.mux.table) == 2
        # who speaks is decided at the origin: the edge does not measure the levels it relays
        relayed_audio = plane_b.live_sources(ROOM)["audio"]
        assert "urn:ietf:params:rtp-hdrext:ssrc-audio-level" in relayed_audio.extension_ids
        assert relayed_audio.levels is None and all(i.level_id == 0 for i in upstream.inbounds)
        assert plane_a.live_sources(ROOM)["audio"].levels is not None

        second, second_url = await _watch(http, b, "viewer-2")
        await until(lambda: second.frames.get("video", 0) >= 30
                    and second.frames.get("audio", 0) >= 30, 20)
        assert plane_b.upstreams(ROOM) == [upstream]  # shared, not a second pull

        page = await RtcClient.connect(b, token("viewer-3", ROOM))  # a page on B: no move
        await page.ok("join", {"room": ROOM})
        third = Viewer()
        reply = await page.ok("subscribe", {"room": ROOM, "sdp": await third.offer()})
        await third.accept(reply["sdp"])
        await until(lambda: third.frames.get("video", 0) >= 30, 20)
        assert plane_b.upstreams(ROOM) == [upstream]
        # the edge's relayed Sources are no published tracks: the room's list stays A's
        stored = await b.app[BACKEND_KEY].store.get_tracks(ROOM)
        assert stored is not None and stored[0] == "node-a"
        assert {t["participant"] for t in stored[1]} == {"changbai-foods"}
        assert not [e for e in page.seen("track.published") if e["participant"] == "origin"]
        _no_decoder(plane_a)
        _no_decoder(plane_b)
        await page.close()
        await third.close()

        for url, who in ((first_url, "viewer-1"), (second_url, "viewer-2")):
            async with http.delete(url, headers=_headers(who, Grant.SUBSCRIBE)) as response:
                assert response.status == 200, await response.text()
        await until(lambda: not plane_b.upstreams(), 10)
        await until(lambda: not [p for p in plane_a.peers.values() if p.room == ROOM
                                 and p.participant.startswith("edge:")], 10)
        assert await _edges(http, a) == []
    for client in (first, second):
        await client.close()
    await publisher.close()


async def test_the_edge_ends_its_tracks_when_the_origin_s_publisher_leaves(
        redis_url: str, pavilion_app: Any) -> None:
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b",
                           cluster={"placement": "first", "cascade": True})
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession() as http:
        status, answer, headers = await _post(http, f"{a.url}/whip/{ROOM}",
                                              await publisher.offer(),
                                              _headers("changbai-foods", Grant.PUBLISH))
        assert status == 201, answer
        await publisher.accept(answer)
        viewer, _ = await _watch(http, b, "viewer-1")
        await until(lambda: viewer.frames.get("video", 0) >= 10, 20)
        async with http.delete(f"{a.url}{headers['Location']}",
                               headers=_headers("changbai-foods", Grant.PUBLISH)) as response:
            assert response.status == 200, await response.text()
        # the origin's BYEs end the upstream: B's Sources end and its viewer's tracks with them
        await until(lambda: not b.app[MEDIA_KEY].upstreams(), 10)
        await until(lambda: all(viewer.ended[k].is_set() for k in ("audio", "video")), 10)
        assert not b.app[MEDIA_KEY].sources.get(ROOM)
    await viewer.close()
    await publisher.close()


@pytest.mark.parametrize("profile", ["42e01f", "640c1f"])
async def test_h264_goes_through_an_edge(redis_url: str, pavilion_app: Any, profile: str) -> None:
    """aiortc encodes Constrained Baseline; 640c1f is its stream under a High label, as OBS
    sends the reverse: the label is what negotiation through two nodes must carry."""
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b",
                           cluster={"placement": "first", "cascade": True})
    publisher = Publisher("h264")
    async with aiohttp.ClientSession() as http:
        offer = (await publisher.offer()).replace("42001f", profile)  # its one H264 codec
        status, answer, _ = await _post(http, f"{a.url}/whip/{ROOM}", offer,
                                        _headers("changbai-foods", Grant.PUBLISH))
        assert status == 201, answer
        assert f"profile-level-id={profile}" in answer  # the origin answers the label offered
        await publisher.accept(answer.replace(profile, "42001f"))
        origin_video = a.app[MEDIA_KEY].live_sources(ROOM)["video"]
        assert origin_video.codec.h264_profile == profile
        viewer, _ = await _watch(http, b, "viewer-1")
        await until(lambda: viewer.frames.get("video", 0) >= 20, 20)
        assert len(b.app[MEDIA_KEY].upstreams(ROOM)) == 1
        video = b.app[MEDIA_KEY].live_sources(ROOM)["video"]
        assert video.codec.name == "h264" and video.packets > 0
        assert video.codec.h264_profile == profile  # the edge's Source keeps the origin's label
        print(f"H264 {profile} at the origin; through the edge as {video.codec.h264_profile};"
              f" the edge's viewer decoded {viewer.frames}")
        _no_decoder(b.app[MEDIA_KEY])
    await viewer.close()
    await publisher.close()



async def test_an_edge_whose_upstream_link_fails_re_pulls_and_its_viewer_plays_on(
        redis_url: str, pavilion_app: Any) -> None:
    """The upstream's connection fails (closed on the edge's side, as a lost link ends it):
    its Sources stay, frozen, and the edge re-pulls from the origin; the viewer's peer and
    tracks carry on."""
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b",
                           cluster={"placement": "first", "cascade": True,
                                    "cascade_stall_s": 0.6})
    plane_b, edges = b.app[MEDIA_KEY], b.app[EDGES_KEY]
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession() as http:
        status, answer, _ = await _post(http, f"{a.url}/whip/{ROOM}", await publisher.offer(),
                                        _headers("changbai-foods", Grant.PUBLISH))
        assert status == 201, answer
        await publisher.accept(answer)
        viewer, _ = await _watch(http, b, "viewer-1")
        await until(lambda: viewer.frames.get("video", 0) >= 10, 20)
        (lost,) = plane_b.upstreams(ROOM)
        sources = dict(plane_b.sources[ROOM])
        await lost.pc.close()  # the link is gone: aiortc reports the connection closed
        await until(lambda: plane_b.upstreams(ROOM) and plane_b.upstreams(ROOM)[0] is not lost,
                    10)
        before = viewer.frames["video"]
        await until(lambda: viewer.frames["video"] >= before + 20, 10)
        assert edges.repulls == 1
        assert plane_b.sources[ROOM] == sources  # the same Sources, fed by the new upstream
        assert not any(e.is_set() for e in viewer.ended.values())
    await viewer.close()
    await publisher.close()


async def test_keyframe_requests_of_an_edge_s_viewers_reach_the_publisher_merged(
        redis_url: str, pavilion_app: Any) -> None:
    """Three viewers on the edge each ask for a keyframe five times in 0.25 s: one PLI goes to
    the origin now and one when the 300 ms window ends, and the publisher sees them so (the
    origin merges the edge's requests with its own viewers' the same way)."""
    a = await pavilion_app(redis_url=redis_url, node_id="node-a", cluster={"placement": "first"})
    b = await pavilion_app(redis_url=redis_url, node_id="node-b",
                           cluster={"placement": "first", "cascade": True})
    publisher = Publisher("vp8")
    async with aiohttp.ClientSession() as http:
        status, answer, _ = await _post(http, f"{a.url}/whip/{ROOM}", await publisher.offer(),
                                        _headers("changbai-foods", Grant.PUBLISH))
        assert status == 201, answer
        await publisher.accept(answer)
        viewers = [(await _watch(http, b, f"viewer-{n}"))[0] for n in range(3)]
        await until(lambda: all(v.frames.get("video", 0) >= 10 for v in viewers), 20)
        await asyncio.sleep(0.6)  # past any PLI the viewers' start caused
        before = len(publisher.pli_times)
        (edge_leg,) = [p for p in a.app[MEDIA_KEY].peers.values()
                       if p.participant == "edge:node-b"]
        start = edge_leg.keyframe_requests
        for _ in range(5):
            for viewer in viewers:
                viewer.send_pli()
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.2)
        times = publisher.pli_times[before:]
        asked = sum(p.keyframe_requests for p in b.app[MEDIA_KEY].peers.values()
                    if p.participant.startswith("viewer-"))
        upstream = edge_leg.keyframe_requests - start
        print(f"{asked} keyframe requests on the edge: {upstream} PLI from the edge at the "
              f"origin, {len(times)} at the publisher")
        assert asked >= 15
        assert 1 <= upstream <= 3  # merged on the edge: not 15 PLIs upstream
        assert 1 <= len(times) <= 3, times  # a player's own PLI on a late packet may add one
        assert all(later - earlier >= 0.27 for earlier, later in itertools.pairwise(times))
    for viewer in viewers:
        await viewer.close()
    await publisher.close()
