"""The remote-candidate decision (streaming/candidate_filter.py), as a table."""

from __future__ import annotations

import pytest

from streaming.candidate_filter import CandidatePolicy, parse, verdict

STRICT = CandidatePolicy()
OPEN = CandidatePolicy(allow_loopback=True, allow_private=True)


def line(address: str, port: int | str = 50_000, transport: str = "udp") -> str:
    return f"candidate:1 1 {transport} 2122260223 {address} {port} typ host generation 0"


TABLE = [
    # (candidate line, verdict with nothing allowed, verdict with loopback + private allowed)
    (line("198.51.100.7"), None, None),
    (line("2001:db8::7"), None, None),
    (line("192.0.2.2"), None, None),  # documentation ranges are not private ones
    ("a=" + line("203.0.113.9"), None, None),  # as an SDP attribute line
    (line("203.0.113.9").removeprefix("candidate:"), None, None),  # the bare value
    (line("ff02::1"), "multicast", "multicast"),
    (line("224.0.0.251"), "multicast", "multicast"),
    (line("239.255.255.250"), "multicast", "multicast"),
    (line("255.255.255.255"), "broadcast", "broadcast"),
    (line("240.0.0.1"), "reserved", "reserved"),
    (line("0.0.0.0"), "unspecified", "unspecified"),
    (line("0.1.2.3"), "unspecified", "unspecified"),
    (line("::"), "unspecified", "unspecified"),
    (line("198.51.100.7", 0), "port out of range", "port out of range"),
    (line("198.51.100.7", 65_536), "port out of range", "port out of range"),
    (line("127.0.0.1"), "loopback", None),
    (line("127.8.9.10"), "loopback", None),
    (line("::1"), "loopback", None),
    (line("::ffff:127.0.0.1"), "loopback", None),  # IPv4-mapped: judged as IPv4
    (line("::ffff:224.0.0.1"), "multicast", "multicast"),
    (line("10.1.2.3"), "private", None),
    (line("172.16.0.1"), "private", None),
    (line("172.31.255.254"), "private", None),
    (line("172.32.0.1"), None, None),
    (line("192.168.1.20"), "private", None),
    (line("100.64.0.1"), "private", None),
    (line("169.254.10.10"), "private", None),
    (line("fd00::2"), "private", None),
    (line("fe80::1"), "private", None),
    # never resolved: the answer would wait on it (issue 14 §7); learned from the checks instead
    (line("3f2a1c4e-8b7d-4c1e-9f0a-2b3c4d5e6f70.local"), "mDNS name", "mDNS name"),
    (line("example.com"), "not an IP address", "not an IP address"),
    (line("198.51.100.7", "x9"), "unparsable", "unparsable"),
    ("candidate:1 1 udp 2122260223 198.51.100.7 9 host", "unparsable", "unparsable"),  # no typ
    ("candidate:1 1 udp", "unparsable", "unparsable"),
    ("", "unparsable", "unparsable"),
    # ICE-TCP: the node's candidates are passive; it never connects to a client's (issue 19)
    (line("198.51.100.7", 9, "tcp") + " tcptype active",
     "tcp: the node connects to no one", "tcp: the node connects to no one"),
    (line("198.51.100.7", 443, "TCP") + " tcptype passive",
     "tcp: the node connects to no one", "tcp: the node connects to no one"),
]


@pytest.mark.parametrize(("candidate", "strict", "allowed"), TABLE)
def test_verdict(candidate: str, strict: str | None, allowed: str | None) -> None:
    assert verdict(candidate, STRICT) == strict
    assert verdict(candidate, OPEN) == allowed


def test_loopback_and_private_are_separate_switches() -> None:
    loopback_only = CandidatePolicy(allow_loopback=True)
    assert verdict(line("127.0.0.1"), loopback_only) is None
    assert verdict(line("10.0.0.1"), loopback_only) == "private"
    private_only = CandidatePolicy(allow_private=True)
    assert verdict(line("::1"), private_only) == "loopback"
    assert verdict(line("fd00::1"), private_only) is None


def test_parse_says_what_is_missing() -> None:
    parsed = parse("a=candidate:1 1 UDP 2015363327 198.51.100.7 46490 typ host")
    assert (parsed.transport, parsed.host, parsed.port) == ("udp", "198.51.100.7", 46490)
    with pytest.raises(ValueError, match="typ <type>"):
        parse("candidate:1 1 udp 1 198.51.100.7 9")
