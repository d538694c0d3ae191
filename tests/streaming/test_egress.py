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
