"""Egress: in-place SRTP that a real libsrtp receiver accepts, and the bounded queue.

A Unix datagram socket pair stands in for the viewer's path because, unlike UDP on loopback, it
pushes back (``EAGAIN``) when the reader stops reading: a real stalled reader.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from pylibsrtp import Policy, Session

from streaming import rtp_header
from streaming.egress import Egress

KEY = os.urandom(30)


def sessions() -> tuple[Session, Session]:
    tx = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    rx = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND))
    return tx, rx


def template(payload: bytes = b"x" * 1000) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, 0, 0, 0) + payload


@pytest.fixture
def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    b.close()


async def test_protected_packets_decrypt_with_the_rewritten_header(pair) -> None:
    tx, rx = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 8, asyncio.get_running_loop())
    for seq in (65534, 65535, 0):
        assert egress.send_rtp(template(bytes([seq % 256]) * 50), seq, seq * 3000, 0xABCD)
    for seq in (65534, 65535, 0):
        clear = rx.unprotect(pair[1].recv(2048))
        h = rtp_header.parse(clear)
        assert (h.sequence, h.timestamp, h.ssrc, h.payload_type) == (seq, seq * 3000, 0xABCD, 96)
        assert clear[h.payload_offset :] == bytes([seq % 256]) * 50
    egress.close()


async def test_rtcp_is_protected_as_srtcp(pair) -> None:
    tx, rx = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 8, asyncio.get_running_loop())
    bye = struct.pack("!BBHI", 0x81, 203, 1, 0xABCD)
    assert egress.send_rtcp(bye)
    assert rx.unprotect_rtcp(pair[1].recv(2048)) == bye
    egress.close()


async def test_stalled_reader_fills_the_bounded_queue_then_drops(pair) -> None:
    tx, rx = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 4, asyncio.get_running_loop())
    results = [egress.send_rtp(template(), seq, 0, 1) for seq in range(2000)]
    assert egress.queued == 4  # never more than the limit
    assert results.count(False) == egress.dropped_packets > 0
    assert results[-1] is False
    # the reader wakes up: the queue drains in order once the socket is writable
    received = []
    while True:
        try:
            received.append(rtp_header.parse(rx.unprotect(pair[1].recv(2048))).sequence)
        except BlockingIOError:
            await asyncio.sleep(0.01)
            if egress.queued == 0:
                try:
                    received.append(rtp_header.parse(rx.unprotect(pair[1].recv(2048))).sequence)
                    continue
                except BlockingIOError:
                    break
    sent = [seq for seq, ok in zip(range(2000), results, strict=True) if ok]
    assert received == sent
    egress.close()


async def test_a_gone_viewer_is_an_error_not_a_drop(pair) -> None:
    tx, _ = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 4, asyncio.get_running_loop())
    pair[1].close()
    assert egress.send_rtp(template(), 1, 0, 1) is True
    assert egress.errors == 1 and egress.dropped_packets == 0
    egress.close()
    assert egress.send_rtp(template(), 2, 0, 1) is False


@pytest.mark.parametrize(
    ("size", "ext_id", "now", "stamp"),
    [
        (1, 0, 0.0, None),  # the smallest padding: the count octet alone, no extension
        (255, 3, 1.5, 3 << 17),  # the largest; 1.5 s is 0x060000 in 6.18 fixed point
        (200, 14, 64.25, (64.25 * 2**18) % 2**24),  # 6 integer bits: 64 s wraps to 0.25 s
        (100, 15, 2.0, None),  # id 15 is reserved (RFC 8285 §4.2): no extension written
    ],
)
async def test_padding_is_a_protected_empty_rtp_packet_with_abs_send_time(
    pair, size: int, ext_id: int, now: float, stamp: float | None
) -> None:
    """What a real parser (aiortc's and ours) reads after SRTP unprotect: no payload, the P bit,
    the padding count, and the abs-send-time Chromium's estimator needs (RFC 3550 §5.1)."""
    tx, rx = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 8, asyncio.get_running_loop())
    assert egress.send_padding(65535, 90000, 0xABCD, 96, size, ext_id, now)
    clear = rx.unprotect(pair[1].recv(2048))
    h = rtp_header.parse(clear)
    assert (h.sequence, h.timestamp, h.ssrc, h.payload_type, h.marker) == (
        65535, 90000, 0xABCD, 96, False)
    assert clear[0] & 0x20 and clear[-1] == size and h.payload_offset == h.payload_end
    assert len(clear) == (20 if stamp is not None else 12) + size
    found = rtp_header.find_extension(clear, h.extension_offset, ext_id)
    assert found == (None if stamp is None else int(stamp).to_bytes(3, "big"))
    extensions = HeaderExtensionsMap()
    extensions.configure(abs_send_time_parameters(ext_id))
    packet = RtpPacket.parse(clear, extensions)
    assert packet.payload == b"" and packet.padding_size == size
    assert packet.extensions.abs_send_time == (None if stamp is None else int(stamp))
    assert egress.sent_packets == 1 and egress.sent_bytes > len(clear)  # the SRTP tag
    egress.close()


def abs_send_time_parameters(ext_id: int) -> RTCRtpParameters:
    uri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    ids = [RTCRtpHeaderExtensionParameters(id=ext_id, uri=uri)] if 1 <= ext_id <= 14 else []
    return RTCRtpParameters(headerExtensions=ids)


@pytest.mark.parametrize("size", [0, 256])
async def test_padding_size_outside_one_octet_is_refused(pair, size: int) -> None:
    tx, _ = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 8, asyncio.get_running_loop())
    with pytest.raises(ValueError, match="RTP padding must be 1 to 255 octets"):
        egress.send_padding(1, 0, 1, 96, size, 0, 0.0)
    egress.close()


async def test_padding_is_never_queued_behind_a_full_path(pair) -> None:
    """A probe into a path that already pushes back would only add loss: it is skipped."""
    tx, _ = sessions()
    egress = Egress(tx._srtp[0], pair[0], None, 4, asyncio.get_running_loop())
    seq = 0
    while egress.queued == 0:
        egress.send_rtp(template(), seq, 0, 1)
        seq += 1
    before = egress.sent_packets
    assert egress.send_padding(seq, 0, 1, 96, 255, 2, 0.0) is False
    assert egress.queued == 1 and egress.sent_packets == before
    egress.close()
    assert egress.send_padding(seq + 1, 0, 1, 96, 255, 2, 0.0) is False
