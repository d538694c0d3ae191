"""One ICE-TCP connection's writes (streaming/tcp_link.py): framed, bounded, never waiting.

A Unix stream socket pair stands in for the TCP connection (the link needs only a stream
socket), with small kernel buffers so a reader that stops reading pushes back at once. Media
comes from a real Egress (real libsrtp) sending on the link's media socket, as a viewer's does.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from streaming.egress import Egress
from streaming.tcp_framing import FrameReader
from streaming.tcp_link import TcpLink
from tests.streaming.test_egress import sessions, template

MEDIA_LIMIT = 16 * 1024
CONTROL_LIMIT = 32 * 1024


@pytest.fixture
def stream() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for end in (ours, theirs):
        end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    theirs.setblocking(False)
    yield ours, theirs
    theirs.close()


def link_on(sock: socket.socket, frames: list[bytes], closed: list[TcpLink]) -> TcpLink:
    return TcpLink(sock, ("192.0.2.7", 50_000), "192.0.2.2", 1_500, (MEDIA_LIMIT, CONTROL_LIMIT),
                   lambda _link, message: frames.append(message), closed.append)


def drain(sock: socket.socket, reader: FrameReader) -> list[bytes]:
    out: list[bytes] = []
    while True:
        try:
            data = sock.recv(65_536)
        except BlockingIOError:
            return out
        if not data:
            return out
        out += reader.feed(data)


async def test_messages_are_read_and_written_as_frames(stream) -> None:
    ours, theirs = stream
    received: list[bytes] = []
    closed: list[TcpLink] = []
    link = link_on(ours, received, closed)
    theirs.send(b"\x00\x03abc\x00\x02d")
    theirs.send(b"e")
    await asyncio.sleep(0.05)
    assert received == [b"abc", b"de"]
    assert link.write(b"hello")
    await asyncio.sleep(0.01)
    assert drain(theirs, FrameReader()) == [b"hello"]
    theirs.close()
    await asyncio.sleep(0.05)
    assert link.closed and closed == [link]  # the peer's close is noticed and reported once


async def test_a_frame_over_the_limit_closes_the_link(stream) -> None:
    ours, theirs = stream
    closed: list[TcpLink] = []
    link = link_on(ours, [], closed)
    theirs.send(b"\x06\x00")  # 1536 > 1500, before validation
    await asyncio.sleep(0.05)
    assert link.closed and link.oversize and closed == [link]


async def test_a_stalled_reader_bounds_the_buffer_and_the_egress_drops(stream) -> None:
    """The reader stops: the link's buffer stops at its media bound, the Egress's socket
    fills, the Egress queues up to its limit and then drops; STUN/DTLS still fit under the
    control bound; nothing ever waits. Once the reader reads again, media flows again."""
    ours, theirs = stream
    link = link_on(ours, [], [])
    tx, rx = sessions()
    loop = asyncio.get_running_loop()
    egress = Egress(tx._srtp[0], link.media_socket(), None, 8, loop)
    sent = 0
    for seq in range(3000):
        sent += egress.send_rtp(template(), seq, 0, 1)
        if seq % 50 == 0:
            await asyncio.sleep(0)  # the link pumps between bursts, as between fan-outs
    assert link.buffered <= MEDIA_LIMIT
    assert egress.queued == 8 and egress.dropped_packets > 0
    assert link.write(b"\x00\x01" + bytes(98))  # a STUN-sized control message still fits
    while link.write(bytes(1000)):
        pass
    assert link.buffered <= CONTROL_LIMIT and link.dropped >= 1
    reader = FrameReader()
    frames: list[bytes] = []
    for _ in range(200):  # the reader reads again
        frames += drain(theirs, reader)
        await asyncio.sleep(0.005)
    media = [f for f in frames if f[0] & 0xC0 == 0x80]
    assert media and all(rx.unprotect(f)[12:] == b"x" * 1000 for f in media[:50])
    for seq in range(3000, 3010):
        assert egress.send_rtp(template(), seq, 0, 1)
    more: list[bytes] = []
    for _ in range(50):
        more += [f for f in drain(theirs, reader) if f[0] & 0xC0 == 0x80]
        await asyncio.sleep(0.005)
    assert len(more) == 10 and [rx.unprotect(f)[2:4] for f in more] == [
        seq.to_bytes(2, "big") for seq in range(3000, 3010)]
    egress.close()
    link.close()


async def test_an_egress_moves_from_a_udp_path_to_a_tcp_connection(stream) -> None:
    """A viewer whose newly nominated pair is a TCP one (viewer.py ``_follow_nomination``):
    ``retarget`` to the link's media socket, with no address (``send``, not ``sendto``)."""
    ours, theirs = stream
    link = link_on(ours, [], [])
    udp_a, udp_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    tx, rx = sessions()
    egress = Egress(tx._srtp[0], udp_a, None, 8, asyncio.get_running_loop())
    assert egress.send_rtp(template(), 1, 0, 7)
    assert rtp_seq(rx.unprotect(udp_b.recv(2048))) == 1
    egress.retarget(link.media_socket(), None)
    for seq in (2, 3):
        assert egress.send_rtp(template(), seq, 0, 7)
    reader = FrameReader()
    frames: list[bytes] = []
    for _ in range(50):
        frames += drain(theirs, reader)
        if len(frames) == 2:
            break
        await asyncio.sleep(0.005)
    assert [rtp_seq(rx.unprotect(f)) for f in frames] == [2, 3]
    egress.close()
    link.close()
    udp_b.close()


def rtp_seq(packet: bytes) -> int:
    return int.from_bytes(packet[2:4], "big")
