"""H264 sequence parameter sets: the picture size, and the avcC box MP4 muxers need.

Parsing follows ITU-T H.264 §7.3.2.1.1 far enough to reach the frame size and cropping; the
avcC record follows ISO/IEC 14496-15 §5.3.3.1 (AVCDecoderConfigurationRecord).
"""

from __future__ import annotations

from dataclasses import dataclass

from streaming.depacketize.bit_reader import BitReader, rbsp

# profile_idc values whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1)
CHROMA_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
# profiles whose avcC record has the chroma/bit-depth tail (ISO/IEC 14496-15 §5.3.3.1.1)
AVCC_EXTENDED_PROFILES = frozenset({100, 110, 122, 144})
SUB_WIDTH_C = {1: 2, 2: 2, 3: 1}  # H.264 Table 6-1, by chroma_format_idc
SUB_HEIGHT_C = {1: 2, 2: 1, 3: 1}


@dataclass(frozen=True, slots=True)
class Sps:
    """What a recorder needs of an SPS: the profile and the displayed (cropped) size."""

    profile_idc: int
    constraints: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int


def parse_sps(nal: bytes) -> Sps:
    """Parse an SPS NAL unit (header byte included); ``ValueError`` if it is not one."""
    if len(nal) < 4 or nal[0] & 0x1F != 7:
        raise ValueError("H264 NAL unit is not a sequence parameter set")
    bits = BitReader(rbsp(nal[4:]))
    bits.ue()  # seq_parameter_set_id
    chroma, depth_luma, depth_chroma, separate = 1, 8, 8, False
    if nal[1] in CHROMA_PROFILES:
        chroma = bits.ue()
        if chroma > 3:
            raise ValueError("H264 SPS has an invalid chroma format")
        if chroma == 3:
            separate = bits.flag()
        depth_luma, depth_chroma = bits.ue() + 8, bits.ue() + 8
        bits.flag()  # qpprime_y_zero_transform_bypass_flag
        if bits.flag():  # seq_scaling_matrix_present_flag
            _skip_scaling_matrix(bits, 12 if chroma == 3 else 8)
    _skip_frame_numbering(bits)
    width, height = _size(bits, 0 if separate else chroma)
    return Sps(nal[1], nal[2], nal[3], chroma, depth_luma, depth_chroma, width, height)


def _skip_scaling_matrix(bits: BitReader, lists: int) -> None:
    for index in range(lists):
        if bits.flag():  # seq_scaling_list_present_flag[i]
            last = following = 8
            for _ in range(16 if index < 6 else 64):  # scaling_list(), §7.3.2.1.1.1
                if following:
                    following = (last + bits.se() + 256) % 256
                last = following or last


def _skip_frame_numbering(bits: BitReader) -> None:
    """From log2_max_frame_num_minus4 to gaps_in_frame_num_value_allowed_flag."""
    bits.ue()  # log2_max_frame_num_minus4
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif order_type == 1:
        bits.flag()  # delta_pic_order_always_zero_flag
        bits.se()  # offset_for_non_ref_pic
        bits.se()  # offset_for_top_to_bottom_field
        for _ in range(bits.ue()):  # num_ref_frames_in_pic_order_cnt_cycle
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.flag()  # gaps_in_frame_num_value_allowed_flag


def _size(bits: BitReader, chroma_array_type: int) -> tuple[int, int]:
    """Width and height in pixels after cropping (§7.4.2.1.1, equations 7-19 to 7-22)."""
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.flag()
    if not frame_mbs_only:
        bits.flag()  # mb_adaptive_frame_field_flag
    bits.flag()  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_units * 16
    if bits.flag():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        unit_x = SUB_WIDTH_C.get(chroma_array_type, 1)
        unit_y = (2 - frame_mbs_only) * SUB_HEIGHT_C.get(chroma_array_type, 1)
        width -= (left + right) * unit_x
        height -= (top + bottom) * unit_y
    if width <= 0 or height <= 0:
        raise ValueError("H264 SPS crops the whole picture")
    return width, height


def avcc(sps: bytes, pps: bytes) -> bytes:
    """The AVCDecoderConfigurationRecord (an MP4 ``avcC`` box's body, PyAV's ``extradata``).

    One SPS and one PPS (WebRTC's encoders use id 0 for both), 4-byte NAL lengths; High
    profiles get the chroma format and bit depth tail that §5.3.3.1.1 requires of them.
    """
    info = parse_sps(sps)
    if not pps or pps[0] & 0x1F != 8:
        raise ValueError("H264 NAL unit is not a picture parameter set")
    record = bytearray([1, sps[1], sps[2], sps[3], 0xFF, 0xE1])  # version, 4-byte lengths, 1 SPS
    record += len(sps).to_bytes(2, "big") + sps
    record += b"\x01" + len(pps).to_bytes(2, "big") + pps
    if info.profile_idc in AVCC_EXTENDED_PROFILES:
        record += bytes([
            0xFC | info.chroma_format_idc,
            0xF8 | (info.bit_depth_luma - 8) & 0x07,
            0xF8 | (info.bit_depth_chroma - 8) & 0x07,
            0,  # numOfSequenceParameterSetExt
        ])
    return bytes(record)
