"""CMAF boxes, written by hand: init segments and fragments for one track (issue 16 §1).

ISO/IEC 14496-12 (ISOBMFF) boxes as CMAF (ISO/IEC 23000-19) wants them: one track per file,
an init segment (``ftyp`` + ``moov`` with ``mvex``) and fragments (``moof`` + ``mdat``) whose
``tfhd`` says default-base-is-moof and whose ``tfdt`` carries the decode time. Writing the few
boxes ourselves keeps the pass-through path free of any muxer (H264 is never decoded): a
fragment is a few struct packs and one join. Pure: bytes in, bytes out.

H264 samples are AVCC (4-byte length-prefixed NAL units, ISO/IEC 14496-15 §5.3.2); SPS and
PPS live in the ``avcC`` record of the init segment, so :func:`avcc_sample` drops them (and
access unit delimiters) from the samples.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from streaming.depacketize.parameter_sets import avcc

VIDEO_TIMESCALE = 90_000
AUDIO_TIMESCALE = 48_000
MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
LANGUAGE_UND = 0x55C4  # "und", ISO 639-2/T packed as three 5-bit letters (14496-12 §8.4.2)
KEY_FLAGS = 0x02000000  # sample_depends_on = 2: depends on no other sample (§8.8.3.1)
DELTA_FLAGS = 0x01010000  # sample_depends_on = 1, sample_is_non_sync_sample = 1
TFHD_BASE_IS_MOOF = 0x020000
TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400  # offset, duration, size, flags
NAL_SPS, NAL_PPS, NAL_AUD = 7, 8, 9


@dataclass(frozen=True, slots=True)
class VideoTrack:
    """An H264 track: its SPS and PPS NAL units (header byte included) and display size."""

    sps: bytes
    pps: bytes
    width: int
    height: int
    track_id: int = 1
    timescale: int = VIDEO_TIMESCALE


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """An AAC track: its AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1)."""

    config: bytes
    sample_rate: int = 48_000
    channels: int = 2
    track_id: int = 1
    timescale: int = AUDIO_TIMESCALE


Track = VideoTrack | AudioTrack


@dataclass(frozen=True, slots=True)
class Sample:
    """One coded sample of a fragment: its bytes (AVCC for H264, raw AAC), its duration in
    the track's timescale, and whether it is a sync sample."""

    data: bytes
    duration: int
    keyframe: bool = True


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24 | flags), *parts)


# -- init segment --------------------------------------------------------------------------


def init_segment(track: Track) -> bytes:
    """``ftyp`` + ``moov`` for one track, ready to be an ``EXT-X-MAP``."""
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"cmfc", b"mp41")
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0),
                    struct.pack(">IH", 0x10000, 0x0100), bytes(10), MATRIX, bytes(24),
                    struct.pack(">I", track.track_id + 1))
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", track.track_id, 1, 0, 0, 0))
    return ftyp + box(b"moov", mvhd, _trak(track), box(b"mvex", trex))


def _trak(track: Track) -> bytes:
    video = isinstance(track, VideoTrack)
    width, height = (track.width, track.height) if isinstance(track, VideoTrack) else (0, 0)
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, track.track_id, 0, 0),
                    bytes(8), struct.pack(">hhHH", 0, 0, 0 if video else 0x0100, 0), MATRIX,
                    struct.pack(">II", width << 16, height << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, track.timescale, 0,
                                                LANGUAGE_UND, 0))
    handler, name = (b"vide", b"Video") if video else (b"soun", b"Audio")
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name + b"\x00")
    header = (full_box(b"vmhd", 0, 1, bytes(8)) if video
              else full_box(b"smhd", 0, 0, bytes(4)))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1),
                                 full_box(b"url ", 0, 1)))
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", header, dinf,
                                                               _stbl(track))))


def _stbl(track: Track) -> bytes:
    entry = _avc1(track) if isinstance(track, VideoTrack) else _mp4a(track)
    empty = struct.pack(">I", 0)
    return box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
               full_box(b"stts", 0, 0, empty), full_box(b"stsc", 0, 0, empty),
               full_box(b"stsz", 0, 0, empty, empty), full_box(b"stco", 0, 0, empty))


