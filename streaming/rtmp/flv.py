"""FLV tag bodies as RTMP carries them (FLV spec 10.1, annex E.4.2–E.4.3).

Video: codec id 7 (AVC): packet type 0 is the AVCDecoderConfigurationRecord (ISO 14496-15
§5.2.4.1: SPS and PPS, NALU length size), 1 is NALUs with 4-byte (or 1–2 byte) length
prefixes and a signed 24-bit composition time (pts − dts, ms), 2 is end of sequence.
Audio: sound format 10 (AAC): packet type 0 is the AudioSpecificConfig (ISO 14496-3 §1.6.2.1),
1 a raw AAC frame. Enhanced RTMP (the IsExHeader bit: HEVC, AV1, VP9) and every other codec is
an :class:`Unsupported`, whose message the encoder's operator reads in our log and in onStatus.
"""

from __future__ import annotations

from dataclasses import dataclass

from streaming.rtmp.errors import RtmpError

AVC = 7
AAC = 10
VIDEO_CODECS = {2: "Sorenson H.263", 3: "screen video", 4: "VP6", 5: "VP6 alpha",
                6: "screen video 2", 7: "H.264", 12: "HEVC (legacy id 12)"}
AUDIO_FORMATS = {0: "PCM", 1: "ADPCM", 2: "MP3", 3: "PCM LE", 4: "Nellymoser 16k",
                 5: "Nellymoser 8k", 6: "Nellymoser", 7: "G.711 A-law", 8: "G.711 mu-law",
                 10: "AAC", 11: "Speex", 14: "MP3 8k"}


class Unsupported(RtmpError):
    """A codec this server does not ingest (only H.264 video and AAC audio)."""


@dataclass(frozen=True, slots=True)
class AvcConfig:
    """The decoder configuration: parameter sets and the NALU length prefix size."""

    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]
    length_size: int

    @property
    def profile_level_id(self) -> str:
        """RFC 6184 §8.1 profile-level-id: the SPS's profile_idc, constraint flags, level_idc."""
        return self.sps[0][1:4].hex()


@dataclass(frozen=True, slots=True)
class VideoTag:
    """``kind``: "config" (``config`` set), "nalus" (``data``: length-prefixed NALUs), "end"."""

    kind: str
    keyframe: bool
    composition_ms: int
    data: bytes = b""
    config: AvcConfig | None = None


@dataclass(frozen=True, slots=True)
class AudioTag:
    """``config``: True for the AudioSpecificConfig, False for a raw AAC frame."""

    config: bool
    data: bytes


def video_tag(body: bytes) -> VideoTag | None:
    """One video message body; None for a body to ignore (video info/command frames)."""
    if len(body) < 1:
        raise RtmpError("empty video message")
    if body[0] & 0x80:  # Enhanced RTMP's IsExHeader (veovera enhanced-rtmp v1)
        fourcc = body[1:5].decode("ascii", "replace")
        raise Unsupported(f"enhanced RTMP video ({fourcc}) is not supported; send H.264")
    frame_type, codec = body[0] >> 4, body[0] & 0x0F
    if codec != AVC:
        name = VIDEO_CODECS.get(codec, f"codec id {codec}")
        raise Unsupported(f"video codec {name} is not supported; send H.264")
    if frame_type == 5:
        return None  # video info / command frame (FLV spec E.4.3.1)
    if len(body) < 5:
        raise RtmpError("AVC video message is shorter than its 5-byte header")
    packet_type = body[1]
    cts = int.from_bytes(body[2:5], "big", signed=True)
    if packet_type == 0:
        return VideoTag("config", True, cts, config=avc_config(body[5:]))
    if packet_type == 1:
        return VideoTag("nalus", frame_type == 1, cts, body[5:])
    if packet_type == 2:
        return VideoTag("end", False, cts)
    raise RtmpError(f"AVC packet type {packet_type} is unknown")


def avc_config(record: bytes) -> AvcConfig:
    """Parse an AVCDecoderConfigurationRecord (ISO 14496-15 §5.2.4.1)."""
    if len(record) < 7 or record[0] != 1:
        raise RtmpError("AVC decoder configuration record is malformed")
    length_size = (record[4] & 0x03) + 1
    if length_size == 3:
        raise RtmpError("AVC NALU length size 3 is not allowed")
    pos = 5
    sps, pos = _parameter_sets(record, pos, record[pos] & 0x1F)
    if pos >= len(record):
        raise RtmpError("AVC decoder configuration record has no PPS count")
    pps, pos = _parameter_sets(record, pos, record[pos])
    if not sps or not pps or len(sps[0]) < 4:
        raise RtmpError("AVC decoder configuration record lacks an SPS or a PPS")
    return AvcConfig(tuple(sps), tuple(pps), length_size)


def _parameter_sets(record: bytes, pos: int, count: int) -> tuple[list[bytes], int]:
    pos += 1
    sets = []
    for _ in range(count):
        if pos + 2 > len(record):
            raise RtmpError("AVC decoder configuration record is truncated")
        size = int.from_bytes(record[pos:pos + 2], "big")
        if size == 0 or pos + 2 + size > len(record):
            raise RtmpError("AVC parameter set is truncated")
        sets.append(record[pos + 2:pos + 2 + size])
        pos += 2 + size
    return sets, pos


def nalus(data: bytes, length_size: int) -> list[bytes]:
    """Split length-prefixed NALUs (ISO 14496-15 §5.3.4.2); a bad length is an error."""
    out = []
    pos = 0
    while pos < len(data):
        if pos + length_size > len(data):
            raise RtmpError("NALU length prefix is truncated")
        size = int.from_bytes(data[pos:pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(data):
            raise RtmpError("NALU length runs past the message")
        out.append(data[pos:pos + size])
        pos += size
    return out


def audio_tag(body: bytes) -> AudioTag:
    """One audio message body: AAC only."""
    if len(body) < 1:
        raise RtmpError("empty audio message")
    sound_format = body[0] >> 4
    if sound_format != AAC:
        name = AUDIO_FORMATS.get(sound_format, f"sound format {sound_format}")
        raise Unsupported(f"audio codec {name} is not supported; send AAC")
    if len(body) < 2:
        raise RtmpError("AAC audio message is shorter than its 2-byte header")
    if body[1] not in (0, 1):
        raise RtmpError(f"AAC packet type {body[1]} is unknown")
    return AudioTag(body[1] == 0, body[2:])
