"""The RTMP wire, pure (issue 16 §8): handshake, chunk streams, AMF0, table-tested with hostile
inputs. No sockets."""

from __future__ import annotations

import struct

import pytest

from streaming.rtmp import amf0
from streaming.rtmp.chunks import (
    MAX_MESSAGE,
    MAX_STREAMS,
    ChunkReader,
    ChunkWriter,
    Message,
)
from streaming.rtmp.errors import RtmpError
from streaming.rtmp.handshake import SIZE, Handshake

# -- handshake ---------------------------------------------------------------------------------


def test_handshake_answers_c0_c1_then_waits_for_c2_in_pieces() -> None:
    c1 = bytes(range(256)) * 6
    shake = Handshake(epoch_ms=1234)
    assert shake.feed(b"\x03" + c1[:100]) == b""  # C1 incomplete: nothing yet
    out = shake.feed(c1[100:])
    assert len(out) == 1 + 2 * SIZE and out[0] == 3
    assert struct.unpack(">I", out[1:5])[0] == 1234  # S1 time
    assert out[1 + SIZE:] == c1  # S2 echoes C1
    assert not shake.done
    assert shake.feed(b"\x00" * (SIZE - 1)) == b"" and not shake.done
    assert shake.feed(b"\x00" + b"rest") == b""
    assert shake.done and shake.rest == b"rest"


@pytest.mark.parametrize("first", [b"GET / HTTP/1.1\r\n", b"\x06", b"\x16\x03\x01"])
def test_handshake_refuses_what_is_no_rtmp(first: bytes) -> None:
    with pytest.raises(RtmpError, match=r"RTMP version .* is not supported"):
        Handshake().feed(first)


# -- AMF0 --------------------------------------------------------------------------------------

ROUND_TRIPS: list[amf0.Value] = [
    0.0, -1.5, 1e300, True, False, "", "publish", "直播 трансляция", None,
    {"app": "live", "tcUrl": "rtmp://h/live", "fpad": False, "audioCodecs": 3191.0},
    {"nested": {"deeper": [1.0, "two", None, {"x": True}]}}, [], ["a", 2.0],
    "x" * 70_000,  # a long string (marker 12)
]


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=range(len(ROUND_TRIPS)))
def test_amf0_round_trips(value: amf0.Value) -> None:
    assert amf0.decode_all(amf0.encode(value, "after")) == [value, "after"]


def test_amf0_reads_ecma_arrays_dates_and_undefined() -> None:
    ecma = b"\x08\x00\x00\x00\x09" + b"\x00\x08duration" + amf0.encode(0.0) + b"\x00\x00\x09"
    date = b"\x0b" + struct.pack(">d", 1.5e12) + b"\x00\x00"
    assert amf0.decode_all(ecma + date + b"\x06") == [{"duration": 0.0}, 1.5e12, None]


HOSTILE_AMF = {
    "truncated number": (b"\x00\x01\x02", "truncated"),
    "truncated string": (b"\x02\x00\x10abc", "truncated"),
    "object never ends": (b"\x03\x00\x01a\x05", "truncated"),
    "unknown marker": (b"\x0d", "marker 13 is not supported"),
    "amf3 switch": (b"\x11", "marker 17 is not supported"),
    "reference": (b"\x07\x00\x01", "marker 7 is not supported"),
    "deep nesting": (b"\x0a\x00\x00\x00\x01" * 20 + b"\x05", "nest deeper"),
    "huge strict array": (b"\x0a\xff\xff\xff\xff", "too long"),
    "many values": (b"\x05" * 2000, "more than 1024 values"),
    "bad utf-8": (b"\x02\x00\x02\xff\xfe", "not UTF-8"),
}


@pytest.mark.parametrize("case", HOSTILE_AMF)
def test_amf0_hostile_input_is_a_clear_error(case: str) -> None:
    data, message = HOSTILE_AMF[case]
    with pytest.raises(RtmpError, match=message):
        amf0.decode_all(data)


# -- chunk streams -----------------------------------------------------------------------------


def chunk(fmt: int, csid: int, header: bytes, payload: bytes) -> bytes:
    return bytes([fmt << 6 | csid]) + header + payload


def h0(ts: int, length: int, type_id: int, stream_id: int = 1) -> bytes:
    return ts.to_bytes(3, "big") + length.to_bytes(3, "big") + bytes([type_id]) + \
        struct.pack("<I", stream_id)


def test_writer_and_reader_agree_across_chunk_sizes_and_stream_ids() -> None:
    for size in (1, 128, 4096):
        for csid in (2, 63, 64, 319, 320, 65599):
            payload = bytes(range(256)) * 40
            data = ChunkWriter(size).write(csid, 9, 1, 0x1234, payload)
            reader = ChunkReader()
            reader.chunk_size = size
            assert reader.feed(data) == [Message(csid, 9, 1, 0x1234, payload)]


