"""AAC → Opus, once per RTMP audio track (issue 16 §8): WebRTC viewers need Opus.

:class:`AacToOpus` is plain synchronous PyAV: decode AAC (its AudioSpecificConfig as the
decoder's extradata), resample to 48 kHz stereo s16 in 20 ms frames, encode with libopus. Each
Opus packet comes out with its audio level (RFC 6464 -dBov, for active-speaker detection) and
its time in 48 kHz samples (RFC 7587 §4.1: Opus in RTP always counts 48 kHz), counted from
the track's first AAC frame and re-anchored to the FLV timestamps when they jump (an encoder
that dropped audio) by more than :data:`REANCHOR_SAMPLES`.

:class:`AudioTranscoder` runs one in a thread behind a bounded queue, so no decoding or
encoding ever happens on the event loop; when the queue is full an AAC frame is dropped and
counted (audio must not back up behind a slow machine).
"""

from __future__ import annotations

import asyncio
import logging
import math
import operator
import queue
import threading
from array import array
from collections.abc import Callable

import av
from av.audio.codeccontext import AudioCodecContext

log = logging.getLogger(__name__)

RATE = 48_000
FRAME = 960  # 20 ms at 48 kHz
REANCHOR_SAMPLES = RATE // 10
QUEUE = 64
BITRATE = 96_000

LEVEL_STRIDE = 8  # every 8th sample of a 20 ms frame is plenty for a level (RFC 6464)
SILENCE = 127  # -dBov, the quietest level RFC 6464 can say

OpusPacket = tuple[int, bytes, int]  # (time in 48 kHz samples, Opus packet, level in -dBov)


def level(pcm: bytes) -> int:
    """The audio level of interleaved s16 samples in -dBov (RFC 6464 §3: 0 is the loudest,
    127 silence), from every :data:`LEVEL_STRIDE`-th sample: what active-speaker detection
    reads of a WHIP publisher's audio-level extension, for RTMP audio that carries none."""
    samples = array("h", pcm[:len(pcm) - len(pcm) % 2])[::LEVEL_STRIDE]
    if not samples:
        return SILENCE
    rms = math.sqrt(sum(map(operator.mul, samples, samples)) / len(samples))
    if rms < 1:
        return SILENCE
    return max(0, min(SILENCE, round(-20 * math.log10(rms / 32767))))


class AacToOpus:
    """AAC frames in (with their FLV dts in ms), Opus packets out."""

    def __init__(self, audio_specific_config: bytes) -> None:
        self._decoder: AudioCodecContext = av.CodecContext.create("aac", "r")
        self._decoder.extradata = audio_specific_config
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE,
                                            frame_size=FRAME)
        self._encoder: AudioCodecContext = av.CodecContext.create("libopus", "w")
        self._encoder.format = "s16"
        self._encoder.layout = "stereo"
        self._encoder.sample_rate = RATE
        self._encoder.bit_rate = BITRATE
        self._encoder.options = {"application": "audio"}
        self._next: int | None = None  # samples: the time of the next Opus packet

    def push(self, dts_ms: int, aac: bytes) -> list[OpusPacket]:
        """One raw AAC frame; the Opus packets it completed (0, 1 or 2 usually)."""
        expected = dts_ms * (RATE // 1000)
        if self._next is None or abs(self._next - expected) > REANCHOR_SAMPLES + FRAME * 4:
            self._next = expected
        out: list[OpusPacket] = []
        for frame in self._decoder.decode(av.Packet(aac)):
            for chunk in self._resampler.resample(frame):
                chunk.pts = None
                loudness = level(bytes(chunk.planes[0]))
                for packet in self._encoder.encode(chunk):
                    out.append((self._next, bytes(packet), loudness))
                    self._next += FRAME
        return out


class AudioTranscoder:
    """An :class:`AacToOpus` on its own thread; ``deliver`` gets its packets on the loop."""

    def __init__(self, audio_specific_config: bytes,
                 deliver: Callable[[list[OpusPacket]], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver
        self._queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue(QUEUE)
        self.dropped = 0
        self.failed: str | None = None
        self._codec = AacToOpus(audio_specific_config)
        self._thread = threading.Thread(target=self._run, name="rtmp-aac-opus", daemon=True)
        self._thread.start()

    def push(self, dts_ms: int, aac: bytes) -> None:
        try:
            self._queue.put_nowait((dts_ms, aac))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                packets = self._codec.push(*item)
            except (av.FFmpegError, ValueError) as exc:  # one bad frame: skip it
                log.debug("AAC frame not transcoded: %s", exc)
                continue
            except Exception as exc:  # a bug: stop transcoding, keep the video going
                self.failed = str(exc)
                log.exception("AAC → Opus transcoder stopped")
                return
            if packets:
                try:
                    self._loop.call_soon_threadsafe(self._deliver, packets)
                except RuntimeError:  # the loop closed under us
                    return

    async def aclose(self) -> None:
        """Stop the thread (after what is queued); returns once it ended."""
        while True:
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
        await asyncio.to_thread(self._thread.join, 5.0)
