"""What recording one stream costs (issue 15): Pavilion's engine (depacketize + remux, no codec)
against aiortc's ``MediaRecorder`` (what an aiortc receiver does: decode every frame, then
encode it again), on the same media, in one run.

    .venv/bin/python -m bench.recording [--seconds 20] [--runs 3]

The media is a pre-encoded ~1 Mbit/s 640x360 VP8 clip at 30 fps (bench/clip.py) and a 48 kbit/s
Opus tone, packetized to RTP once (aiortc's VP8 payloader, RFC 7741) before any timing. The
engine row runs the real writer thread (:class:`streaming.recording_writer.RecordingWriter`:
depacketizers, sender-report clock, participant file, PyAV muxer) on those packets; the
MediaRecorder row decodes the same frames with aiortc's own decoders and records them with
``MediaRecorder`` to WebM (libvpx + libopus). Both run as fast as they can; each row is the
best of ``--runs`` of process CPU time (all threads, ``resource.getrusage``) per second of
media: CPU-s/s, and how many such recordings one core sustains (1 / CPU-s/s).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import resource
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
from aiortc.codecs.opus import OpusDecoder
from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder
from aiortc.contrib.media import MediaRecorder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from bench.clip import AUDIO_FRAME, VIDEO_RATE, opus_clip, vp8_clip
from streaming import rtp_header
from streaming.depacketize import for_codec
from streaming.file_ledger import FileLedger
from streaming.recording_spec import RecordingSpec
from streaming.recording_writer import (
    Batch,
    Item,
    RecordingWriter,
    Report,
    Tapped,
    TrackOpened,
)

VIDEO_TICKS = 90000 // VIDEO_RATE
BATCH_S = 0.05


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def media(seconds: int) -> tuple[list[tuple[float, int, bytes]], list[bytes], list[bytes]]:
    """The packets of both tracks in arrival order: (time, track, RTP bytes); and the frames."""
    video, audio = vp8_clip(frames=3 * VIDEO_RATE), opus_clip(packets=50)
    packer = Vp8Encoder()
    packets: list[tuple[float, int, bytes]] = []
    seq = 0
    for index in range(seconds * VIDEO_RATE):
        data = av.Packet(video[index % len(video)])
        data.pts, data.time_base = index, fractions.Fraction(1, VIDEO_RATE)
        payloads, ts = packer.pack(data)
        for n, payload in enumerate(payloads):
            packets.append((index / VIDEO_RATE, 0, rtp(96, seq, ts, 1, payload,
                                                        n == len(payloads) - 1)))
            seq += 1
    for index in range(seconds * 50):
        packets.append((index / 50, 1, rtp(111, index, index * AUDIO_FRAME, 2,
                                           audio[index % len(audio)], True)))
    packets.sort(key=lambda p: p[0])
    return packets, list(video), list(audio)


def batches(packets: list[tuple[float, int, bytes]]) -> Iterator[Batch]:
    """What the loop hands the writer: the tracks, then every 50 ms what arrived, with an
    SR per track each second (NTP = arrival, as a publisher on this clock would send)."""
    items: list[Item] = [TrackOpened(0, "alice", "video", "vp8", 90000),
                         TrackOpened(1, "alice", "audio", "opus", 48000)]
    edge, next_sr = BATCH_S, 0.0
    for at, track, data in packets:
        while at >= edge:
            yield Batch(edge, items)
            items, edge = [], edge + BATCH_S
        if at >= next_sr:
            for sr_track, rate in ((0, 90000), (1, 48000)):
                items.append(Report(sr_track, at, int(at * (1 << 32)), round(at * rate)))
            next_sr += 1.0
        items.append(Tapped(track, at, data, rtp_header.parse(data)))
    yield Batch(edge, items)


class Quiet:
    def want_keyframe(self, track: int) -> None: ...
    def failed(self, reason: str) -> None: ...


def engine(packets: list[tuple[float, int, bytes]], directory: Path) -> float:
    directory.mkdir()
    spec = RecordingSpec("bench", "r", directory, min_free_bytes=0, queue_frames=1 << 20)
    writer = RecordingWriter(spec, 0.0, FileLedger(directory), for_codec, Quiet(),
                             lambda *args: None)
    start = cpu()
    writer.start()
    for batch in batches(packets):
        writer.put(batch)
    writer.finish()
    writer.thread.join()
    return cpu() - start


class Decoded(MediaStreamTrack):
    """The frames an aiortc receiver would hand on: each coded frame decoded, unpaced."""

    def __init__(self, kind: str, frames: list[bytes], count: int) -> None:
        super().__init__()
        self.kind = kind
        self._decoder: Any = Vp8Decoder() if kind == "video" else OpusDecoder()
        self._frames, self._count, self._index = frames, count, 0
        self._out: list[Any] = []

    async def recv(self) -> Any:
        while not self._out:
            if self._index >= self._count:
                self.stop()
                raise MediaStreamError
            step = VIDEO_TICKS if self.kind == "video" else AUDIO_FRAME
            data = self._frames[self._index % len(self._frames)]
            self._out = self._decoder.decode(JitterFrame(data, self._index * step))
            self._index += 1
        return self._out.pop(0)


async def media_recorder(video: list[bytes], audio: list[bytes], seconds: int,
                         directory: Path) -> float:
    recorder = MediaRecorder(str(directory / "aiortc.webm"))
    tracks = [Decoded("video", video, seconds * VIDEO_RATE), Decoded("audio", audio, seconds * 50)]
    ended = asyncio.Event()
    for track in tracks:
        recorder.addTrack(track)
        track.on("ended", lambda: ended.set() if all(
            t.readyState == "ended" for t in tracks) else None)
    start = cpu()
    await recorder.start()
    await ended.wait()
    await recorder.stop()
    return cpu() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    packets, video, audio = media(args.seconds)
    mbit = sum(len(p) for _, t, p in packets if t == 0) * 8 / args.seconds / 1e6
    results = {"Pavilion engine (remux)": [], "aiortc MediaRecorder (decode + encode)": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            results["Pavilion engine (remux)"].append(engine(packets, Path(tmp, f"e{run}")))
            results["aiortc MediaRecorder (decode + encode)"].append(
                asyncio.run(media_recorder(video, audio, args.seconds, Path(tmp))))
    print(f"{args.seconds} s of VP8 {mbit:.2f} Mbit/s 640x360 30 fps + Opus, best of {args.runs}")
    print("| recorder | CPU-s per media-s | recordings per core | vs engine |")
    print("|---|---:|---:|---:|")
    base = min(results["Pavilion engine (remux)"]) / args.seconds
    for name, runs in results.items():
        per_s = min(runs) / args.seconds
        print(f"| {name} | {per_s:.4f} | {1 / per_s:.0f} | {per_s / base:.1f}× |")


if __name__ == "__main__":
    main()