def test_reader_takes_any_split_of_the_bytes() -> None:
    data = ChunkWriter(128).write(4, 8, 1, 40, b"a" * 300) + \
        ChunkWriter(128).write(6, 9, 1, 40, b"v" * 10)
    for cut in range(len(data)):
        reader = ChunkReader()
        got = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert [m.payload for m in got] == [b"a" * 300, b"v" * 10], cut


def test_header_types_inherit_and_add_deltas() -> None:
    """Type 0 absolute, type 1 and 2 deltas, type 3 the previous delta again (spec §5.3.1.2)."""
    data = (chunk(0, 4, h0(1000, 2, 8), b"a0")
            + chunk(1, 4, (20).to_bytes(3, "big") + (3).to_bytes(3, "big") + b"\x09", b"v11")
            + chunk(2, 4, (23).to_bytes(3, "big"), b"v12")
            + chunk(3, 4, b"", b"v13"))
    got = ChunkReader().feed(data)
    assert [(m.timestamp, m.type_id, m.stream_id, m.payload) for m in got] == [
        (1000, 8, 1, b"a0"), (1020, 9, 1, b"v11"), (1043, 9, 1, b"v12"), (1066, 9, 1, b"v13")]


def test_extended_timestamps_also_on_type_3_continuations() -> None:
    payload = b"x" * 200
    data = ChunkWriter(128).write(4, 9, 7, 0x01000000, payload)
    assert data.count(b"\x01\x00\x00\x00") == 2  # in the header and after the type-3 header
    assert ChunkReader().feed(data) == [Message(4, 9, 7, 0x01000000, payload)]


def test_set_chunk_size_and_abort_act_in_the_reader() -> None:
    reader = ChunkReader()
    assert reader.feed(chunk(0, 2, h0(0, 4, 1, 0), struct.pack(">I", 4096))) == []
    assert reader.chunk_size == 4096
    reader.feed(chunk(0, 5, h0(0, 5000, 9), b"p" * 4096))  # a message half sent...
    assert reader.feed(chunk(0, 2, h0(0, 4, 2, 0), struct.pack(">I", 5))) == []  # ...aborted
    assert reader.feed(chunk(0, 5, h0(0, 3, 9), b"new")) == [Message(5, 9, 1, 0, b"new")]


HOSTILE_CHUNKS = {
    "message over 4 MiB": (chunk(0, 4, h0(0, MAX_MESSAGE + 1, 9), b""), "over the"),
    "type 1 first": (chunk(1, 4, b"\x00" * 7, b""), "starts without a type-0 header"),
    "type 3 first": (chunk(3, 9, b"", b""), "starts without a type-0 header"),
    "chunk size 0": (chunk(0, 2, h0(0, 4, 1, 0), b"\x00\x00\x00\x00"), "out of range"),
    "chunk size huge": (chunk(0, 2, h0(0, 4, 1, 0), b"\x7f\xff\xff\xff"), "out of range"),
    "short control": (chunk(0, 2, h0(0, 2, 1, 0), b"\x00\x01"), "shorter than 4 bytes"),
    # every stream holds half a message: the first chunk of 200 bytes, not the rest
    # three messages of 4 MiB half sent (chunk size 1 MiB)
    "unfinished bytes": (chunk(0, 2, h0(0, 4, 1, 0), struct.pack(">I", 1 << 20)) + b"".join(
        chunk(0, c, h0(0, MAX_MESSAGE, 9), b"y" * (1 << 20)) * 1 + b"".join(
            bytes([3 << 6 | c]) + b"y" * (1 << 20) for _ in range(2))
        for c in (4, 5, 6)), "unfinished messages"),
    # (3-byte basic headers: the continuation cut off is 3 + 72 bytes)
    "too many streams": (b"".join(ChunkWriter(128).write(c, 9, 1, 0, b"x" * 200)[:-75]
                                  for c in range(320, 321 + MAX_STREAMS)), "more than 64"),
}


@pytest.mark.parametrize("case", HOSTILE_CHUNKS)
def test_hostile_chunks_are_a_clear_error(case: str) -> None:
    data, message = HOSTILE_CHUNKS[case]
    with pytest.raises(RtmpError, match=message):
        ChunkReader().feed(data)


def test_a_truncated_chunk_waits_and_holds_nothing_more() -> None:
    reader = ChunkReader()
    assert reader.feed(chunk(0, 4, h0(0, 100, 9), b"only part")) == []
    assert len(reader._buffer) == 1 + 11 + len(b"only part")
