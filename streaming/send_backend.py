"""How the fan-out hands datagrams to the kernel: ``sendmmsg`` (compiled) or ``sendto``.

``streaming._fastsend`` (streaming/_fastsend.c, built by ``pip install``) sends a list of
(buffer, sockaddr) pairs in one ``sendmmsg`` system call; where it is missing, or the setting
``[media] send_backend = "sendto"`` (env ``PAVILION_MEDIA__SEND_BACKEND``) asks for it, the
same batch goes out one ``sendto`` at a time, with the same results. :func:`choose` picks one
at start-up and logs the choice once; ``/metrics`` reports it
(``pavilion_media_send_backend{backend=...}``).

Both fill ``status`` with one octet per datagram: :data:`SENT`, :data:`BLOCKED` (the socket's
buffer was full: the caller queues it) or :data:`REFUSED` (an error for that datagram only).
"""

from __future__ import annotations

import errno
import importlib
import logging
import socket
import struct
from functools import cache
from typing import Any, Protocol

logger = logging.getLogger(__name__)

SENT, BLOCKED, REFUSED = 0, 1, 2
MAX_BATCH = 1024  # UIO_MAXIOV: the most datagrams one sendmmsg call takes

Datagram = tuple[Any, Any]  # (buffer, destination from SendBackend.destination)


class SendBackend(Protocol):
    """Sends a batch of datagrams on one socket; never blocks."""

    name: str

    def destination(self, addr: tuple[str, int], family: int) -> Any:
        """The form this backend wants a viewer's address in (made once per viewer)."""
        ...

    def send(self, sock: socket.socket, fd: int, datagrams: list[Datagram],
             status: bytearray) -> int:
        """Send ``datagrams`` on ``sock`` (whose descriptor is ``fd``); returns how many were
        sent and sets ``status[i]`` for each; ``OSError`` only for a socket that is unusable."""
        ...

    def port(self, ctx: int, protect: int) -> Any | None:
        """A compiled fan-out ``Port`` for one viewer connection (streaming/_fastsend.c), or
        None where the fan-out's per-viewer loop stays in Python."""
        ...


class SendtoBackend:
    """The pure-Python fallback: one ``sendto`` per datagram."""

    name = "sendto"

    def destination(self, addr: tuple[str, int], family: int) -> Any:
        return addr

    def send(self, sock: socket.socket, fd: int, datagrams: list[Datagram],
             status: bytearray) -> int:
        sendto = sock.sendto
        sent = 0
        blocked = False
        for i, (data, addr) in enumerate(datagrams):
            if blocked:
                status[i] = BLOCKED
                continue
            try:
                sendto(data, addr)
            except BlockingIOError:
                try:  # tried once more, as sendmmsg does
                    sendto(data, addr)
                except BlockingIOError:
                    blocked = True
                    status[i] = BLOCKED
                    continue
                except OSError as exc:
                    status[i] = _refused(exc)
                    continue
            except OSError as exc:
                status[i] = _refused(exc)
                continue
            status[i] = SENT
            sent += 1
        return sent

    def port(self, ctx: int, protect: int) -> Any | None:
        return None


def _refused(exc: OSError) -> int:
    if exc.errno in UNUSABLE:
        raise exc  # the socket itself is unusable: raised, as sendmmsg raises it
    return REFUSED


UNUSABLE = frozenset({errno.EBADF, errno.ENOTSOCK})


class MmsgBackend:
    """``sendmmsg`` through the compiled ``streaming._fastsend``."""

    name = "sendmmsg"

    def __init__(self, module: Any) -> None:
        self._sendmmsg = module.sendmmsg
        self._pack = module.pack_address
        self._port = module.Port

    def port(self, ctx: int, protect: int) -> Any | None:
        return self._port(ctx, protect)

    def destination(self, addr: tuple[str, int], family: int) -> Any:
        if family == socket.AF_UNIX:  # a datagram socket's path (tests: it pushes back)
            return struct.pack("=H", socket.AF_UNIX) + str(addr).encode() + b"\0"
        return self._pack(addr[0], addr[1], family)

    def send(self, sock: socket.socket, fd: int, datagrams: list[Datagram],
             status: bytearray) -> int:
        if len(datagrams) <= MAX_BATCH:
            return int(self._sendmmsg(fd, datagrams, status))
        sent = 0
        for start in range(0, len(datagrams), MAX_BATCH):
            part = datagrams[start : start + MAX_BATCH]
            view = memoryview(status)[start : start + len(part)]
            sent += int(self._sendmmsg(fd, part, view))
        return sent


def compiled() -> Any | None:
    """The compiled module, or None where it was not built."""
    try:  # by name: a compiled module is no node of the import graph the linters check
        return importlib.import_module("streaming._fastsend")
    except ImportError:
        return None


def fanout(preference: str = "auto") -> Any | None:
    """The compiled per-viewer loop (``streaming._fastsend.fanout``) for ``preference``, or
    None: not built, or ``send_backend = "sendto"`` (everything in Python, as before)."""
    module = compiled() if preference != "sendto" else None
    return None if module is None else module.fanout


@cache
def choose(preference: str = "auto") -> SendBackend:
    """The backend for ``preference`` ("auto": sendmmsg where built, else sendto; "sendto":
    always the fallback); logged once per process and preference."""
    module = compiled() if preference != "sendto" else None
    backend: SendBackend = MmsgBackend(module) if module is not None else SendtoBackend()
    if module is None and preference != "sendto":
        logger.warning("streaming._fastsend is not built: the fan-out sends with sendto"
                       " (reinstall with a C compiler for sendmmsg)")
    else:
        logger.info("the fan-out sends with %s", backend.name)
    return backend
