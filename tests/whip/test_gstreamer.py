"""A real GStreamer webrtcbin (Debian's 1.22, default RSA DTLS certificate) over WHIP and WHEP.

Issue 14 §6. The client is tests/whip/gst_webrtc_client.py run by Debian's python3 (the venv
has no GStreamer bindings): publishing, an aiortc viewer plays over WHEP and counts decoded
frames; playing, an aiortc publisher sends and webrtcbin counts the packets it decrypts.
Skipped, with the reason, where Debian's GStreamer packages are missing (scripts/test.sh
installs them when run as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from rooms.token import Grant
from streaming.publisher import PublisherLeg
from streaming.viewer import ViewerLeg
from tests.streaming.clients import Publisher, Viewer, until
from tests.whip.test_rsa_peers import connected, node, peers, post
from tests.whip.test_whip_http import token
from web.media import MEDIA_KEY

__all__ = ["node", "peers"]  # fixtures

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("gst_webrtc_client.py")
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


class GstClient:
    """The webrtcbin process and the lines it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode().strip())

    async def connected(self) -> None:
        with contextlib.suppress(AssertionError):  # the lines say what happened
            await until(lambda: "state connected" in self.lines or self.done, 15)
        assert "state connected" in self.lines, "\n".join(self.lines)

    @property
    def done(self) -> bool:
        return self.process.returncode is not None

    def received(self, kind: str) -> int:
        prefix = f"received {kind} "
        counts = [int(line[len(prefix) :]) for line in self.lines if line.startswith(prefix)]
        return counts[-1] if counts else 0


@contextlib.asynccontextmanager
async def gst_client(url: str, grant: Grant, mode: str) -> AsyncIterator[GstClient]:
    missing = gstreamer_missing()
    if missing:  # CI runs scripts/test.sh, which installs them: there a gap fails
        (pytest.fail if os.environ.get("CI") else pytest.skip)(missing)
    bearer = token("expo", grant, identity=grant.value)
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON, str(SCRIPT), url, bearer, mode, "30",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    client = GstClient(process)
    reader = asyncio.ensure_future(client.read())
    try:
        yield client
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        await reader


def assert_on_the_port(node: Any) -> None:
    """In one-port mode, webrtcbin's ICE agent is on the mux, bound by a validated address."""
    mux = node.app[MEDIA_KEY].mux
    if mux is not None:
        assert mux.table.owners() and all(mux.table.addresses(o) for o in mux.table.owners()
                                          if o.connection.remote_password)


def assert_rsa_peer(node: Any, leg_type: type) -> None:
    """The server's side of the handshake: webrtcbin's certificate is RSA, and so is the suite."""
    leg = next(p for p in node.app[MEDIA_KEY].peers.values() if isinstance(p, leg_type))
    ssl = leg.dtls._ssl
    assert isinstance(ssl.get_peer_certificate(as_cryptography=True).public_key(), RSAPublicKey)
    assert ssl.get_cipher_name().startswith("ECDHE-RSA-"), ssl.get_cipher_name()


@pytest.mark.parametrize(("node", "codec"),
                         [("per_peer", "vp8"), ("per_peer", "h264"), ("port", "vp8")],
                         indirect=["node"])  # "port": one UDP port for every peer (issue 19)
async def test_gstreamer_webrtcbin_publishes_over_whip(
    node: Any, peers: list[Any], codec: str
) -> None:
    async with gst_client(f"{node.url}/whip/expo", Grant.PUBLISH, codec) as gst:
        await gst.connected()
        assert_on_the_port(node)
        assert_rsa_peer(node, PublisherLeg)
        viewer = Viewer()
        peers.append(viewer)
        await viewer.accept(await post(node, "/whep/expo", await viewer.offer(), Grant.SUBSCRIBE))
        await connected(viewer.pc)
        await until(lambda: viewer.frames.get("video", 0) >= 15, 10)
        assert viewer.received["video"].codec.lower() == f"video/{codec}"


@pytest.mark.parametrize("node", ["per_peer", "port"], indirect=True)
async def test_gstreamer_webrtcbin_plays_over_whep(node: Any, peers: list[Any]) -> None:
    publisher = Publisher("vp8")
    peers.append(publisher)
    await publisher.accept(await post(node, "/whip/expo", await publisher.offer(), Grant.PUBLISH))
    await connected(publisher.pc)
    async with gst_client(f"{node.url}/whep/expo", Grant.SUBSCRIBE, "play") as gst:
        await gst.connected()
        assert_on_the_port(node)
        assert_rsa_peer(node, ViewerLeg)
        # 30 fps, several packets a frame: 60 is well under a second of video
        await until(lambda: gst.received("video") >= 60 and gst.received("audio") > 0, 10)
