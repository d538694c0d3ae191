"""Real aiortc peers over loopback: publish -> the plane -> viewers, packets checked decrypted."""

from __future__ import annotations

import threading

import pytest

from streaming import MediaPlane
from tests.streaming.clients import contiguous, publish, until, watch


def decoder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.endswith("-decoder")]


@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_publish_reaches_every_viewer_in_order(either_plane: MediaPlane, codec: str) -> None:
    plane = either_plane  # a socket per peer, and one UDP port for all (issue 19)
    publisher = await publish(plane, "hall", codec=codec)
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(3)]
    await until(lambda: all(v.count("video") >= 90 and v.count("audio") >= 50 for v in viewers))
    video = plane.live_sources("hall")["video"]
    for viewer in viewers:
        packets = viewer.received["video"].packets
        assert viewer.received["video"].codec.lower() == f"video/{codec}"
        assert packets[0][2], "a viewer's first video packet starts a keyframe"
        assert contiguous(viewer.received["video"].sequences)
        assert contiguous(viewer.received["audio"].sequences)
    # every viewer got the publisher's packets, same payloads, from its start on: map each
    # viewer's sequence numbers back to the publisher's through its own Forwarder
    streams = []
    for viewer in viewers:
        leg = plane.peer(viewer.peer_id)
        sub = next(sub for source, sub in leg.subscriptions if source is video)
        streams.append(
            {sub.forwarder.source_seq(p[0]): p[3] for p in viewer.received["video"].packets}
        )
    common = set.intersection(*(set(s) for s in streams))
    assert len(common) >= 60
    for seq in common:
        assert streams[0][seq] == streams[1][seq] == streams[2][seq]
    assert video.packets >= 90
    await until(lambda: all(v.frames.get("video", 0) >= 30 for v in viewers))
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


async def test_no_decoder_is_ever_created_for_a_forwarded_track(plane: MediaPlane) -> None:
    before = decoder_threads()
    publisher = await publish(plane, "hall", codec="vp8")
    await until(lambda: plane.live_sources("hall")["video"].packets >= 60)
    assert decoder_threads() == before == []
    leg = plane.peer(publisher.peer_id)
    for transceiver in leg.pc.getTransceivers():
        # aiortc's receiver was never started: no jitter buffer fed, no decoder thread
        assert transceiver.receiver._RTCRtpReceiver__decoder_thread is None
        assert not transceiver.receiver._RTCRtpReceiver__started
    # packets are taken where aioice receives them: aiortc's DTLS task saw only the handshake
    assert leg.dtls._RTCDtlsTransport__rx_packets < 10
    assert leg.srtp_errors == 0 and leg.malformed == 0
    await publisher.close()


async def test_publisher_gets_receiver_reports_and_remb(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall", codec="vp8")
    await until(lambda: publisher.feedback.get("rr", 0) >= 2, 10)
    await until(lambda: publisher.feedback.get("remb", 0) >= 1, 10)
    video_sender = publisher.pc.getTransceivers()[0].sender
    stats = await video_sender.getStats()
    assert any(s.type == "remote-inbound-rtp" for s in stats.values())
    await publisher.close()


async def test_publisher_loss_is_nacked_and_repaired(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall", codec="vp8")
    await until(lambda: plane.live_sources("hall")["video"].packets >= 10)
    publisher.lose_next(3)  # the network drops three video packets on the way in
    await until(lambda: publisher.feedback.get("nack", 0) > 0, 10)
    await until(lambda: publisher.retransmitted >= 3, 10)
    await publisher.close()
