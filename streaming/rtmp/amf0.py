"""AMF0 (Adobe AMF0 spec, 2007): the values of RTMP commands, decoded and encoded.

Supported: number, boolean, string, long string, object, null, undefined, ECMA array, strict
array, date (read as a number). Anything else (references, XML, typed objects, AMF3 switch) is
an :class:`RtmpError`; so is nesting deeper than :data:`MAX_DEPTH` or more than
:data:`MAX_ITEMS` values in one message, so a hostile command cannot make the server build a
huge structure.
"""

from __future__ import annotations

import struct
from typing import TypeAlias

from streaming.rtmp.errors import RtmpError

Value: TypeAlias = float | bool | str | dict[str, "Value"] | list["Value"] | None

MAX_DEPTH = 8
MAX_ITEMS = 1024

NUMBER, BOOLEAN, STRING, OBJECT, NULL, UNDEFINED, ECMA_ARRAY, OBJECT_END = 0, 1, 2, 3, 5, 6, 8, 9
STRICT_ARRAY, DATE, LONG_STRING = 10, 11, 12


def decode_all(data: bytes) -> list[Value]:
    """Every value of a command message body, in order."""
    reader = _Reader(data)
    values: list[Value] = []
    while reader.pos < len(data):
        values.append(reader.value(0))
    return values


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.items = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise RtmpError("AMF0 value is truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def string(self, long: bool = False) -> str:
        size = struct.unpack(">I" if long else ">H", self.take(4 if long else 2))[0]
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError:
            raise RtmpError("AMF0 string is not UTF-8") from None

    def value(self, depth: int) -> Value:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise RtmpError(f"AMF0 message has more than {MAX_ITEMS} values")
        if depth > MAX_DEPTH:
            raise RtmpError(f"AMF0 values nest deeper than {MAX_DEPTH}")
        marker = self.take(1)[0]
        if marker in (NUMBER, DATE):
            number = float(struct.unpack(">d", self.take(8))[0])
            if marker == DATE:
                self.take(2)  # time zone, unused (spec §2.13)
            return number
        if marker == BOOLEAN:
            return self.take(1)[0] != 0
        if marker in (STRING, LONG_STRING):
            return self.string(long=marker == LONG_STRING)
        if marker in (NULL, UNDEFINED):
            return None
        if marker == OBJECT:
            return self.members(depth)
        if marker == ECMA_ARRAY:
            self.take(4)  # an approximate count (spec §2.10): the end marker decides
            return self.members(depth)
        if marker == STRICT_ARRAY:
            count = struct.unpack(">I", self.take(4))[0]
            if count > MAX_ITEMS:
                raise RtmpError(f"AMF0 strict array of {count} values is too long")
            return [self.value(depth + 1) for _ in range(count)]
        raise RtmpError(f"AMF0 type marker {marker} is not supported")

    def members(self, depth: int) -> dict[str, Value]:
        members: dict[str, Value] = {}
        while True:
            key = self.string()
            if key == "" and self.data[self.pos:self.pos + 1] == bytes([OBJECT_END]):
                self.pos += 1
                return members
            members[key] = self.value(depth + 1)


def encode(*values: Value) -> bytes:
    """The AMF0 encoding of ``values`` one after another (a command message body)."""
    return b"".join(_encode(value) for value in values)


def _encode(value: Value) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, bool):
        return bytes([BOOLEAN, int(value)])
    if isinstance(value, int | float):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode("utf-8")
        if len(raw) > 0xFFFF:
            return bytes([LONG_STRING]) + struct.pack(">I", len(raw)) + raw
        return bytes([STRING]) + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        body = b"".join(_key(k) + _encode(v) for k, v in value.items())
        return bytes([OBJECT]) + body + b"\x00\x00" + bytes([OBJECT_END])
    return bytes([STRICT_ARRAY]) + struct.pack(">I", len(value)) + b"".join(map(_encode, value))


def _key(key: str) -> bytes:
    raw = key.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw
