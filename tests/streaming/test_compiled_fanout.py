"""Issue 19 §4: the fan-out's per-viewer loop in C (streaming/_fastsend.c ``fanout``) sends what
the Python loop sends, byte for byte, with the same counters; leaves to Python what it must;
and loses nothing when Python code it calls fails.

Real libsrtp sessions (pylibsrtp's, the ones the C code calls through) and real UDP sockets on
loopback; SRTP is deterministic for one key, SSRC and index, so two runs with the same keys and
offsets must put the very same datagrams on the wire.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pylibsrtp import Policy, Session

from config import MediaLimits
from streaming import aiortc_hooks, rtp_header, send_backend
from streaming.egress import Egress
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription

compiled = send_backend.compiled()
pytestmark = pytest.mark.skipif(compiled is None, reason="streaming._fastsend is not built")

KEY = bytes(range(30))
VIEWERS = 6


def packet(seq: int, key: bool = False, size: int = 900) -> bytes:
    vp8 = b"\x10\x00" if key else b"\x10\x01"  # VP8 descriptor, keyframe bit (RFC 7741)
    return struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, 42) + vp8 + bytes([seq % 251]) * size


class Node:
    """One Source whose viewers share one sending socket (a node on one UDP port)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, compiled_loop: bool) -> None:
        self.source = Source("p/video0", "room", "video", Codec(96, "video/VP8", 90000),
                             MediaLimits())
        if not compiled_loop:
            self.source.fanout = None
        self.shared = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.shared.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sinks: list[socket.socket] = []
        self.sessions: list[Session] = []  # they must outlive the Egresses
        self.subs: list[Subscription] = []
        table = rtp_header.extension_map_table({})
        for i in range(VIEWERS):
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sink.bind(("127.0.0.1", 0))
            sink.setblocking(False)
            self.sinks.append(sink)
            session = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
            self.sessions.append(session)
            dup = socket.socket(fileno=socket.dup(self.shared.fileno()))
            dup.setblocking(False)
            egress = Egress(session._srtp[0], dup, sink.getsockname(), 64, loop,
                            send_backend.choose("auto"))
            # two template groups: viewers that negotiated another payload type
            sub = Subscription(f"v{i}", "video", Route(96 if i % 2 else 100, 5000 + i, table,
                                                       90000), egress)
            sub.forwarder.seq_offset = 1000 * i  # the same numbers in both nodes
            sub.forwarder.ts_offset = 77_777 * i
            sub.forwarder.started = True
            sub.waiting_keyframe = False
            self.source.attach(sub)
            self.subs.append(sub)

    def received(self) -> list[list[bytes]]:
        got: list[list[bytes]] = []
        for sink in self.sinks:
            datagrams = []
            while True:
                try:
                    datagrams.append(sink.recv(4096))
                except BlockingIOError:
                    break
            got.append(datagrams)
        return got

    def close(self) -> None:
        for sub in self.subs:
            sub.egress.close()
        for sink in self.sinks:
            sink.close()
        self.shared.close()


@pytest.fixture
async def nodes() -> AsyncIterator[list[Node]]:
    loop = asyncio.get_running_loop()
    made = [Node(loop, True), Node(loop, False)]
    yield made
    for node in made:
        node.close()


def feed(node: Node, packets: list[bytes]) -> None:
    for data in packets:
        node.source.on_rtp(data, rtp_header.parse(data))


async def test_the_compiled_loop_sends_what_the_python_loop_sends(nodes: list[Node]) -> None:
    packets = [packet(0, key=True)] + [packet(n) for n in range(1, 40)] + [packet(40, size=1400)]
    c_node, py_node = nodes
    for node in nodes:
        feed(node, packets)
    c_got, py_got = c_node.received(), py_node.received()
    assert [len(d) for d in c_got] == [len(packets)] * VIEWERS
    assert c_got == py_got  # byte for byte: header, payload type, SRTP
    assert c_node.source.batch.calls == len(packets)  # one sendmmsg a packet, all six in it
    assert c_node.source.batch.datagrams == len(packets) * VIEWERS
    assert py_node.source.batch.calls == len(packets)
    for c_sub, py_sub in zip(c_node.subs, py_node.subs, strict=True):
        assert (c_sub.packets, c_sub.octets) == (py_sub.packets, py_sub.octets)
        assert (c_sub.forwarder.last_seq, c_sub.forwarder.last_ts) == (
            py_sub.forwarder.last_seq, py_sub.forwarder.last_ts)
        assert (c_sub.egress.sent_packets, c_sub.egress.sent_bytes) == (
            py_sub.egress.sent_packets, py_sub.egress.sent_bytes)
        assert c_sub.egress.errors == py_sub.egress.errors == 0
    # what a viewer gets decrypts to the publisher's packet in its own numbers
    rx = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND))
    clear = rx.unprotect(c_got[1][5])
    h = rtp_header.parse(clear)
    assert (h.sequence, h.ssrc, h.payload_type) == ((5 + 1000) & 0xFFFF, 5001, 96)
    assert clear[12:] == packets[5][12:]


