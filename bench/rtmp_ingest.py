"""What an RTMP publish costs the node (issue 16 §8): the wire (handshake, chunks, AMF0), the
video path (FLV → RFC 6184 RTP, on the event loop) and the audio path (AAC → Opus, in its
thread), against decoding the same video with PyAV (the least any re-encoding ingest would
pay), on the same media, in one run.

    .venv/bin/python -m bench.rtmp_ingest [--seconds 10] [--size 1280x720] [--runs 3]

The media is made once by Debian's ffmpeg (testsrc2 at 30 fps, x264 veryfast CBR 2.5 Mbit/s,
GOP 2 s, AAC 128 kbit/s) and turned into the bytes an encoder sends (handshake, connect,
createStream, publish, Set Chunk Size 4096, audio and video messages) before any timing. Each
row is the best of ``--runs`` of process CPU time (all threads, ``time.process_time``) per
second of media, and the longest single step on the event loop (one ``feed`` of a 64 KiB read
plus its messages' ingest).
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import av

from streaming.negotiation import Codec
from streaming.rtmp import amf0, flv
from streaming.rtmp.aac_opus import AacToOpus
from streaming.rtmp.chunks import COMMAND_AMF0, SET_CHUNK_SIZE, ChunkWriter
from streaming.rtmp.handshake import SIZE
from streaming.rtmp.ingest import RtmpIngest
from streaming.rtmp.session import Media, RtmpSession
from tests.rtmp.flv_file import AUDIO, VIDEO, tags

READ = 65_536  # what the server reads at a time


class Count:
    """The ingest's target: counts packets (a Source's own cost is the forwarding's, measured
    by bench/hot_path.py)."""

    def __init__(self) -> None:
        self.packets = 0

    def add_track(self, kind: str, codec: Codec) -> None:
        pass

    def send(self, kind: str, packet: bytes) -> None:
        self.packets += 1

    def sender_report(self, kind: str, ntp: int, rtp_ts: int) -> None:
        pass


def make_flv(seconds: float, size: str) -> bytes:
    path = Path(tempfile.mkdtemp()) / "venue.flv"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size={size}:rate=30:duration={seconds}", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
         "-tune", "zerolatency", "-g", "60", "-b:v", "2500k", "-maxrate", "2500k",
         "-bufsize", "2500k", "-c:a", "aac", "-b:a", "128k", "-f", "flv", str(path)],
        check=True)
    return path.read_bytes()


def encoder_bytes(flv_tags: list[tuple[int, int, bytes]]) -> tuple[bytes, bytes]:
    """(handshake to publish, then the media) as an encoder sends them: the media only once
    it heard NetStream.Publish.Start."""
    out = ChunkWriter()
    parts = [b"\x03" + bytes(SIZE), bytes(SIZE)]  # C0+C1, C2
    for name, txn, args, stream in (("connect", 1, [{"app": "live"}], 0),
                                    ("createStream", 2, [None], 0),
                                    ("publish", 3, [None, "key", "live"], 1)):
        parts.append(out.write(3, COMMAND_AMF0, stream, 0, amf0.encode(name, txn, *args)))
    setup = b"".join(parts)
    parts = [out.write(2, SET_CHUNK_SIZE, 0, 0, struct.pack(">I", 4096))]
    out.chunk_size = 4096
    for kind, ts, body in flv_tags:
        if kind in (AUDIO, VIDEO):
            parts.append(out.write(4 if kind == AUDIO else 6, kind, 1, ts, body))
    return setup, b"".join(parts)


def publishing(setup: bytes) -> RtmpSession:
    session = RtmpSession()
    session.feed(setup)
    session.start()
    return session


def wire_and_video(setup: bytes, data: bytes) -> tuple[float, float, float, int]:
    """(CPU s of the wire alone, CPU s of wire + video ingest, longest step s, packets)."""
    session = publishing(setup)
    begin = time.process_time()
    for start in range(0, len(data), READ):
        session.feed(data[start:start + READ])
    wire = time.process_time() - begin
    session, target = publishing(setup), Count()
    ingest = RtmpIngest(target)
    longest, begin = 0.0, time.process_time()
    for start in range(0, len(data), READ):
        step = time.perf_counter()
        _, events = session.feed(data[start:start + READ])
        for event in events:
            if isinstance(event, Media) and event.kind == "video":
                ingest.media("video", event.timestamp, event.body)
        longest = max(longest, time.perf_counter() - step)
    return wire, time.process_time() - begin, longest, target.packets


def audio(flv_tags: list[tuple[int, int, bytes]]) -> float:
    frames = [(ts, flv.audio_tag(body)) for kind, ts, body in flv_tags if kind == AUDIO]
    codec = AacToOpus(frames[0][1].data)
    begin = time.process_time()
    for ts, tag in frames[1:]:
        codec.push(ts, tag.data)
    return time.process_time() - begin


def decode_baseline(flv_tags: list[tuple[int, int, bytes]]) -> float:
    """PyAV decoding every picture (no encoding at all): a floor for a transcoding ingest."""
    video = [flv.video_tag(body) for kind, _, body in flv_tags if kind == VIDEO]
    config = next(t.config for t in video if t is not None and t.config is not None)
    decoder = av.CodecContext.create("h264", "r")
    begin = time.process_time()
    for tag in video:
        if tag is not None and tag.kind == "nalus":
            annexb = b"".join(b"\0\0\0\1" + n for n in
                              [*config.sps, *config.pps, *flv.nalus(tag.data, 4)])
            decoder.decode(av.Packet(annexb))  # type: ignore[attr-defined]
    return time.process_time() - begin


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    flv_tags = tags(make_flv(args.seconds, args.size))
    setup, data = encoder_bytes(flv_tags)
    runs = [wire_and_video(setup, data) for _ in range(args.runs)]
    wire, video, longest = (min(r[i] for r in runs) for i in range(3))
    opus = min(audio(flv_tags) for _ in range(args.runs))
    decode = min(decode_baseline(flv_tags) for _ in range(args.runs))
    s = args.seconds
    print(f"RTMP ingest, {args.size} 30 fps 2.5 Mbit/s + AAC, {s:.0f} s of media, "
          f"{len(data) / 1e6:.1f} MB, {runs[0][3]} RTP packets; best of {args.runs}")
    print(f"{'path':44} {'CPU-s/s':>9} {'publishes/core':>15}")
    for name, cost in (("wire (handshake, chunks, AMF0), loop", wire),
                       ("wire + H264 → RTP (RFC 6184), loop", video),
                       ("AAC → Opus, its thread", opus),
                       ("whole ingest (loop + thread)", video + opus),
                       ("baseline: PyAV H264 decode only", decode)):
        print(f"{name:44} {cost / s:9.4f} {s / cost:15.0f}")
    print(f"longest step on the loop (64 KiB read + its messages): {longest * 1000:.2f} ms")
    print(f"decode baseline / whole ingest: {decode / (video + opus):.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
