"""The SDES chunk sent with each translated sender report (RFC 3550 §6.5), read back by aiortc's
own RTCP parser."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtcpPacket, RtcpSdesPacket

from streaming.subscription import sdes_cname


@pytest.mark.parametrize("cname", ["a", "abc", "abcd", "{7f0c5a1e-9a8b-4c52-8b1d-0e0f1a2b3c4d}"])
def test_sdes_cname_is_padded_and_parses(cname: str) -> None:
    packet = sdes_cname(0x1234ABCD, cname)
    assert len(packet) % 4 == 0
    [parsed] = RtcpPacket.parse(packet)
    assert isinstance(parsed, RtcpSdesPacket)
    [chunk] = parsed.chunks
    assert chunk.ssrc == 0x1234ABCD and chunk.items == [(1, cname.encode())]
