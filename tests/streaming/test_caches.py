"""The NACK packet cache, the keyframe (GOP) cache and the PLI throttle: pure and bounded."""

from __future__ import annotations

import pytest

from streaming.feedback import KeyframeRequests, NackWindow
from streaming.packet_cache import KeyframeCache, PacketCache


def test_packet_cache_hit_miss_and_eviction() -> None:
    cache = PacketCache(4)
    for seq in range(65533, 65536):
        cache.add(seq, bytes([seq % 256]))
    cache.add(0, b"\x00")
    assert cache.get(65535) == b"\xff"
    assert cache.get(0) == b"\x00"
    cache.add(4, b"\x04")  # same slot as 0
    assert cache.get(0) is None
    assert cache.get(4) == b"\x04"
    assert cache.get(12345) is None
    cache.clear()
    assert cache.get(4) is None


def test_packet_cache_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"^packet cache size must be positive$"):
        PacketCache(0)


def test_keyframe_cache_keeps_packets_since_last_keyframe() -> None:
    gop = KeyframeCache(limit=3)
    assert not gop.ready
    gop.append(b"p0")  # before any keyframe: nothing to start from
    assert not gop.ready
    gop.start(b"k1")
    gop.append(b"p1")
    assert gop.ready and gop.packets == [b"k1", b"p1"]
    gop.start(b"k2")
    assert gop.packets == [b"k2"]


def test_keyframe_cache_overflow_stops_caching_until_next_keyframe() -> None:
    gop = KeyframeCache(limit=2)
    gop.start(b"k")
    gop.append(b"p1")
    gop.append(b"p2")  # over the limit: a GOP this long is not cached
    assert not gop.ready
    gop.append(b"p3")
    assert not gop.ready
    gop.start(b"k2")
    assert gop.ready


def test_pli_throttle_merges_and_sends_pending_when_window_ends() -> None:
    requests = KeyframeRequests(interval_s=0.5)
    assert requests.request(10.0) is True
    assert requests.request(10.1) is False
    assert requests.request(10.2) is False
    assert requests.due_in(10.2) == pytest.approx(0.3)
    assert requests.flush(10.3) is False
    assert requests.flush(10.5) is True
    assert requests.flush(10.6) is False  # nothing pending any more
    assert requests.sent == 2


def test_pli_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"^keyframe request interval must be positive$"):
        KeyframeRequests(0)


def test_nacks_of_many_viewers_go_upstream_once_per_window() -> None:
    # issue 13 §3: an edge asks its origin for a packet it lacks once, however many ask it
    window = NackWindow(window_s=0.2)
    assert window.fresh([7, 8, 8, 9], now=1.0) == [7, 8, 9]  # duplicates in one NACK too
    assert window.fresh([8, 9, 10], now=1.1) == [10]  # a second viewer, same gap
    assert window.merged == 2
    assert window.fresh([7, 10], now=1.25) == [7]  # 7 asked 0.25 s ago: again; 10 not yet
    assert window.fresh([10], now=1.31) == [10]


def test_nack_window_is_bounded_and_must_be_positive() -> None:
    window = NackWindow(window_s=10, size=3)
    assert window.fresh([1, 2, 3, 4], now=0) == [1, 2, 3, 4]
    assert window.fresh([1], now=1) == [1]  # the oldest was forgotten to stay at 3
    assert window.fresh([4], now=1) == []
    with pytest.raises(ValueError, match=r"^NACK merge window must be positive$"):
        NackWindow(0)
