"""What a page receives and sends, read from its RTCPeerConnections' getStats() (the ground truth
for the shaped-link tests: ``window.pavilion.peers`` is the page's map of connections).

:func:`received` is a viewer's snapshot (W3C webrtc-stats ``inbound-rtp``: framesDecoded,
frameWidth, freezeCount, totalFreezesDuration, packetsLost; audio packetsReceived; and the
selected candidate pair's local address, to prove the media came over the shaped link);
:func:`layers` is a publisher's ``outbound-rtp`` per simulcast ``rid`` (RFC 8851).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from tests.pages.helpers import until

RECEIVED = """
async () => {
  const out = {video: [], audio: [], local: []};
  for (const [label, pc] of window.pavilion?.peers ?? []) {
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp') out[s.kind].push({label, ...s});
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = stats.get(s.selectedCandidatePairId);
        const local = pair && stats.get(pair.localCandidateId);
        if (local) out.local.push(local.address || local.ip || '');
      }
    }
  }
  return out;
}
"""

LAYERS = """
async () => {
  const out = {};
  for (const pc of window.pavilion?.peers?.values() ?? []) {
    for (const s of (await pc.getStats()).values()) {
      if (s.type === 'outbound-rtp' && s.kind === 'video')
        out[s.rid ?? ''] = {bytes: s.bytesSent || 0, at: s.timestamp, width: s.frameWidth || 0,
                            height: s.frameHeight || 0, active: s.active !== false};
    }
  }
  return out;
}
"""


@dataclass(frozen=True)
class Received:
    """One viewer page's inbound media at one moment (the video stream that decoded most)."""

    at_ms: float
    decoded: int
    width: int
    height: int
    freezes: int
    frozen_s: float
    lost: int
    video_bytes: int
    audio_packets: int
    audio_bytes: int
    local_addresses: tuple[str, ...]

    def video_kbit_s(self, earlier: Received) -> float:
        """The video bitrate received between ``earlier`` and this snapshot."""
        return _kbit_s(self.video_bytes - earlier.video_bytes, self.at_ms - earlier.at_ms)

    def total_kbit_s(self, earlier: Received) -> float:
        got = self.video_bytes + self.audio_bytes - earlier.video_bytes - earlier.audio_bytes
        return _kbit_s(got, self.at_ms - earlier.at_ms)

    def since(self, earlier: Received) -> str:
        """What happened between ``earlier`` and this snapshot, for a test's log."""
        return (f"{self.total_kbit_s(earlier):.0f} kbit/s ({self.video_kbit_s(earlier):.0f} "
                f"video) at {self.width}x{self.height}, {self.decoded - earlier.decoded} frames, "
                f"{self.freezes - earlier.freezes} freezes "
                f"({self.frozen_s - earlier.frozen_s:.2f} s), {self.lost - earlier.lost} lost, "
                f"{self.audio_packets - earlier.audio_packets} audio packets")


def _kbit_s(octets: int, ms: float) -> float:
    return octets * 8 / ms if ms > 0 else 0.0


def _received(raw: dict[str, Any]) -> Received:
    video: dict[str, Any] = max(raw["video"], key=lambda s: s.get("framesDecoded", 0),
                                default={})
    audio = raw["audio"]
    return Received(
        at_ms=float(video.get("timestamp") or (audio[0]["timestamp"] if audio else 0.0)),
        decoded=int(video.get("framesDecoded", 0)), width=int(video.get("frameWidth", 0)),
        height=int(video.get("frameHeight", 0)), freezes=int(video.get("freezeCount", 0)),
        frozen_s=float(video.get("totalFreezesDuration", 0.0)),
        lost=int(video.get("packetsLost", 0)), video_bytes=int(video.get("bytesReceived", 0)),
        audio_packets=sum(int(a.get("packetsReceived", 0)) for a in audio),
        audio_bytes=sum(int(a.get("bytesReceived", 0)) for a in audio),
        local_addresses=tuple(raw["local"]),
    )


async def received(page: Any) -> Received:
    """The page's inbound media now (zeros before its first peer connection)."""
    return _received(await page.evaluate(RECEIVED))


@dataclass(frozen=True)
class Layer:
    """One simulcast layer as its publisher sends it: ``rid`` is '' without simulcast."""

    rid: str
    width: int
    height: int
    kbit_s: float
    active: bool


async def layers(page: Any, window_s: float = 2.0) -> dict[str, Layer]:
    """The publisher page's video layers and the bitrate each sent over ``window_s``."""
    first = await page.evaluate(LAYERS)
    await asyncio.sleep(window_s)
    later = await page.evaluate(LAYERS)
    return {rid: Layer(rid, s["width"], s["height"],
                       _kbit_s(s["bytes"] - first.get(rid, s)["bytes"],
                               s["at"] - first.get(rid, s)["at"]), s["active"])
            for rid, s in later.items()}


async def first_frame_s(page: Any, since: float) -> float:
    """Seconds from ``since`` (time.monotonic() before the page was opened) to its first
    decoded video frame; polled every 50 ms, so a log figure, never an assertion."""

    async def decoded() -> bool:
        return (await received(page)).decoded > 0

    await until(decoded, "the first decoded frame", tries=600, pause=0.05)
    return time.monotonic() - since


async def longest_stall(
    page: Any, check: Any, what: str, timeout_s: float = 20.0
) -> tuple[Received, float]:
    """Poll ``received(page)`` every 0.1 s until ``check(snapshot)`` holds; returns that snapshot
    and the longest time, in seconds, in which no frame was decoded (the viewer's freeze as it
    sees it: getStats' ``freezeCount`` / ``totalFreezesDuration`` count only freezes that ended,
    and not how long each was)."""
    last = await received(page)
    longest = 0.0
    for _ in range(int(timeout_s / 0.1)):
        await asyncio.sleep(0.1)
        now = await received(page)
        if now.decoded > last.decoded:
            last = now
        longest = max(longest, (now.at_ms - last.at_ms) / 1000)
        if check(now):
            return now, longest
    raise AssertionError(f"timed out waiting for {what} (longest stall so far {longest:.2f} s)")


async def settle(page: Any, check: Any, what: str, timeout_s: float = 30.0) -> Received:
    """Poll ``received(page)`` until ``check(snapshot)`` holds; returns that snapshot."""

    async def ok() -> Received | None:
        now = await received(page)
        return now if check(now) else None

    return await until(ok, what, tries=int(timeout_s / 0.25), pause=0.25)  # type: ignore[no-any-return]
