"""The picture size an H264 sequence parameter set says (ITU-T H.264 §7.3.2.1.1, §7.4.2.1.1).

A container header needs the video's width and height, and an RTP H264 stream says them only
inside its SPS (RFC 6184 §8.4 leaves them out of the SDP). Pure bit reading, no decoder.
"""

from __future__ import annotations

HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class BitReader:
    """Big-endian bits of an RBSP, with Exp-Golomb codes (H.264 §9.1)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        if self.pos >= 8 * len(self.data):
            raise ValueError("H264 SPS is truncated")
        value = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("H264 SPS has an invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def rbsp(nal: bytes) -> bytes:
    """``nal``'s payload without its header byte and emulation prevention bytes (§7.4.1)."""
    out = bytearray()
    zeros = 0
    for byte in nal[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _skip_scaling_lists(r: BitReader, count: int) -> None:
    for index in range(count):
        if not r.bit():
            continue
        last, step = 8, 8
        for _ in range(16 if index < 6 else 64):
            if step:
                step = (last + r.se() + 256) % 256
            last = step or last


def _skip_poc(r: BitReader) -> None:
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.bit()
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()


def picture_size(sps: bytes) -> tuple[int, int]:
    """Width and height of the SPS NAL unit ``sps`` (header byte included), after cropping."""
    r = BitReader(rbsp(sps))
    profile = r.bits(8)
    r.bits(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma = 1
    if profile in HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            r.bit()
        r.ue()
        r.ue()
        r.bit()
        if r.bit():
            _skip_scaling_lists(r, 12 if chroma == 3 else 8)
    r.ue()  # log2_max_frame_num_minus4
    _skip_poc(r)
    r.ue()  # max_num_ref_frames
    r.bit()
    width_mbs, height_units = r.ue() + 1, r.ue() + 1
    frame_mbs_only = r.bit()
    if not frame_mbs_only:
        r.bit()
    r.bit()
    width, height = width_mbs * 16, (2 - frame_mbs_only) * height_units * 16
    if r.bit():  # frame cropping, in chroma units (Table 6-1)
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    return width, height
