from collections.abc import Sequence
from typing import Any

MAX_BATCH: int

def sendmmsg(fd: int, datagrams: Sequence[tuple[Any, bytes]], status: Any = ..., /) -> int: ...
def pack_address(host: str, port: int, family: int, /) -> bytes: ...
