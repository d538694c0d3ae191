"""The foreign-source rule itself (streaming/transport_guard.py), pure: RFC 7983 kinds, and
which sources may feed DTLS and SRTP (the same function a one-port demultiplexer calls)."""

from __future__ import annotations

from streaming.transport_guard import KINDS, ForeignCounts, admitted, classify

PEER = ("192.0.2.7", 50_000)
OTHER = ("198.51.100.9", 50_000)


def test_kinds_by_first_byte() -> None:
    assert [classify(bytes([b])) for b in (0, 1, 3)] == ["stun"] * 3
    assert [classify(bytes([b])) for b in (20, 22, 63)] == ["dtls"] * 3
    assert [classify(bytes([b])) for b in (128, 160, 191)] == ["rtp"] * 3
    assert [classify(bytes([b])) for b in (4, 19, 64, 127, 192, 255)] == ["other"] * 6
    assert classify(b"") == "other"


def test_only_stun_passes_from_anywhere() -> None:
    assert admitted("stun", OTHER, PEER)
    assert admitted("stun", OTHER, None)
    for kind in KINDS:
        assert admitted(kind, PEER, PEER)
        assert not admitted(kind, OTHER, PEER)
        assert not admitted(kind, PEER, None)  # nothing checked yet
        assert admitted(kind, OTHER, PEER, lambda a: a == OTHER)


def test_counts_by_kind() -> None:
    counts = ForeignCounts()
    counts.add("rtp")
    counts.add("rtp")
    counts.add("dtls")
    assert counts.by_kind == {"dtls": 1, "rtp": 2, "other": 0}
    assert counts.total() == 3
