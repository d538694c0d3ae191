"""RTMP chunk streams (RTMP spec 1.0 §5.3): bytes ↔ messages.

:class:`ChunkReader` is fed bytes and returns whole :class:`Message` s: basic headers of 1–3
bytes, message headers of type 0–3, extended timestamps (also repeated on type-3 chunks, as
FFmpeg and OBS send them), Set Chunk Size and Abort applied here. Bounds, so an encoder cannot
make the server hold much: a message longer than :data:`MAX_MESSAGE` (4 MiB), more than
:data:`MAX_STREAMS` chunk streams at once, or more than :data:`MAX_PENDING` bytes of
unfinished messages over all of them is an :class:`RtmpError`. :class:`ChunkWriter` cuts
messages into chunks of its chunk size (type 0 then type 3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from streaming.rtmp.errors import RtmpError

MAX_MESSAGE = 4 << 20
MAX_STREAMS = 64
MAX_PENDING = 8 << 20  # bytes of unfinished messages over all chunk streams
DEFAULT_CHUNK = 128
MAX_CHUNK = 1 << 24  # a Set Chunk Size above this is refused (spec allows 2^31-1)
EXTENDED = 0xFFFFFF

# message type ids (spec §5.4, §7.1)
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK, PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0 = 8, 9, 15, 17, 18, 20


@dataclass(frozen=True, slots=True)
class Message:
    """One reassembled RTMP message; ``timestamp`` in ms (absolute, 32 bits)."""

    csid: int
    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass(slots=True)
class _Stream:
    """What the previous chunk of one chunk stream said (headers of type 1–3 inherit it)."""

    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    extended: bool = False
    partial: bytearray = field(default_factory=bytearray)
    started: bool = False


class ChunkReader:
    """Bytes in, messages out; keeps at most one chunk of unparsed bytes plus partial messages."""

    def __init__(self) -> None:
        self.chunk_size = DEFAULT_CHUNK
        self._buffer = bytearray()
        self._streams: dict[int, _Stream] = {}
        self._pending = 0

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while True:
            message, used = self._chunk()
            if used == 0:
                return messages
            del self._buffer[:used]
            if message is not None:
                messages.extend(self._control(message))

    def _control(self, message: Message) -> list[Message]:
        """Set Chunk Size and Abort act here; every other message goes up."""
        if message.type_id == SET_CHUNK_SIZE:
            size = _u32(message.payload) & 0x7FFFFFFF
            if not 1 <= size <= MAX_CHUNK:
                raise RtmpError(f"chunk size {size} is out of range")
            self.chunk_size = size
            return []
        if message.type_id == ABORT:
            stream = self._streams.get(_u32(message.payload))
            if stream is not None:
                self._pending -= len(stream.partial)
                stream.partial.clear()
            return []
        return [message]

    def _chunk(self) -> tuple[Message | None, int]:
        """One chunk from the buffer: (a completed message or None, bytes used; 0: need more)."""
        buf = self._buffer
        basic = _basic_header(buf)
        if basic is None:
            return None, 0
        fmt, csid, pos = basic
        stream = self._streams.get(csid)
        if stream is None:
            if fmt != 0:
                raise RtmpError(f"chunk stream {csid} starts without a type-0 header")
            if len(self._streams) >= MAX_STREAMS:
                raise RtmpError(f"more than {MAX_STREAMS} chunk streams")
            stream = _Stream()
        header = _message_header(buf, pos, fmt, stream)
        if header is None:
            return None, 0
        pos, ts_field, length, type_id, stream_id = header
        extended = ts_field == EXTENDED if fmt != 3 else stream.extended
        if extended:
            if len(buf) < pos + 4:
                return None, 0
            ts_field = _u32(bytes(buf[pos:pos + 4]))
            pos += 4
        if length > MAX_MESSAGE:
            raise RtmpError(f"message of {length} bytes is over the {MAX_MESSAGE}-byte limit")
        starting = not stream.partial
        have = len(stream.partial) if not starting else 0
        take = min(self.chunk_size, length - have)
        if len(buf) < pos + take:
            return None, 0
        if self._pending + take > MAX_PENDING:
            raise RtmpError(f"more than {MAX_PENDING} bytes of unfinished messages")
        self._streams[csid] = stream
        if starting:
            self._start(stream, fmt, ts_field, length, type_id, stream_id, extended)
        stream.partial += buf[pos:pos + take]
        self._pending += take
        pos += take
        if len(stream.partial) < stream.length:
            return None, pos
        payload = bytes(stream.partial)
        self._pending -= len(payload)
        stream.partial.clear()
        return Message(csid, stream.type_id, stream.stream_id, stream.timestamp, payload), pos

    @staticmethod
    def _start(stream: _Stream, fmt: int, ts_field: int, length: int, type_id: int,
               stream_id: int, extended: bool) -> None:
        """A new message on ``stream``: its header fields, absolute or delta timestamp."""
        if fmt == 0:
            stream.timestamp = ts_field
            stream.delta = ts_field  # FFmpeg's reading: a type 3 after it adds this again
        elif fmt in (1, 2):
            stream.delta = ts_field
            stream.timestamp = (stream.timestamp + ts_field) & 0xFFFFFFFF
        else:  # type 3 starting a message: the previous delta again (spec §5.3.1.2.4)
            stream.timestamp = (stream.timestamp + stream.delta) & 0xFFFFFFFF
        stream.length, stream.type_id, stream.stream_id = length, type_id, stream_id
        stream.extended = extended
        stream.started = True


def _basic_header(buf: bytearray) -> tuple[int, int, int] | None:
    """(fmt, chunk stream id, header length) of the chunk at the start of ``buf``."""
    if not buf:
        return None
    fmt, low = buf[0] >> 6, buf[0] & 0x3F
    if low == 0:
        return (fmt, 64 + buf[1], 2) if len(buf) >= 2 else None
    if low == 1:
        return (fmt, 64 + buf[1] + 256 * buf[2], 3) if len(buf) >= 3 else None
    return fmt, low, 1


def _message_header(buf: bytearray, pos: int, fmt: int,
                    stream: _Stream) -> tuple[int, int, int, int, int] | None:
    """(position after it, timestamp field, length, type id, stream id); None: need more."""
    size = (11, 7, 3, 0)[fmt]
    if len(buf) < pos + size:
        return None
    h = bytes(buf[pos:pos + size])
    ts_field = int.from_bytes(h[0:3], "big") if fmt < 3 else stream.delta
    length, type_id, stream_id = stream.length, stream.type_id, stream.stream_id
    if fmt < 2:
        length, type_id = int.from_bytes(h[3:6], "big"), h[6]
    if fmt == 0:
        stream_id = struct.unpack("<I", h[7:11])[0]
    return pos + size, ts_field, length, type_id, stream_id


def _u32(payload: bytes) -> int:
    if len(payload) < 4:
        raise RtmpError("control message is shorter than 4 bytes")
    return int(struct.unpack(">I", payload[:4])[0])


class ChunkWriter:
    """Messages out as chunks of ``chunk_size`` bytes (type-0 header, then type-3 chunks)."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.chunk_size = chunk_size

    def write(self, csid: int, type_id: int, stream_id: int, timestamp: int,
              payload: bytes) -> bytes:
        ts = timestamp & 0xFFFFFFFF
        extended = ts >= EXTENDED
        ext = struct.pack(">I", ts) if extended else b""
        header = (_basic(0, csid) + (EXTENDED if extended else ts).to_bytes(3, "big")
                  + len(payload).to_bytes(3, "big") + bytes([type_id])
                  + struct.pack("<I", stream_id) + ext)
        parts = [header, payload[:self.chunk_size]]
        for start in range(self.chunk_size, len(payload), self.chunk_size):
            parts += [_basic(3, csid), ext, payload[start:start + self.chunk_size]]
        return b"".join(parts)


def _basic(fmt: int, csid: int) -> bytes:
    if 2 <= csid <= 63:
        return bytes([fmt << 6 | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([fmt << 6 | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])
