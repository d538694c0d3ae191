"""Publishers leaving and coming back, OBS-like and GStreamer offers: real peers."""

from __future__ import annotations

import asyncio
import itertools
import re

from streaming import MediaPlane, SourceAdded, SourceEnded
from tests.data import SDP_DIR
from tests.streaming.clients import contiguous, publish, until, watch

GSTREAMER_OFFER = (SDP_DIR / "gstreamer-1.22-webrtcbin-whip-h264-offer.sdp").read_text()


async def test_publisher_leaving_ends_viewers_tracks_cleanly(plane: MediaPlane) -> None:
    events: list[object] = []
    plane.listen(events.append)
    publisher = await publish(plane, "hall")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(2)]
    await until(lambda: all(v.frames.get("video", 0) > 5 for v in viewers))
    await publisher.close()  # the publisher hangs up (DTLS close_notify)
    for viewer in viewers:
        await until(lambda v=viewer: v.ended["video"].is_set() and v.ended["audio"].is_set(), 10)
    assert plane.live_sources("hall") == {}
    assert [type(e) for e in events].count(SourceAdded) == 2
    assert [type(e) for e in events].count(SourceEnded) == 2
    for viewer in viewers:
        assert viewer.pc.connectionState == "connected"  # the viewer's connection itself lives on
        await viewer.close()


async def test_publisher_reconnect_keeps_the_viewers_stream_continuous(plane: MediaPlane) -> None:
    first = await publish(plane, "hall", participant="alice")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") > 30)
    video = plane.live_sources("hall")["video"]
    second = await publish(plane, "hall", participant="alice")  # same participant, new connection
    assert plane.live_sources("hall")["video"] is video
    before = viewer.count("video")
    await until(lambda: viewer.count("video") > before + 60)
    await until(lambda: first.pc.connectionState == "closed", 10)  # the old leg was closed
    packets = viewer.received["video"].packets
    assert contiguous([p[0] for p in packets])
    timestamps = [p[1] for p in packets]
    assert all((b - a) % 2**32 < 2**31 for a, b in itertools.pairwise(timestamps))
    assert not viewer.ended["video"].is_set()
    await viewer.close()
    await second.close()
    await first.close()


class HighProfileLabel:
    """Makes aiortc's offer OBS-like: H264 only under profile-level-id 640c1f, no trickle.

    aiortc itself cannot negotiate 640c1f, so the client puts its own label back on the answer.
    """

    def __init__(self) -> None:
        self.original = ""

    def munge(self, sdp: str) -> str:
        self.original = re.findall(r"profile-level-id=([0-9a-fA-F]{6})", sdp)[0]
        return re.sub(r"profile-level-id=[0-9a-fA-F]{6}", "profile-level-id=640c1f", sdp)

    def unmunge(self, sdp: str) -> str:
        return sdp.replace("profile-level-id=640c1f", f"profile-level-id={self.original}")


async def test_obs_like_h264_high_publisher_succeeds(plane: MediaPlane) -> None:
    label = HighProfileLabel()
    publisher = await publish(plane, "hall", codec="h264", munge=label.munge, unmunge=label.unmunge)
    assert "profile-level-id=640c1f" in publisher.answer_sdp
    assert plane.live_sources("hall")["video"].codec.h264_profile == "640c1f"
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 10)
    assert contiguous(viewer.received["video"].sequences)
    await viewer.close()
    await publisher.close()


async def test_gstreamer_whip_capture_is_answered(plane: MediaPlane) -> None:
    offer = GSTREAMER_OFFER
    answer = await plane.publish("hall", "gst", offer)
    assert "a=group:BUNDLE audio0 video1" in answer.sdp
    assert re.search(r"m=audio \d+ UDP/TLS/RTP/SAVPF 111\r\n", answer.sdp)
    assert re.search(r"m=video \d+ UDP/TLS/RTP/SAVPF 96\r\n", answer.sdp)
    assert "a=rtpmap:96 H264/90000" in answer.sdp
    assert "a=recvonly" in answer.sdp and "a=setup:active" in answer.sdp
    await plane.close(answer.peer_id)
    assert answer.peer_id not in plane.peers
    await asyncio.sleep(0)
