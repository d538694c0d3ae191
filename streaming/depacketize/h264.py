"""H264 access units out of RTP (RFC 6184, packetization-mode 1), in Annex B form.

Single NAL unit packets (§5.6), STAP-A aggregates (§5.7.1) and FU-A fragments (§5.8) are
joined into one access unit per RTP timestamp (the marker bit ends it, §5.1). Each NAL unit
gets a 4-byte start code (ITU-T H.264 Annex B). The latest SPS and PPS are kept and put in
front of an IDR access unit that lacks them, so every keyframe decodes on its own; an MP4
muxer takes them through :attr:`H264Depacketizer.sps`, :attr:`~H264Depacketizer.pps` and
:func:`~streaming.depacketize.parameter_sets.avcc`.
"""

from __future__ import annotations

from streaming.depacketize.assembler import Piece
from streaming.depacketize.parameter_sets import parse_sps
from streaming.depacketize.video import VideoDepacketizer
from streaming.frames import Frame
from streaming.rtp_header import RtpHeader

START_CODE = b"\x00\x00\x00\x01"
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_STAP_A = 24
NAL_FU_A = 28
UNSUPPORTED = frozenset({25, 26, 27, 29})  # STAP-B, MTAP16, MTAP24, FU-B: interleaved mode only


def stap_a_units(payload: bytes) -> list[bytes]:
    """The NAL units of a STAP-A payload: 16-bit size, unit, ... (RFC 6184 §5.7.1)."""
    units: list[bytes] = []
    pos = 1
    while pos < len(payload):
        size = int.from_bytes(payload[pos : pos + 2], "big")
        if size == 0 or pos + 2 + size > len(payload):
            raise ValueError("H264 STAP-A unit is truncated")
        units.append(payload[pos + 2 : pos + 2 + size])
        pos += 2 + size
    return units


def nal_units(payloads: list[bytes]) -> list[bytes]:
    """The NAL units of one access unit's packet payloads, in order; ``ValueError`` if broken."""
    units: list[bytes] = []
    fragment: bytearray | None = None
    for payload in payloads:
        kind = payload[0] & 0x1F
        if fragment is not None and kind != NAL_FU_A:
            raise ValueError("H264 FU-A fragment is unfinished")
        if kind == NAL_FU_A:
            fragment = _fu_a(payload, fragment, units)
        elif kind == NAL_STAP_A:
            units += stap_a_units(payload)
        elif kind in UNSUPPORTED:
            raise ValueError("H264 packet type is not allowed in packetization-mode 1")
        elif 1 <= kind <= 23:
            units.append(payload)
        # 0, 30 and 31 are undefined: RFC 6184 §5.4 says to ignore them
    if fragment is not None:
        raise ValueError("H264 FU-A fragment is unfinished")
    return units


def _fu_a(payload: bytes, fragment: bytearray | None, units: list[bytes]) -> bytearray | None:
    """Add one FU-A fragment (RFC 6184 §5.8); returns the unit still open, if any."""
    if len(payload) < 2:
        raise ValueError("H264 FU-A packet is truncated")
    header = payload[1]
    if header & 0x80:  # S: rebuild the NAL header from the indicator's F|NRI and the type
        if fragment is not None:
            raise ValueError("H264 FU-A fragment is unfinished")
        fragment = bytearray([payload[0] & 0xE0 | header & 0x1F])
    elif fragment is None:
        raise ValueError("H264 FU-A fragment has no start")
    fragment += payload[2:]
    if header & 0x40:  # E
        units.append(bytes(fragment))
        return None
    return fragment


