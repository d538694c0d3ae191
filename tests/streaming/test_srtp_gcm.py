"""The compiled AES-GCM SRTP (streaming/_srtpgcm.c) against libsrtp, byte for byte (issue 19).

libsrtp here is pylibsrtp's, with aiortc's outbound policy (ssrc_any_outbound,
allow_repeat_tx, window_size 1024): what protected every viewer's RTP before. Same master key,
same packets in the same order, so the same octets (GCM is deterministic for a given key and
IV) and the same refusals, through sequence wraps (the rollover counter), retransmissions,
reordering, several SSRCs, CSRCs and header extensions.
"""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pylibsrtp import Error, Policy, Session

from streaming import srtp_protection

compiled = srtp_protection.compiled()
pytestmark = pytest.mark.skipif(compiled is None, reason="streaming._srtpgcm is not built")
PROFILES = {16: Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 32: Policy.SRTP_PROFILE_AEAD_AES_256_GCM}


def _libsrtp(master: bytes) -> Session:
    policy = Policy(key=master, ssrc_type=Policy.SSRC_ANY_OUTBOUND,
                    srtp_profile=PROFILES[len(master) - 12])
    policy.allow_repeat_tx = True
    policy.window_size = srtp_protection.WINDOW
    return Session(policy)


def _packet(seq: int, ssrc: int, csrcs: int, extension: bytes | None, payload: bytes) -> bytes:
    first = 0x80 | (0x10 if extension is not None else 0) | csrcs
    header = bytes([first, 96]) + struct.pack("!HII", seq, seq * 3000 & 0xFFFFFFFF, ssrc)
    header += b"".join(struct.pack("!I", 1000 + n) for n in range(csrcs))
    if extension is not None:
        header += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    return header + payload


def _both(mine: object, reference: Session, packet: bytes) -> tuple[bytes | None, bytes | None]:
    try:
        theirs: bytes | None = reference.protect(packet)
    except Error:
        theirs = None
    try:
        ours: bytes | None = mine.protect(packet)  # type: ignore[attr-defined]
    except ValueError:
        ours = None
    return ours, theirs


steps = st.lists(st.tuples(
    st.sampled_from([1] * 12 + [2, 0, -1, -5, -200, -1023, -1030, 900, 30_000, 40_000]),
    st.sampled_from([0x1234, 0xCAFE0001]),
    st.sampled_from([0, 2]),
    st.sampled_from([None, b"\x10\xaa\x00\x00", b"\x22\x01\x02\x03\x31\x00\x00\x00"]),
    st.integers(min_value=0, max_value=1200),
), min_size=1, max_size=400)


@settings(max_examples=60, deadline=None)
@given(key_len=st.sampled_from([16, 32]), start=st.integers(0, 0xFFFF), walk=steps)
def test_the_same_octets_and_refusals_as_libsrtp(key_len: int, start: int,
                                                  walk: list[tuple[int, int, int, bytes | None,
                                                                   int]]) -> None:
    master = os.urandom(key_len + 12)
    mine, reference = compiled.Protector(master, srtp_protection.WINDOW), _libsrtp(master)
    seqs = {0x1234: start, 0xCAFE0001: (start + 7_000) & 0xFFFF}
    for step, ssrc, csrcs, extension, size in walk:
        seqs[ssrc] = (seqs[ssrc] + step) & 0xFFFF
        packet = _packet(seqs[ssrc], ssrc, csrcs, extension, bytes(size))
        ours, theirs = _both(mine, reference, packet)
        assert ours == theirs, (seqs[ssrc], ssrc, ours is None, theirs is None)


def test_many_rollovers_stay_in_step() -> None:
    """Past the first rollover the index is ROC << 16 | SEQ in the IV: 300,000 packets wrap
    the sequence four times, with a retransmission of an older packet every 50."""
    master = os.urandom(44)
    mine, reference = compiled.Protector(master, srtp_protection.WINDOW), _libsrtp(master)
    seq = 60_000
    for n in range(300_000):
        seq = (seq + 1) & 0xFFFF
        sent = (seq - 40) & 0xFFFF if n % 50 == 49 else seq
        packet = _packet(sent, 0x42, 0, None, b"\x01\x02\x03")
        ours, theirs = _both(mine, reference, packet)
        assert ours is not None and ours == theirs, (n, sent)


@pytest.mark.parametrize("packet", [
    b"", b"\x80" * 11,  # shorter than a header
    bytes([0x83, 96]) + bytes(14),  # three CSRCs announced, one and a half there
    bytes([0x90, 96]) + bytes(10) + b"\xbe\xde\x00\x05" + bytes(4),  # an extension past the end
])
def test_a_malformed_header_is_refused_like_libsrtp(packet: bytes) -> None:
    master = os.urandom(28)
    ours, theirs = _both(compiled.Protector(master), _libsrtp(master), packet)
    assert ours is None and theirs is None


@pytest.mark.parametrize("master", [b"", bytes(28 + 1), bytes(16 + 14)])
def test_a_master_of_another_length_is_refused(master: bytes) -> None:
    with pytest.raises(ValueError, match="16- or 32-octet key"):
        compiled.Protector(master)


def test_an_unprotect_by_libsrtp_gives_the_packet_back() -> None:
    master = os.urandom(28)
    receiver = Policy(key=master, ssrc_type=Policy.SSRC_ANY_INBOUND,
                      srtp_profile=PROFILES[16])
    packet = _packet(17, 0x99, 1, b"\x10\xaa\x00\x00", b"payload" * 100)
    assert Session(receiver).unprotect(compiled.Protector(master).protect(packet)) == packet


@pytest.mark.parametrize("behind", [1, 1022, 1023, 1024, 1025, 20_000])
def test_a_retransmission_is_protected_within_the_window_and_refused_beyond(behind: int) -> None:
    """libsrtp's window of 1,024: a packet up to 1,023 behind the highest is protected again
    (allow_repeat_tx), one 1,024 or more behind is refused (replay_old)."""
    master = os.urandom(28)
    mine, reference = compiled.Protector(master, srtp_protection.WINDOW), _libsrtp(master)
    for seq in range(50_000, 50_000 + 3):
        assert _both(mine, reference, _packet(seq, 7, 0, None, b"x"))[0] is not None
    ours, theirs = _both(mine, reference, _packet(50_002 - behind, 7, 0, None, b"x"))
    assert ours == theirs
    assert (ours is None) == (behind >= 1024)
