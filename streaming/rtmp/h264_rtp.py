"""H.264 access units → RTP payloads (RFC 6184, packetization-mode 1).

A NAL unit that fits :data:`~streaming.rtmp.rtp_out.MTU_PAYLOAD` goes as a single NAL unit
packet (§5.6); a larger one as FU-A fragments (§5.8): FU indicator (F, NRI of the NAL, type
28), FU header (S/E bits, the NAL's type), then a slice of the NAL without its header byte.
STAP-A is not used. An access unit that holds an IDR slice gets the stream's SPS and PPS in
front when it has none of its own, so a viewer (and the keyframe cache) can start at any
IDR. Access unit delimiters (type 9) are dropped (RFC 6184 §5.3 allows it; they carry
nothing a decoder needs). The marker bit is set on the access unit's last packet (§5.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from streaming.rtmp.rtp_out import MTU_PAYLOAD

FU_A = 28
IDR, SPS, PPS, AUD = 5, 7, 8, 9


def access_unit(nals: Sequence[bytes], sps: Sequence[bytes], pps: Sequence[bytes]) -> list[bytes]:
    """The NAL units to send for one access unit: AUDs out, parameter sets before an IDR."""
    kept = [nal for nal in nals if nal and nal[0] & 0x1F != AUD]
    types = {nal[0] & 0x1F for nal in kept}
    if IDR in types and SPS not in types:
        kept = [*sps, *pps, *kept]
    return kept


def payloads(nals: Sequence[bytes], mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """RTP payloads of one access unit's NAL units, in order (the last carries the marker)."""
    out: list[bytes] = []
    for nal in nals:
        if len(nal) <= mtu:
            out.append(nal)
        else:
            out.extend(fragments(nal, mtu))
    return out


def fragments(nal: bytes, mtu: int = MTU_PAYLOAD) -> list[bytes]:
    """FU-A fragments of one NAL unit (RFC 6184 §5.8)."""
    indicator = (nal[0] & 0xE0) | FU_A
    kind = nal[0] & 0x1F
    body = nal[1:]
    step = mtu - 2
    out = []
    for start in range(0, len(body), step):
        first, last = start == 0, start + step >= len(body)
        header = (0x80 if first else 0) | (0x40 if last else 0) | kind
        out.append(bytes([indicator, header]) + body[start:start + step])
    return out