def starts_keyframe(payload: bytes) -> bool:
    """True if the packet holds an SPS or the first slice of an IDR picture.

    The first slice has first_mb_in_slice = 0, whose ue(v) code is the single bit 1 (H.264
    §7.3.3): so a later slice of a many-slice IDR is not taken for the start.
    """
    kind = payload[0] & 0x1F
    if kind == NAL_FU_A:  # the FU header's S bit and type, then the unit's first payload byte
        return len(payload) > 2 and payload[1] & 0x80 != 0 and _first(payload[1], payload[2])
    if kind == NAL_STAP_A:
        try:
            units = stap_a_units(payload)
        except ValueError:
            return False
        return any(_first(unit[0], unit[1] if len(unit) > 1 else 0) for unit in units)
    return _first(payload[0], payload[1] if len(payload) > 1 else 0)


def _first(header: int, after: int) -> bool:
    """An SPS, or an IDR slice whose header (the byte ``after`` the NAL header) starts with 1."""
    kind = header & 0x1F
    return kind == NAL_SPS or (kind == NAL_IDR and after & 0x80 != 0)


class H264Depacketizer(VideoDepacketizer):
    """Annex B access units; a keyframe is an IDR picture whose SPS and PPS are known."""

    def __init__(self) -> None:
        super().__init__()
        self.sps: bytes | None = None
        self.pps: bytes | None = None
        self._size: tuple[bytes, int, int] | None = None  # the SPS last parsed, its size

    def _restart(self) -> None:
        super()._restart()
        self.sps = self.pps = None  # a new encoder: its parameter sets may differ

    def _piece(self, data: bytes, h: RtpHeader, ts: int) -> Piece | None:
        if h.payload_end <= h.payload_offset:
            return Piece(ts, h.marker, False, False, b"")  # padding only
        payload = data[h.payload_offset : h.payload_end]
        kind = payload[0] & 0x1F
        if kind in (NAL_SPS, NAL_PPS):
            self._keep(payload)
        elif kind == NAL_STAP_A:
            self._keep_aggregated(payload)
        return Piece(ts, h.marker, True, starts_keyframe(payload), payload)

    def _keep(self, unit: bytes) -> None:
        """Parameter sets are kept as they arrive, so a lost access unit does not lose them."""
        kind = unit[0] & 0x1F
        if kind == NAL_SPS:
            self.sps = unit
        elif kind == NAL_PPS:
            self.pps = unit

    def _keep_aggregated(self, payload: bytes) -> None:
        try:
            units = stap_a_units(payload)
        except ValueError:
            return  # broken: the assembler finds out when it builds the frame
        for unit in units:
            self._keep(unit)

    def _build(self, run: list[Piece]) -> Frame | None:
        units = nal_units([piece.payload for piece in run])
        kinds = [unit[0] & 0x1F for unit in units]
        for unit in units:
            self._keep(unit)  # those that came in FU-A fragments
        if not any(1 <= kind <= NAL_IDR for kind in kinds):
            return None  # parameter sets or SEI only: kept, nothing to show
        if NAL_IDR not in kinds or self.sps is None or self.pps is None:
            return Frame(START_CODE + START_CODE.join(units), run[0].ts, False)
        units = self._with_parameter_sets(units, kinds)
        width, height = self._picture_size(self.sps)
        return Frame(START_CODE + START_CODE.join(units), run[0].ts, True, width, height)

    def _with_parameter_sets(self, units: list[bytes], kinds: list[int]) -> list[bytes]:
        """``units`` with the known SPS/PPS it lacks put before its first slice (§7.4.1.2.3)."""
        missing = [
            unit
            for unit, kind in ((self.sps, NAL_SPS), (self.pps, NAL_PPS))
            if unit is not None and kind not in kinds
        ]
        if not missing:
            return units
        first_slice = next(i for i, kind in enumerate(kinds) if 1 <= kind <= NAL_IDR)
        return units[:first_slice] + missing + units[first_slice:]

    def _picture_size(self, sps: bytes) -> tuple[int, int]:
        if self._size is None or self._size[0] != sps:
            try:
                parsed = parse_sps(sps)
                self._size = (sps, parsed.width, parsed.height)
            except ValueError:
                self._size = (sps, 0, 0)  # the decoder may still cope; the size stays unknown
        return self._size[1], self._size[2]
