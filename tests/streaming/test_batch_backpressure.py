"""A batched fan-out whose socket is full (issue 19 §2): each copy the kernel would not take
goes to its viewer's bounded queue and leaves, in order, once the socket drains; a viewer whose
queue is full too drops to the next keyframe. Nothing blocks, and no other copy is lost.

Unix datagram sockets stand in for the viewers' paths because, unlike UDP on loopback, they
push back (``EAGAIN``) when the reader stops reading (as in test_egress.py); two Egresses share
one unconnected sender socket, as viewers on a node's single UDP port do.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from pathlib import Path

import pytest
from pylibsrtp import Policy, Session

from config import MediaLimits
from streaming import rtp_header, send_backend
from streaming.egress import Egress
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription

KEY = os.urandom(30)
QUEUE = 8


def packet(seq: int, key: bool) -> bytes:
    vp8 = b"\x10\x00" if key else b"\x10\x01"  # VP8 descriptor + keyframe bit (RFC 7741)
    return struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, 42) + vp8 + bytes([seq % 256]) * 600


def drain(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


@pytest.mark.parametrize("backend", ["auto", "sendto"])
async def test_a_full_shared_socket_queues_then_drops_to_a_keyframe(
    tmp_path: Path, backend: str
) -> None:
    loop = asyncio.get_running_loop()
    shared = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    shared.setblocking(False)
    source = Source("p/video0", "room", "video", Codec(96, "video/VP8", 90000), MediaLimits())
    table = rtp_header.extension_map_table({})
    sinks, subs, rx, tx = [], [], [], []  # the sessions live as long as the Egresses
    for i in range(2):
        path = str(tmp_path / f"v{i}")
        sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sink.bind(path)
        sink.setblocking(False)
        tx.append(Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_OUTBOUND)))
        rx.append(Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND)))
        dup = socket.socket(fileno=socket.dup(shared.fileno()))
        dup.setblocking(False)
        egress = Egress(tx[-1]._srtp[0], dup, path, QUEUE, loop,  # type: ignore[arg-type]
                        send_backend.choose(backend))
        sub = Subscription(f"v{i}", "video", Route(96, 1000 + i, table, 90000), egress)
        source.attach(sub)
        sinks.append(sink)
        subs.append(sub)
    first = packet(0, True)
    source.on_rtp(first, rtp_header.parse(first))
    assert not any(sub.waiting_keyframe for sub in subs)
    sent = 1
    while not any(sub.waiting_keyframe for sub in subs) and sent < 2000:
        source.on_rtp(data := packet(sent, sent == 0), rtp_header.parse(data))
        sent += 1
    assert any(sub.waiting_keyframe for sub in subs), "the socket never pushed back"
    assert source.batch.calls > 0
    assert sum(sub.egress.dropped_packets for sub in subs) >= 1
    assert all(sub.egress.queued <= QUEUE for sub in subs)
    await asyncio.sleep(0)
    # the readers come back: every queued copy leaves, then a keyframe restarts the stalled
    got: list[list[int]] = [[], []]
    for _ in range(200):
        for i, sink in enumerate(sinks):
            got[i] += [rtp_header.parse(rx[i].unprotect(d)).sequence for d in drain(sink)]
        if all(sub.egress.queued == 0 for sub in subs):
            break
        await asyncio.sleep(0.01)
    for data in (packet(sent, True), packet(sent + 1, False)):
        source.on_rtp(data, rtp_header.parse(data))
    await asyncio.sleep(0.01)
    for i, sink in enumerate(sinks):
        got[i] += [rtp_header.parse(rx[i].unprotect(d)).sequence for d in drain(sink)]
    for i, sub in enumerate(subs):
        seqs = [sub.forwarder.source_seq(seq) for seq in got[i]]  # the publisher's numbers
        if sub.egress.dropped_packets:
            # everything before its first drop arrived in order (the queued copies too), then
            # nothing until the keyframe, from which it goes on
            assert seqs[-2:] == [sent, sent + 1]
            assert seqs[:-2] == list(range(len(seqs) - 2))
        else:
            assert seqs == list(range(sent + 2))
        assert not sub.waiting_keyframe
        assert sub.egress.errors == 0
        assert sub.egress.sent_packets == len(seqs)
    for sub in subs:
        sub.egress.close()
    for sink in sinks:
        sink.close()
    shared.close()
