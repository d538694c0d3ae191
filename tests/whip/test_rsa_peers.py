"""Issue 14 §6: peers whose DTLS certificate is RSA publish through WHIP and play through WHEP.

The client is a real aiortc peer whose certificate is a self-signed RSA-2048 one and whose DTLS
context is GStreamer webrtcbin's (gst-plugins-bad ``gstdtlsagent.c``: cipher list
``ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH``, peer certificate required, any accepted, the fingerprint
checked afterwards). Before the fix the server, answering ``a=setup:active`` (DTLS client),
offered only ECDHE-ECDSA suites, the RSA peer (DTLS server) had none it could use, and the
handshake ended in a fatal alert both ways.
"""

from __future__ import annotations

import binascii
import datetime
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiortc.rtcdtlstransport import RTCCertificate
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from OpenSSL import SSL

from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant
from tests.fixtures.ports import media_mode
from tests.streaming.clients import Publisher, Viewer, clip, contiguous, until
from tests.whip.test_whip_http import SDP, auth, token
from web.keys import BACKEND_KEY

GSTREAMER_CIPHERS = b"ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH"


class RsaCertificate(RTCCertificate):
    """An RSA-2048 self-signed certificate with GStreamer webrtcbin's DTLS context."""

    @classmethod
    def rsa(cls) -> RsaCertificate:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [x509.NameAttribute(x509.NameOID.COMMON_NAME, binascii.hexlify(os.urandom(8)).decode())]
        )
        now = datetime.datetime.now(tz=datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert)  # type: ignore[arg-type]

    def _create_ssl_context(self, srtp_profiles: list[Any]) -> SSL.Context:
        ctx = SSL.Context(SSL.DTLS_METHOD)
        ctx.set_options(SSL.OP_NO_TICKET)
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: True)
        ctx.use_certificate(self._cert)
        ctx.use_privatekey(self._key)
        ctx.set_cipher_list(GSTREAMER_CIPHERS)
        ctx.set_tlsext_use_srtp(b":".join(p.openssl_profile for p in srtp_profiles))
        return ctx


