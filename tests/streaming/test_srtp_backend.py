"""Issue 19: a viewer connection's RTP protected by the compiled AES-GCM (``[media]
srtp_backend = "auto"``, streaming/srtp_protection.py) or by libsrtp (``"libsrtp"``): real
aiortc viewers, on per-peer ports and on one port (the compiled fan-out loop and the Python
path share the one context), decrypt and decode every packet either way, NACK answers included.
The octets themselves are held to libsrtp's in tests/streaming/test_srtp_gcm.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import ConfigError, MediaLimits, load
from streaming import MediaPlane, srtp_protection
from streaming.viewer import ViewerLeg
from tests.fixtures.ports import free_udp_port
from tests.streaming.clients import contiguous, publish, until, watch

COMPILED = srtp_protection.compiled() is not None


@pytest.fixture(params=[("auto", 0), ("auto", "mux"), ("libsrtp", "mux")],
                ids=["aes-gcm-ports", "aes-gcm-one-port", "libsrtp-one-port"])
async def plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    backend, port = request.param
    media = MediaPlane(MediaLimits(
        allow_loopback_candidates=True, allow_private_candidates=True, srtp_backend=backend,
        udp_port=free_udp_port() if port == "mux" else 0))
    yield media
    await media.aclose()


def _backends(plane: MediaPlane) -> set[str]:
    return {peer._egress.rtp_backend for peer in plane.peers.values()
            if isinstance(peer, ViewerLeg) and peer._egress is not None}


async def test_viewers_decode_every_packet_whoever_protects(plane: MediaPlane) -> None:
    expected = "aes-gcm" if plane.srtp_backend == "aes-gcm" else "libsrtp"
    assert plane.srtp_backend == ("libsrtp" if not COMPILED else plane.srtp_backend)
    publisher = await publish(plane, "hall", codec="vp8")
    viewers = [await watch(plane, "hall", f"v{i}") for i in range(3)]
    await until(lambda: all(v.frames.get("video", 0) >= 30 and v.count("audio") >= 25
                            for v in viewers), 60)  # three decoding peers: slow on a loaded CI
    assert _backends(plane) == {expected}
    for viewer in viewers:
        assert contiguous(viewer.received["video"].sequences)
        assert contiguous(viewer.received["audio"].sequences)
    base = viewers[0].received["video"].packets[-1][0]
    lost = {(base + 10) % 65536, (base + 13) % 65536}
    viewers[0].lose(lost)  # answered from the cache: protected on the Python path
    await until(lambda: lost <= set(viewers[0].received["video"].sequences), 30)
    assert plane.peer(viewers[0].peer_id).nacks_answered >= 2
    totals = plane.stats().totals
    assert totals.send_errors == 0 and totals.dropped_packets == 0
    for viewer in viewers:
        await viewer.close()
    await publisher.close()


def test_the_setting_picks_who_protects() -> None:
    secret = {"PAVILION_SECRET": "s" * 32}
    settings = load(env={**secret, "PAVILION_MEDIA__SRTP_BACKEND": "libsrtp"})
    assert srtp_protection.engine(settings.media.srtp_backend) == "libsrtp"
    assert load(env=secret).media.srtp_backend == "auto"
    assert srtp_protection.engine("auto") == ("aes-gcm" if COMPILED else "libsrtp")
    with pytest.raises(ConfigError, match=r"media\.srtp_backend: Input should be 'auto' or"):
        load(env={**secret, "PAVILION_MEDIA__SRTP_BACKEND": "openssl"})
