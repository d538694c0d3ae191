"""streaming._fastsend (sendmmsg) and its sendto fallback, on real sockets.

Every case runs on both backends, which must give the same results: the datagrams each receiver
gets, the count sent, and one status octet per datagram (sent / blocked / refused).
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from streaming import send_backend
from streaming.send_backend import BLOCKED, REFUSED, SENT, MmsgBackend, SendtoBackend

fastsend = send_backend.compiled()
needs_compiled = pytest.mark.skipif(fastsend is None, reason="streaming._fastsend not built")


def backends() -> list[Any]:
    found: list[Any] = [pytest.param(SendtoBackend(), id="sendto")]
    module = send_backend.compiled()
    marks = [] if module is not None else [pytest.mark.skip("streaming._fastsend not built")]
    found.append(pytest.param(MmsgBackend(module) if module else None, id="sendmmsg",
                              marks=marks))
    return found


def receivers(family: int, host: str, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((host, 0))
        sock.settimeout(2)
        socks.append(sock)
    return socks


def drain(sock: socket.socket) -> list[bytes]:
    sock.setblocking(False)
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


@pytest.fixture
def ipv6() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback")


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize(("family", "host"), [(socket.AF_INET, "127.0.0.1"),
                                              (socket.AF_INET6, "::1")])
def test_each_receiver_gets_exactly_its_datagrams(request, backend, family, host) -> None:
    if family == socket.AF_INET6:
        request.getfixturevalue("ipv6")
    sinks = receivers(family, host, 5)
    sender = socket.socket(family, socket.SOCK_DGRAM)
    sender.setblocking(False)
    dests = [backend.destination(sink.getsockname()[:2], family) for sink in sinks]
    # three rounds, interleaved: receiver i gets b"i:round", from buffers of every kind
    datagrams = [
        (kind(f"{i}:{r}".encode() * (r + 1)), dests[i])
        for r, kind in enumerate((bytes, bytearray, lambda b: memoryview(bytearray(b))))
        for i in range(len(sinks))
    ]
    status = bytearray(len(datagrams))
    assert backend.send(sender, sender.fileno(), datagrams, status) == len(datagrams)
    assert status == bytes(len(datagrams))
    for i, sink in enumerate(sinks):
        assert [sink.recv(4096) for _ in range(3)] == [f"{i}:{r}".encode() * (r + 1)
                                                       for r in range(3)]
        assert drain(sink) == []
        sink.close()
    sender.close()


@pytest.mark.parametrize("backend", backends())
def test_a_refused_datagram_does_not_lose_the_others(backend) -> None:
    """An IPv6 destination on an IPv4 socket fails alone; the datagrams around it go."""
    sinks = receivers(socket.AF_INET, "127.0.0.1", 2)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    good = [backend.destination(s.getsockname(), socket.AF_INET) for s in sinks]
    bad = backend.destination(("::1", 9), socket.AF_INET6)
    datagrams = [(b"a", good[0]), (b"b", bad), (b"c", good[1]), (b"d", bad), (b"e", good[0])]
    status = bytearray(5)
    assert backend.send(sender, sender.fileno(), datagrams, status) == 3
    assert list(status) == [SENT, REFUSED, SENT, REFUSED, SENT]
    assert drain(sinks[0]) == [b"a", b"e"]
    assert drain(sinks[1]) == [b"c"]
    sender.close()
    for sink in sinks:
        sink.close()


def unix_address(path: str) -> bytes:
    """A struct sockaddr_un (Linux): family, then the path, NUL-terminated."""
    return struct.pack("=H", socket.AF_UNIX) + path.encode() + b"\0"


@pytest.mark.parametrize("backend", backends())
def test_a_full_socket_leaves_the_rest_blocked_and_says_which(backend, tmp_path: Path) -> None:
    """A Unix datagram receiver that stops reading pushes back (UDP on loopback drops
    instead): what fits is sent, the rest is reported blocked after one retry, and nothing
    blocks."""
    path = str(tmp_path / "viewer")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink.bind(path)
    sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sender.setblocking(False)
    dest = unix_address(path) if isinstance(backend, MmsgBackend) else path
    datagrams = [(n.to_bytes(2, "big") * 200, dest) for n in range(200)]
    status = bytearray(200)
    sent = backend.send(sender, sender.fileno(), datagrams, status)
    assert 0 < sent < 200
    assert list(status) == [SENT] * sent + [BLOCKED] * (200 - sent)
    got = drain(sink)
    assert got == [data for data, _ in datagrams[:sent]]
    sender.close()
    sink.close()


@pytest.mark.parametrize("backend", backends())
def test_a_closed_socket_raises_cleanly(backend) -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = sender.fileno()
    dest = backend.destination(("127.0.0.1", 9), socket.AF_INET)
    sender.close()
    with pytest.raises(OSError):
        backend.send(sender, fd, [(b"x", dest)], bytearray(1))


@needs_compiled
def test_bad_fd_and_bad_arguments_raise_clear_errors() -> None:
    assert fastsend is not None
    dest = fastsend.pack_address("127.0.0.1", 9, socket.AF_INET)
    read, write = os.pipe()
    try:
        with pytest.raises(OSError) as caught:
            fastsend.sendmmsg(read, [(b"x", dest)])
        assert caught.value.errno == 88  # ENOTSOCK: a pipe is not a socket
    finally:
        os.close(read)
        os.close(write)
    with pytest.raises(OSError):
        fastsend.sendmmsg(1 << 20, [(b"x", dest)])  # no such descriptor: EBADF
    with pytest.raises(TypeError, match="tuple"):
        fastsend.sendmmsg(0, [b"x"])
    with pytest.raises(TypeError, match="pack_address"):
        fastsend.sendmmsg(0, [(b"x", ("127.0.0.1", 9))])
    with pytest.raises(TypeError):
        fastsend.sendmmsg(0, [("text", dest)])
    with pytest.raises(ValueError, match="at most 1024"):
        fastsend.sendmmsg(0, [(b"x", dest)] * 1025)
    with pytest.raises(ValueError, match="room for 2"):
        fastsend.sendmmsg(0, [(b"x", dest)] * 2, bytearray(1))
    with pytest.raises(ValueError, match="IPv4"):
        fastsend.pack_address("::1", 9, socket.AF_INET)
    with pytest.raises(ValueError, match="out of range"):
        fastsend.pack_address("127.0.0.1", 70000, socket.AF_INET)
    assert fastsend.sendmmsg(0, []) == 0


@needs_compiled
def test_a_batch_larger_than_the_kernel_takes_goes_in_parts() -> None:
    """More than UIO_MAXIOV (1024) datagrams: MmsgBackend splits the call, nothing lost."""
    assert fastsend is not None
    sink = receivers(socket.AF_INET, "127.0.0.1", 1)[0]
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    backend = MmsgBackend(fastsend)
    dest = backend.destination(sink.getsockname(), socket.AF_INET)
    datagrams = [(n.to_bytes(2, "big"), dest) for n in range(1500)]
    status = bytearray(1500)
    assert backend.send(sender, sender.fileno(), datagrams, status) == 1500
    assert [int.from_bytes(d, "big") for d in drain(sink)] == list(range(1500))
    sender.close()
    sink.close()


def test_the_backend_is_chosen_once_and_the_fallback_can_be_forced() -> None:
    assert send_backend.choose("sendto").name == "sendto"
    assert send_backend.choose("sendto") is send_backend.choose("sendto")
    expected = "sendmmsg" if fastsend is not None else "sendto"
    assert send_backend.choose("auto").name == expected