def _avc1(track: VideoTrack) -> bytes:
    """VisualSampleEntry (14496-12 §12.1.3) + avcC (14496-15 §5.4.2.1)."""
    return box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16),
               struct.pack(">HHIIIH", track.width, track.height, 0x00480000, 0x00480000, 0, 1),
               bytes(32), struct.pack(">Hh", 0x0018, -1),
               box(b"avcC", avcc(track.sps, track.pps)))


def _mp4a(track: AudioTrack) -> bytes:
    """AudioSampleEntry (14496-12 §12.2.3) + esds (14496-14 §5.6)."""
    return box(b"mp4a", bytes(6), struct.pack(">H", 1), bytes(8),
               struct.pack(">HHHHI", track.channels, 16, 0, 0, track.sample_rate << 16),
               full_box(b"esds", 0, 0, _es_descriptor(track)))


def _descriptor(tag: int, body: bytes) -> bytes:
    """An MPEG-4 descriptor (14496-1 §8.3.3): tag, a 7-bit-per-byte length, the body."""
    size, length = len(body), bytearray()
    while True:
        length.insert(0, size & 0x7F | (0x80 if length else 0))
        size >>= 7
        if not size:
            break
    return bytes([tag]) + bytes(length) + body


def _es_descriptor(track: AudioTrack) -> bytes:
    config = _descriptor(4, bytes([0x40, 0x15]) + bytes(3) + struct.pack(">II", 0, 0)
                         + _descriptor(5, track.config))
    return _descriptor(3, struct.pack(">HB", track.track_id, 0) + config
                       + _descriptor(6, b"\x02"))


# -- fragments -----------------------------------------------------------------------------


def fragment(seq: int, track_id: int, base_dts: int, samples: Sequence[Sample]) -> bytes:
    """``moof`` + ``mdat`` of ``samples`` starting at decode time ``base_dts`` (timescale units).

    ``seq``: the fragment's sequence number (``mfhd``, increasing within a track).
    Composition offsets are all 0 (WebRTC's H264 has no B-frames), so ``trun`` leaves them out.
    """
    if not samples:
        raise ValueError("a fragment needs at least one sample")
    entries = b"".join(
        struct.pack(">III", s.duration, len(s.data), KEY_FLAGS if s.keyframe else DELTA_FLAGS)
        for s in samples)
    trun_size = 8 + 4 + 8 + len(entries)
    tfhd = full_box(b"tfhd", 0, TFHD_BASE_IS_MOOF, struct.pack(">I", track_id))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_dts))
    moof_size = 8 + 16 + 8 + len(tfhd) + len(tfdt) + trun_size
    trun = full_box(b"trun", 0, TRUN_FLAGS, struct.pack(">Ii", len(samples), moof_size + 8),
                    entries)
    moof = box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", seq)),
               box(b"traf", tfhd, tfdt, trun))
    return moof + box(b"mdat", *(s.data for s in samples))


# -- H264 access units ---------------------------------------------------------------------


def nal_units(annex_b: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (start codes of 3 or 4 bytes, H.264 Annex B)."""
    units: list[bytes] = []
    start = -1
    i, n = 0, len(annex_b)
    while i + 2 < n:
        if annex_b[i] == 0 and annex_b[i + 1] == 0 and annex_b[i + 2] == 1:
            if start >= 0:
                units.append(annex_b[start:i].rstrip(b"\x00"))
            i += 3
            start = i
        else:
            i += 1
    if start >= 0:
        units.append(annex_b[start:])
    return [u for u in units if u]


def parameter_sets(units: Iterable[bytes]) -> tuple[bytes, bytes] | None:
    """The first SPS and PPS among ``units``, if the access unit carries both."""
    sps = pps = b""
    for unit in units:
        kind = unit[0] & 0x1F
        if kind == NAL_SPS and not sps:
            sps = unit
        elif kind == NAL_PPS and not pps:
            pps = unit
    return (sps, pps) if sps and pps else None


def avcc_sample(units: Iterable[bytes]) -> bytes:
    """An AVCC sample: each NAL unit with a 4-byte length, SPS/PPS/AUD left out (they live in
    the init segment's avcC, or mean nothing in MP4)."""
    return b"".join(struct.pack(">I", len(u)) + u for u in units
                    if u[0] & 0x1F not in (NAL_SPS, NAL_PPS, NAL_AUD))


def codec_string(sps: bytes) -> str:
    """RFC 6381 ``avc1.PPCCLL``: profile, constraint flags and level of the SPS."""
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"
