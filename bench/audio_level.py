"""What reading the audio level costs per audio packet (issue 14 §5), next to what the intake
already pays for every packet (``rtp_header.parse``), in one run.

    .venv/bin/python -m bench.audio_level [--packets 200000] [--runs 5]

Packets are built like Chromium's Opus packets as the plane receives them (one-byte header
extensions: audio level id 1, abs-send-time, transport-cc, mid; ~80 bytes of Opus), plus the
level placed last and a packet without extensions. Each row is the best of ``--runs`` timings
of a loop over the packets (loop overhead included in every row alike), in ns per packet.
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable

from streaming import rtp_header
from streaming.audio_level import LevelMeter, read_level


def _packet(elements: bytes) -> bytes:
    elements += b"\x00" * (-len(elements) % 4)
    first = 0x90 if elements else 0x80
    head = struct.pack("!BBHII", first, 111, 4711, 960_000, 0x1234_5678)
    ext = struct.pack("!HH", 0xBEDE, len(elements) // 4) + elements if elements else b""
    return head + ext + bytes(80)


LEVEL = b"\x10\x9e"  # id 1, V set, -30 dBov
OTHERS = b"\x22\x01\x02\x03" + b"\x31\x00\x07" + b"\x40\x30"  # abs-send-time, twcc, mid "0"
PACKETS = {
    "Chromium order (level first)": (_packet(LEVEL + OTHERS), 1),
    "level last": (_packet(OTHERS + LEVEL.replace(b"\x10", b"\x50")), 5),
    "no extension": (_packet(b""), 1),
}


def _time(step: Callable[[], None], count: int, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter_ns()
        for _ in range(count):
            step()
        best = min(best, (time.perf_counter_ns() - start) / count)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| packet | parse ns | level + meter ns | level / parse |")
    print("|---|---:|---:|---:|")
    for name, (data, ext_id) in PACKETS.items():
        offset = rtp_header.parse(data).extension_offset
        meter = LevelMeter(45)

        def parse(data: bytes = data) -> None:
            rtp_header.parse(data)

        def level(data: bytes = data, offset: int = offset, ext_id: int = ext_id,
                  meter: LevelMeter = meter) -> None:
            value = read_level(data, offset, ext_id)  # what intake.py does per audio packet
            if value >= 0:
                meter.add(value)

        parse_ns = _time(parse, args.packets, args.runs)
        level_ns = _time(level, args.packets, args.runs)
        print(f"| {name} | {parse_ns:.0f} | {level_ns:.0f} | {level_ns / parse_ns:.2f} |")


if __name__ == "__main__":
    main()
