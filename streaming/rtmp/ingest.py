"""RtmpIngest: one RTMP publish's FLV messages → RTP into a local publisher (issue 16 §8).

Video is never decoded: AVC NALUs are packetized (:mod:`streaming.rtmp.h264_rtp`) with RTP
timestamps at 90 kHz from the FLV's pts (dts + composition time, so B-frames keep their order
of presentation). Audio is AAC transcoded once to Opus in a thread
(:mod:`streaming.rtmp.aac_opus`). Both tracks share one wall-clock anchor: the arrival time of
the first media message maps FLV time to NTP, and each track sends a sender report
(RFC 3550 §6.4.1) about once a second, so recordings, HLS and WebRTC viewers keep lip sync.

The H264 track is added when the first AVCDecoderConfigurationRecord arrives: its SPS gives the
profile-level-id the viewers negotiate (RFC 6184 §8.1), packetization-mode 1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from streaming.negotiation import Codec
from streaming.rtmp import flv, h264_rtp
from streaming.rtmp.aac_opus import RATE, AudioTranscoder, OpusPacket
from streaming.rtmp.errors import RtmpError
from streaming.rtmp.flv import AvcConfig
from streaming.rtmp.rtp_out import RtpStream
from streaming.source import Source

log = logging.getLogger(__name__)

H264_PT = 102
OPUS_PT = 111
VIDEO_CLOCK = 90_000
SR_INTERVAL_S = 1.0
NTP_EPOCH = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)


class TrackTarget(Protocol):
    """Where the RTP goes: :class:`~streaming.local_publisher.LocalPublisher`."""

    def add_track(self, kind: str, codec: Codec) -> Source: ...

    def send(self, kind: str, packet: bytes) -> None: ...

    def sender_report(self, kind: str, ntp: int, rtp_ts: int) -> None: ...

    def audio_level(self, level: int) -> None: ...


def h264_codec(config: AvcConfig) -> Codec:
    return Codec(H264_PT, "video/H264", VIDEO_CLOCK, None, {
        "level-asymmetry-allowed": "1", "packetization-mode": "1",
        "profile-level-id": config.profile_level_id})


OPUS = Codec(OPUS_PT, "audio/opus", RATE, 2, {"minptime": "10", "useinbandfec": "1"})


def ntp_of(unix_s: float) -> int:
    """A Unix time as a 64-bit NTP timestamp (RFC 3550 §4)."""
    return int((unix_s + NTP_EPOCH) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


class RtmpIngest:
    """Feed :meth:`media` with each audio/video message; :meth:`aclose` at the end."""

    def __init__(self, target: TrackTarget, clock: Callable[[], float] = time.time) -> None:
        self._target = target
        self._clock = clock
        self._anchor: tuple[float, int] | None = None  # (wall clock s, FLV ms) of the first
        self._video = RtpStream(H264_PT)
        self._audio = RtpStream(OPUS_PT)
        self._config: AvcConfig | None = None
        self._transcoder: AudioTranscoder | None = None
        self._last_sr = {"audio": 0.0, "video": 0.0}
        self.frames = {"audio": 0, "video": 0}
        self._reordered = False

    def media(self, kind: str, dts_ms: int, body: bytes) -> None:
        """One message body; :class:`~streaming.rtmp.flv.Unsupported` for a codec refused,
        :class:`RtmpError` for a malformed one."""
        if self._anchor is None:
            self._anchor = (self._clock(), dts_ms)
        if kind == "video":
            self._on_video(dts_ms, body)
        else:
            self._on_audio(dts_ms, body)

    def _on_video(self, dts_ms: int, body: bytes) -> None:
        tag = flv.video_tag(body)
        if tag is None or tag.kind == "end":
            return
        if tag.config is not None:
            if self._config is None:
                self._target.add_track("video", h264_codec(tag.config))
            self._config = tag.config
            return
        if self._config is None:
            raise RtmpError("H.264 frames before the AVC sequence header")
        nals = h264_rtp.access_unit(flv.nalus(tag.data, self._config.length_size),
                                    self._config.sps, self._config.pps)
        if tag.composition_ms and not self._reordered:
            self._reordered = True  # once per publish: the operator can fix the encoder
            log.warning("RTMP publish carries B-frames: browsers' WebRTC will not play them; "
                        "set the encoder's B-frames to 0 (docs/hls.md §8)")
        pts = dts_ms + tag.composition_ms
        ts = pts * (VIDEO_CLOCK // 1000)
        payloads = h264_rtp.payloads(nals)
        for index, payload in enumerate(payloads):
            marker = index == len(payloads) - 1
            self._target.send("video", self._video.packet(ts, marker, payload))
        self.frames["video"] += 1
        self._report("video", pts, ts)

    def _on_audio(self, dts_ms: int, body: bytes) -> None:
        tag = flv.audio_tag(body)
        if tag.config:
            if self._transcoder is None:
                self._target.add_track("audio", OPUS)
                self._transcoder = AudioTranscoder(tag.data, self._opus)
            return
        if self._transcoder is None:
            raise RtmpError("AAC frames before the AudioSpecificConfig")
        self._transcoder.push(dts_ms, tag.data)

    def _opus(self, packets: list[OpusPacket]) -> None:
        """Opus packets from the transcoder thread, on the loop."""
        for samples, opus, loudness in packets:
            self._target.send("audio", self._audio.packet(samples, False, opus))
            self._target.audio_level(loudness)
            self.frames["audio"] += 1
        last = packets[-1][0]
        self._report("audio", last * 1000 // RATE, last)

    def _report(self, kind: str, flv_ms: int, rtp_ts: int) -> None:
        """A sender report about once a second: the NTP time of this FLV time on our anchor."""
        now = self._clock()
        if self._anchor is None or now - self._last_sr[kind] < SR_INTERVAL_S:
            return
        self._last_sr[kind] = now
        wall, first = self._anchor
        ntp = ntp_of(wall + (flv_ms - first) / 1000)
        self._target.sender_report(kind, ntp, rtp_ts & 0xFFFFFFFF)

    async def aclose(self) -> None:
        if self._transcoder is not None:
            await self._transcoder.aclose()
            if self._transcoder.dropped:
                log.info("RTMP ingest dropped %d AAC frames (transcoder behind)",
                         self._transcoder.dropped)