async def test_waiting_viewers_and_backlogs_take_the_python_path(nodes: list[Node]) -> None:
    node = nodes[0]
    late = node.subs[2]
    late.waiting_keyframe = True
    busy = node.subs[3].egress
    busy._enqueue(b"queued before")  # a backlog: order says Python sends after it
    assert busy.port is not None and not busy.port.ready
    feed(node, [packet(1), packet(2)])
    got = node.received()
    assert got[2] == []  # waits for a keyframe
    assert len(got[3]) == 0 and busy.queued == 3  # behind its backlog, in order
    feed(node, [packet(3, key=True)])
    got = node.received()
    assert len(got[2]) == 1 and not late.waiting_keyframe
    assert all(len(got[i]) == 1 for i in (0, 1, 4, 5))


async def test_an_error_in_python_loses_no_protected_copy() -> None:
    """make_template raising for the second viewer: the first viewer's copy, already
    protected (libsrtp's index moved on), still leaves; then the error is raised."""
    assert compiled is not None
    node = Node(asyncio.get_running_loop(), True)
    try:
        calls: list[Any] = []

        def make(sub: Subscription) -> bytes:
            calls.append(sub)
            if len(calls) == 2:
                raise RuntimeError("bad template")
            return packet(1)

        with pytest.raises(RuntimeError, match="bad template"):
            compiled.fanout(node.subs, {}, make, 1, 3000, 900)
        got = node.received()
        assert len(got[0]) == 1 and all(not d for d in got[1:])
        assert node.subs[0].packets == 1 and node.subs[0].egress.sent_packets == 1
    finally:
        node.close()


def test_other_egresses_and_bad_arguments_are_refused_cleanly() -> None:
    assert compiled is not None

    class Plain:  # an egress without a Port (a test's, another kind): Python's to send
        pass

    class Sub:
        waiting_keyframe = False
        egress = Plain()

    sub = Sub()
    slow, failed, blocked, calls, sent = compiled.fanout([sub], {}, lambda s: b"", 1, 1, 1)
    assert slow == [sub] and failed is None and blocked is None and (calls, sent) == (0, 0)
    with pytest.raises(TypeError):
        compiled.fanout((sub,), {}, lambda s: b"", 1, 1, 1)  # a list, not a tuple
    with pytest.raises(ValueError, match="SRTP session"):
        compiled.Port(0, 0)
    session = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    port = compiled.Port(*aiortc_hooks.srtp_addresses(session._srtp[0]))
    with pytest.raises(ValueError, match="sockaddr"):
        port.target(3, 1, b"\x02")
    with pytest.raises(ValueError, match="sockaddr"):
        port.target(3, 1, os.urandom(200))
    assert port.ready is False and port.sent_packets == 0


def test_the_numbers_live_in_c_and_fall_back_to_python_without_the_extension() -> None:
    """The loop reads a viewer's numbers in place (``Numbers``, ``Counts``); a node without the
    extension gives Forwarder and Subscription Python bases with the same names."""
    from streaming import _fastsend
    from streaming.forwarder import Forwarder
    from streaming.subscription import Subscription

    assert issubclass(Forwarder, _fastsend.Numbers) and issubclass(Subscription, _fastsend.Counts)
    fwd = Forwarder(first_seq=0, first_ts=0)
    assert (fwd.last_seq, fwd.last_ts) == (65535, 0)  # one before the first
    with pytest.raises(OverflowError):
        fwd.seq_offset = -1  # what the loop reads is never a negative number
    script = """
import sys
sys.modules["streaming._fastsend"] = None  # not built
from streaming.forwarder import Forwarder
from streaming.subscription import Subscription
fwd = Forwarder(first_seq=100, first_ts=1000)
fwd.resume(5000, 90000)
got = fwd.map(5001, 93000)
assert got == (101, 4000) and (fwd.last_seq, fwd.last_ts) == got, got
names = {"packets", "octets", "ssrc", "waiting_keyframe"}
assert set(Subscription.__mro__[1].__slots__) == names, Subscription.__mro__
assert "_fastsend" not in repr(Subscription.__mro__) + repr(Forwarder.__mro__)
print("python bases")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and "python bases" in done.stdout, done.stderr
