"""RFC 4571 framing (streaming/tcp_framing.py): pure, no sockets."""

from __future__ import annotations

import pytest

from streaming.tcp_framing import MAX_FRAME, FrameReader, frame


def test_a_frame_is_its_length_then_itself() -> None:
    assert frame(b"abc") == b"\x00\x03abc"
    assert frame(b"") == b"\x00\x00"
    assert frame(bytes(MAX_FRAME))[:2] == b"\xff\xff"
    with pytest.raises(ValueError, match="at most 65535 bytes, not 65536"):
        frame(bytes(MAX_FRAME + 1))


def test_frames_come_out_whole_whatever_the_pieces() -> None:
    messages = [b"stun" * 5, bytes(range(200)), b"x", bytes(1500)]
    stream = b"".join(frame(m) for m in messages)
    for size in (1, 2, 3, 7, 100, len(stream)):
        reader = FrameReader()
        out: list[bytes] = []
        for i in range(0, len(stream), size):
            out += reader.feed(stream[i:i + size])
        assert out == messages, size
        assert reader.buffered == 0


def test_a_split_length_waits_for_its_second_byte() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x00") == []
    assert reader.buffered == 1
    assert reader.feed(b"\x02a") == []
    assert reader.feed(b"b\x00\x01") == [b"ab"]
    assert reader.buffered == 2  # the next frame's length, waiting for its body


def test_an_empty_frame_carries_nothing() -> None:
    assert FrameReader().feed(b"\x00\x00\x00\x01z\x00\x00") == [b"z"]


def test_a_length_over_the_limit_is_refused_before_its_body() -> None:
    reader = FrameReader(max_frame=1500)
    with pytest.raises(ValueError, match="frame of 1501 bytes is over the limit of 1500"):
        reader.feed(b"\x05\xdd")  # only the length: nothing of the body is awaited or held
    assert reader.buffered == 0
    with pytest.raises(ValueError, match="frame of 65535 bytes is over the limit of 1500"):
        FrameReader(1500).feed(frame(b"ok") + b"\xff\xff")


def test_the_limit_can_be_raised_for_a_validated_connection() -> None:
    reader = FrameReader(max_frame=100)
    reader.max_frame = MAX_FRAME
    assert reader.feed(frame(bytes(5000))) == [bytes(5000)]


def test_at_most_one_partial_frame_is_held() -> None:
    reader = FrameReader()
    complete = b"".join(frame(bytes(1000)) for _ in range(50))
    assert len(reader.feed(complete + b"\x10\x00" + bytes(100))) == 50
    assert reader.buffered == 102