@pytest.fixture
async def node(pavilion_app: Callable[..., Awaitable[Any]],
               request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    # issue 19: a test may ask for "port" (every peer on one UDP port) through indirect params
    running = await pavilion_app(demo=True,
                                 media=media_mode(getattr(request, "param", "per_peer")))
    await running.app[BACKEND_KEY].store.create_room(
        Room(id="expo", kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
             title=LocalizedText({"en": "expo"}), state=RoomState.LIVE))
    async with aiohttp.ClientSession(running.url) as http:
        running.http = http
        yield running


@pytest.fixture
async def peers() -> AsyncIterator[list[Any]]:
    """Closes every client a test made, failed or not (an unclosed peer errors the next test)."""
    made: list[Any] = []
    yield made
    for peer in made:
        await peer.close()


def setup_as(role: str) -> Callable[[str], str]:
    """Offer ``a=setup:<role>`` instead of aiortc's ``actpass`` (``active``: DTLS client)."""
    return lambda sdp: sdp.replace("a=setup:actpass", f"a=setup:{role}")


async def connected(pc: Any) -> None:
    """Wait for DTLS to finish either way; a failed handshake fails here, not at a timeout."""
    await until(lambda: pc.connectionState in ("connected", "failed", "closed"), 10)
    assert pc.connectionState == "connected", "DTLS failed"


async def post(node: Any, path: str, offer: str, grant: Grant) -> str:
    headers = {**SDP, **auth(token("expo", grant, identity=grant.value))}
    response = await node.http.post(path, data=offer, headers=headers)
    assert response.status == 201, await response.text()
    return await response.text()


def certificate(rsa_peer: bool) -> RTCCertificate | None:
    return RsaCertificate.rsa() if rsa_peer else None


@pytest.mark.parametrize(
    ("rsa_publisher", "rsa_viewer", "codec", "setup"),
    [
        (True, False, "vp8", "actpass"),  # WHIP
        (True, False, "h264", "actpass"),
        (False, True, "vp8", "actpass"),  # WHEP
        (True, True, "vp8", "active"),  # the RSA peers are the DTLS clients
    ],
)
async def test_rsa_peers_publish_and_play(
    node: Any, peers: list[Any], rsa_publisher: bool, rsa_viewer: bool, codec: str, setup: str
) -> None:
    """``actpass`` (every WHIP/WHEP client's offer): the RSA peer is the DTLS server."""
    clip(codec)
    publisher = Publisher(codec, certificate=certificate(rsa_publisher))
    peers.append(publisher)
    offer = setup_as(setup)(await publisher.offer())
    await publisher.accept(await post(node, "/whip/expo", offer, Grant.PUBLISH))
    await connected(publisher.pc)
    viewer = Viewer(certificate=certificate(rsa_viewer))
    peers.append(viewer)
    offer = setup_as(setup)(await viewer.offer())
    await viewer.accept(await post(node, "/whep/expo", offer, Grant.SUBSCRIBE))
    await connected(viewer.pc)
    await until(lambda: viewer.frames.get("video", 0) >= 15 and viewer.frames.get("audio", 0) > 0)
    assert contiguous(viewer.received["video"].sequences)
    assert viewer.received["video"].codec.lower() == f"video/{codec}"
    # the suite names the DTLS server's key: RSA when an RSA peer is the server
    for pc, rsa_peer in ((publisher.pc, rsa_publisher), (viewer.pc, rsa_viewer)):
        suite = pc.getTransceivers()[0].receiver.transport._ssl.get_cipher_name()
        server_rsa = rsa_peer and setup == "actpass"
        assert suite.startswith("ECDHE-RSA-" if server_rsa else "ECDHE-ECDSA-"), suite


def sps_profiles(payloads: list[bytes]) -> set[int]:
    """profile_idc of every SPS in H264 RTP payloads (RFC 6184 §5.6 single NAL, §5.7.1 STAP-A)."""
    found: set[int] = set()
    for payload in payloads:
        nal_type = payload[0] & 0x1F
        if nal_type == 7:
            found.add(payload[1])
        elif nal_type == 24:  # STAP-A: [size:2][NAL]...; the SPS comes first when aggregated
            offset = 1
            while offset + 3 < len(payload):
                size = int.from_bytes(payload[offset : offset + 2], "big")
                if payload[offset + 2] & 0x1F == 7:
                    found.add(payload[offset + 3])
                offset += 2 + size
    return found


@pytest.mark.parametrize(
    ("profile", "label", "profile_idc"), [("high", "640c1f", 100), ("main", "4d001f", 77)]
)
async def test_honest_h264_high_and_main_from_rsa_encoders(
    node: Any, peers: list[Any], profile: str, label: str, profile_idc: int
) -> None:
    """An encoder that sends High (or Main) and says so in ``profile-level-id``: WHIP to WHEP."""
    clip("h264", h264_profile=profile)
    publisher = Publisher("h264", certificate=RsaCertificate.rsa(), h264_profile=profile)
    peers.append(publisher)
    offer = await publisher.offer()
    aiortc_label = re.findall(r"profile-level-id=([0-9a-f]{6})", offer)[0]
    answer = await post(node, "/whip/expo", offer.replace(aiortc_label, label), Grant.PUBLISH)
    assert f"profile-level-id={label}" in answer  # the label it declared, answered as such
    await publisher.accept(answer.replace(label, aiortc_label))  # aiortc knows only baseline
    await connected(publisher.pc)
    viewer = Viewer(certificate=RsaCertificate.rsa())
    peers.append(viewer)
    await viewer.accept(await post(node, "/whep/expo", await viewer.offer(), Grant.SUBSCRIBE))
    await until(lambda: viewer.frames.get("video", 0) >= 15)  # decoded by a real H264 decoder
    assert contiguous(viewer.received["video"].sequences)
    assert sps_profiles([p[3] for p in viewer.received["video"].packets]) == {profile_idc}
