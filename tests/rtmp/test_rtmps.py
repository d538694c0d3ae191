"""RTMPS (issue 16 §8): Debian's ffmpeg publishes ``rtmps://`` into a broadcast on a real
node behind a self-signed certificate (made here with ``cryptography``); an aiortc viewer over
WHEP decodes its pictures and sound. A plain-RTMP client on the TLS port gets nothing in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from tests.fixtures.ports import free_port
from tests.rtmp.certificate import self_signed
from tests.rtmp.encoder import SizingViewer, ffmpeg_publish, stop
from tests.rtmp.test_ffmpeg_publish import node as plain_node  # noqa: F401  (the fixture)
from tests.rtmp.test_ffmpeg_publish import token, whep_watch
from tests.streaming.clients import until
from web.media import MEDIA_KEY
from web.rtmp_ingest import RTMPS_KEY

pytestmark = pytest.mark.slow


@pytest.fixture
def pavilion_app(pavilion_app: Callable[..., Awaitable[Any]],
                 tmp_path: Path) -> Callable[..., Awaitable[Any]]:
    """The node of test_ffmpeg_publish with RTMPS on as well."""
    cert, key = self_signed(tmp_path)

    async def start(**overrides: Any) -> Any:
        return await pavilion_app(rtmps_port=free_port(), rtmps_cert=str(cert),
                                  rtmps_key=str(key), **overrides)

    return start


async def test_ffmpeg_rtmps_is_watched_over_webrtc(plain_node: Any) -> None:  # noqa: F811
    node = plain_node
    port = node.app[RTMPS_KEY].port
    assert port == node.settings.rtmps_port
    plane = node.app[MEDIA_KEY]
    encoder = await ffmpeg_publish(f"rtmps://127.0.0.1:{port}/live/{token()}")
    viewer = SizingViewer()
    try:
        await until(lambda: {"audio", "video"} <= set(plane.live_sources("expo")), 20)
        assert plane.live_sources("expo")["video"].codec.name == "h264"
        await whep_watch(node, viewer)
        await until(lambda: viewer.frames.get("video", 0) >= 30
                    and viewer.frames.get("audio", 0) >= 50, 30)
        assert viewer.sizes == {(640, 360)}
    finally:
        code = await stop(encoder)
    assert code in (0, 255, -15), (code, (await encoder.stderr.read()).decode(errors="replace"))
    await until(lambda: not plane.live_sources("expo") and not plane.locals, 10)
    await viewer.close()


async def test_plain_rtmp_on_the_tls_port_publishes_nothing(plain_node: Any) -> None:  # noqa: F811
    node = plain_node
    port = node.app[RTMPS_KEY].port
    encoder = await ffmpeg_publish(f"rtmp://127.0.0.1:{port}/live/{token()}", seconds=5)
    code = await asyncio.wait_for(encoder.wait(), 30)
    assert code != 0, "an RTMP handshake is not a TLS ClientHello"
    assert not node.app[MEDIA_KEY].live_sources("expo")


def test_rtmps_needs_its_certificate_and_its_own_port() -> None:
    with pytest.raises(ValueError, match="rtmps_cert and rtmps_key"):
        Settings(rtmps_port=1936)
    with pytest.raises(ValueError, match="must differ"):
        Settings(rtmp_port=1936, rtmps_port=1936, rtmps_cert="c.pem", rtmps_key="k.pem")
    assert Settings().rtmps_port == 0, "off unless configured"
