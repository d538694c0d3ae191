"""signaling.whip: RFC 9725 decisions as pure functions (no HTTP, no network)."""

from __future__ import annotations

import pytest

from config import IceServer, MediaLimits
from signaling import whip
from streaming.errors import (
    BadOffer,
    Capacity,
    CodecMismatch,
    NothingPublished,
    NoUsableCodec,
    PlaneClosed,
    UnknownPeer,
)

LIMITS = MediaLimits(max_sdp_bytes=1_000, max_sdp_lines=20)
OFFER = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", OFFER, 415),
        (None, OFFER, 415),
        ("application/sdp", b"v=0\r\n" + b"a=x\r\n" * 300, 413),
        ("application/sdp", b"v=0\r\n" + b"a=x\r\n" * 25, 413),
        ("application/sdp", b"\xff\xfe", 400),
        ("application/sdp", b"hello", 400),
        ("application/sdp", b"v=0\r\ns=-\r\n", 400),
    ],
)
def test_offer_refusals(content_type: str | None, body: bytes, status: int) -> None:
    with pytest.raises(whip.WhipError) as info:
        whip.check_offer(content_type, body, LIMITS)
    assert info.value.status == status


def test_offer_accepted_with_parameters_on_the_media_type() -> None:
    assert whip.check_offer("Application/SDP; charset=utf-8", OFFER, LIMITS).startswith("v=0")


def test_415_names_the_accepted_type() -> None:
    with pytest.raises(whip.WhipError) as info:
        whip.check_offer("text/plain", OFFER, LIMITS)
    assert ("Accept-Post", "application/sdp") in info.value.headers


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_bearer_token_required(header: str | None) -> None:
    with pytest.raises(whip.WhipError) as info:
        whip.bearer_token(header)
    assert info.value.status == 401
    assert dict(info.value.headers)["WWW-Authenticate"].startswith("Bearer")


def test_bearer_token_read() -> None:
    assert whip.bearer_token("bearer  abc.def ") == "abc.def"


@pytest.mark.parametrize(
    ("code", "status"),
    [("missing_grant", 403), ("wrong_room", 403), ("token_expired", 401), ("bad_signature", 401)],
)
def test_token_refusals(code: str, status: int) -> None:
    assert whip.token_refusal(code, "x").status == status


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NoUsableCodec("no usable video codec"), 406),
        (CodecMismatch("cannot receive H264"), 406),
        (BadOffer("bad"), 400),
        (NothingPublished("nothing"), 404),
        (UnknownPeer("who"), 404),
        (Capacity("too many ICE candidates for this peer"), 429),
        (Capacity("source has its maximum of viewers"), 503),
        (PlaneClosed("closing"), 503),
    ],
)
def test_media_refusals(exc: Exception, status: int) -> None:
    refusal = whip.media_refusal(exc)  # type: ignore[arg-type]
    assert refusal.status == status
    assert refusal.reason == str(exc)


def test_ice_server_links() -> None:
    servers = [
        IceServer(urls=["stun:stun.example.net:3478"]),
        IceServer(urls=["turn:turn.example.net?transport=udp"], username="u", credential='p"w'),
    ]
    assert whip.ice_server_links(servers) == [
        '<stun:stun.example.net:3478>; rel="ice-server"',
        '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="u"; '
        'credential="p\\"w"; credential-type="password"',
    ]


def test_etag_and_if_match() -> None:
    tag = whip.etag(whip.ice_ufrag("v=0\r\na=ice-ufrag:abcd\r\n"))
    assert tag == '"abcd"'
    whip.check_if_match(None, tag)
    whip.check_if_match("*", tag)
    whip.check_if_match('"zz", "abcd"', tag)
    with pytest.raises(whip.WhipError) as info:
        whip.check_if_match('"other"', tag)
    assert info.value.status == 412


FRAG = b"""a=ice-ufrag:EsAw\r
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r
m=audio 9 RTP/AVP 0\r
a=mid:0\r
a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r
a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0\r
a=end-of-candidates\r
"""


def test_parse_sdpfrag() -> None:
    fragment = whip.parse_sdpfrag(FRAG, MediaLimits())
    assert fragment.ufrag == "EsAw"
    assert fragment.pwd == "P2uYro0UCOQ4zxjKXaWCBui1"
    assert [mid for mid, _ in fragment.candidates] == ["0", "0"]
    assert fragment.candidates[0][1].startswith("candidate:1387637174 1 udp")
    assert fragment.end_of_candidates


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"garbage", 400),
        (b"a=candidate:1 1 udp\r\n", 400),
        (b"\xff", 400),
        (b"a=mid:0\r\n" * 2000, 413),
    ],
)
def test_sdpfrag_refusals(body: bytes, status: int) -> None:
    with pytest.raises(whip.WhipError) as info:
        whip.parse_sdpfrag(body, MediaLimits())
    assert info.value.status == status


def test_ice_restart_is_422() -> None:
    fragment = whip.parse_sdpfrag(FRAG, MediaLimits())
    whip.check_restart(fragment, "EsAw")
    with pytest.raises(whip.WhipError) as info:
        whip.check_restart(fragment, "another")
    assert info.value.status == 422


@pytest.mark.parametrize("coding", [None, "", "identity", "IDENTITY", " identity "])
def test_identity_or_no_content_coding_is_taken(coding: str | None) -> None:
    whip.check_encoding(coding)


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate", "gzip, identity", "x-anything"])
def test_any_other_content_coding_is_415_naming_identity(coding: str) -> None:
    with pytest.raises(whip.WhipError) as refused:
        whip.check_encoding(coding)
    assert refused.value.status == 415
    assert dict(refused.value.headers) == {"Accept-Encoding": "identity"}
