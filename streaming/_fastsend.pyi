from collections.abc import Sequence
from typing import Any

MAX_BATCH: int

def sendmmsg(fd: int, datagrams: Sequence[tuple[Any, bytes]], status: Any = ..., /) -> int: ...
def pack_address(host: str, port: int, family: int, /) -> bytes: ...

class Numbers:
    """A Forwarder's numbers, kept in C for fanout()."""

    seq_offset: int
    ts_offset: int
    last_seq: int
    last_ts: int

class Counts:
    """A Subscription's counters, SSRC and keyframe wait, kept in C for fanout()."""

    packets: int
    octets: int
    ssrc: int
    waiting_keyframe: bool
