"""Instant start, PLI merging, NACK answers from the cache, stalled viewers: real peers."""

from __future__ import annotations

import asyncio
import itertools
import re

from aiortc.rtp import RtcpPsfbPacket

from streaming import MediaPlane
from tests.streaming.clients import contiguous, publish, until, watch


async def test_late_joiner_starts_from_the_cached_keyframe_of_a_pli_deaf_publisher(
    plane: MediaPlane,
) -> None:
    # a 5 s GOP from a publisher that ignores PLI (a pre-encoded clip, like OBS)
    publisher = await publish(plane, "hall", gop=150, frames=150)
    video = plane.live_sources("hall")["video"]
    await until(lambda: video.packets >= 30)
    gop_start = video.gop.packets[0]
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") > 0, 5)
    first = viewer.received["video"].packets[0]
    assert first[2], "the first packet starts a keyframe"
    assert first[3] == gop_start[-len(first[3]) :], "it is the cached keyframe, not a new one"
    assert video.keyframes == 1, "the publisher never sent another keyframe"
    await until(lambda: viewer.frames.get("video", 0) >= 10, 5)  # and it decodes at once
    await viewer.close()
    await publisher.close()


async def test_viewers_plis_reach_the_publisher_merged_and_throttled(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(4)]
    await until(lambda: all(v.count("video") > 10 for v in viewers))
    before = len(publisher.pli_times)
    for _ in range(5):
        for viewer in viewers:
            viewer.send_pli()
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)
    times = publisher.pli_times[before:]
    legs = [plane.peer(v.peer_id) for v in viewers]
    assert sum(leg.keyframe_requests for leg in legs) == 20  # every request reached the plane
    # ...and was merged: 20 requests in 0.25 s became one PLI now and one when the 300 ms
    # window ended (a player's own PLI on a late packet may add one more)
    assert 1 <= len(times) <= 3, times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.27 for gap in gaps), gaps
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


async def test_viewer_nack_is_answered_from_the_cache(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") > 20)
    base = viewer.received["video"].packets[-1][0]
    lost = {(base + 10) % 65536, (base + 11) % 65536, (base + 14) % 65536}
    viewer.lose(lost)
    await until(lambda: lost <= set(viewer.received["video"].sequences), 10)
    assert plane.peer(viewer.peer_id).nacks_answered >= 3
    await viewer.close()
    await publisher.close()


async def test_a_stalled_viewer_does_not_reduce_the_others_delivery(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(3)]
    await until(lambda: all(v.count("video") > 5 for v in viewers))
    stalled = viewers[0]
    stalled.pause()
    video = plane.live_sources("hall")["video"]
    start = video.packets
    counts = {id(v): v.count("video") for v in viewers}
    await until(lambda: video.packets >= start + 90)
    others = viewers[1:]
    # every packet forwarded meanwhile reaches the others, in order, without gaps
    await until(lambda: all(v.count("video") - counts[id(v)] >= 90 for v in others))
    for viewer in others:
        assert contiguous(viewer.received["video"].sequences)
    assert stalled.count("video") - counts[id(stalled)] < 5
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


async def test_sender_reports_are_translated_per_viewer(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(2)]
    await until(lambda: all(len(v.sender_reports) >= 2 for v in viewers), 15)
    for viewer in viewers:
        video = viewer.received["video"]
        reports = [r for r in viewer.sender_reports if r.ssrc == video.ssrc]
        assert reports, "an SR in the viewer's own video SSRC"
        report = reports[-1]
        # the SR's RTP time is in this viewer's timestamp space: close to what it received
        latest = video.packets[-1][1]
        assert abs((report.sender_info.rtp_timestamp - latest + 2**31) % 2**32 - 2**31) < 90000
        assert 0 < report.sender_info.packet_count <= len(video.packets) + 5
    # the publisher's NTP times are kept, not regenerated per viewer (lip sync across tracks)
    ntp = [{r.sender_info.ntp_timestamp for r in v.sender_reports} for v in viewers]
    assert ntp[0] & ntp[1]
    # each SR comes with an SDES naming the CNAME the viewer's SDP announced (RFC 3550 §6.1)
    for viewer in viewers:
        video = viewer.received["video"]
        sdp = viewer.pc.remoteDescription.sdp
        announced = re.search(rf"a=ssrc:{video.ssrc} cname:(\S+)", sdp)
        assert announced, "the offer names the video SSRC's CNAME"
        cnames = {c.items[0][1].decode() for c in viewer.descriptions if c.ssrc == video.ssrc}
        assert cnames == {announced.group(1)}
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


async def test_a_viewers_rtcp_is_taken_where_the_socket_reads_it(plane: MediaPlane) -> None:
    """Issue 19: a viewer's receiver reports, REMB, NACKs and PLIs are unprotected and handled
    where its datagrams arrive (the transport guard's fast path), not through aioice's queue and
    a wake-up of aiortc's DTLS task; SRTCP that fails authentication, from the viewer's own
    address, is counted and dropped, and the viewer keeps being served."""
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") > 10)
    leg = plane.peer(viewer.peer_id)
    dtls = leg.dtls
    through_aiortc = 0
    aiortc_path = dtls._handle_rtcp_data

    async def counted(data: bytes) -> None:
        nonlocal through_aiortc
        through_aiortc += 1
        await aiortc_path(data)

    dtls._handle_rtcp_data = counted
    before = leg.keyframe_requests
    for _ in range(3):
        viewer.send_pli()
        await asyncio.sleep(0.05)
    await until(lambda: leg.keyframe_requests >= before + 3, 5)
    assert through_aiortc == 0, "the viewer's RTCP went the slow way"
    client = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    pair = client._nominated[1]
    forged = bytearray(bytes(RtcpPsfbPacket(fmt=1, ssrc=1, media_ssrc=2)) + bytes(14))
    forged[-10:] = b"\x80\x00\x00\x01" + bytes(6)  # an SRTCP index and a tag that is wrong
    pair.protocol.transport.sendto(bytes(forged), pair.remote_addr)
    await until(lambda: leg.srtcp_errors == 1, 5)
    assert leg.keyframe_requests == before + 3
    received = viewer.count("video")
    await until(lambda: viewer.count("video") > received + 10, 5)
    await viewer.close()
    await publisher.close()
