"""A real GStreamer webrtcbin (Debian's 1.22, default RSA DTLS certificate) publishes over WHIP.

Issue 14 §6. The publisher is tests/whip/gst_whip_publisher.py run by Debian's python3 (the venv
has no GStreamer bindings); an aiortc viewer plays the broadcast over WHEP and counts frames.
Skipped, with the reason, where Debian's GStreamer packages are missing (scripts/test.sh
installs them when run as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from rooms.token import Grant
from streaming.publisher import PublisherLeg
from tests.streaming.clients import Viewer, until
from tests.whip.test_rsa_peers import connected, node, post
from tests.whip.test_whip_http import token
from web.media import MEDIA_KEY

__all__ = ["node"]

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("gst_whip_publisher.py")
PROBE = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0');"
    "from gi.repository import Gst; Gst.init(None);"
    "assert all(Gst.ElementFactory.find(e) for e in"
    " ('webrtcbin', 'nicesrc', 'vp8enc', 'openh264enc', 'opusenc', 'dtlsenc', 'srtpenc'))"
)


def gstreamer_missing() -> str | None:
    """Why a GStreamer publisher cannot run here, or None."""
    try:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", PROBE], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON}: {exc}"
    if probe.returncode != 0:
        return (
            "needs Debian's gstreamer1.0-plugins-bad, -good, -nice, python3-gi and the"
            f" gir1.2-gst* typelibs: {probe.stderr.decode().strip().splitlines()[-1:]}"
        )
    return None


@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_gstreamer_webrtcbin_publishes_over_whip(node: Any, codec: str) -> None:
    missing = gstreamer_missing()
    if missing:
        pytest.skip(missing)
    url = f"{node.url}/whip/expo"
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON, str(SCRIPT), url, token("expo"), codec, "30",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            lines.append(line.decode().strip())

    reader = asyncio.ensure_future(read())
    try:
        with contextlib.suppress(AssertionError):  # the lines say what happened
            await until(lambda: "state connected" in lines or process.returncode is not None, 15)
        assert "state connected" in lines, "\n".join(lines)
        # the server's side of the handshake: webrtcbin's certificate is RSA, and so is the suite
        leg = next(p for p in node.app[MEDIA_KEY].peers.values() if isinstance(p, PublisherLeg))
        ssl = leg.dtls._ssl
        assert isinstance(ssl.get_peer_certificate(as_cryptography=True).public_key(), RSAPublicKey)
        assert ssl.get_cipher_name().startswith("ECDHE-RSA-"), ssl.get_cipher_name()
        viewer = Viewer()
        await viewer.accept(await post(node, "/whep/expo", await viewer.offer(), Grant.SUBSCRIBE))
        await connected(viewer.pc)
        await until(lambda: viewer.frames.get("video", 0) >= 15, 10)
        assert viewer.received["video"].codec.lower() == f"video/{codec}"
        await viewer.close()
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        await reader
