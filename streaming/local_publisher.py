"""LocalPublisher: a publisher whose RTP is made on this node, not received from a peer.

The RTMP ingest (:mod:`streaming.rtmp`) turns an encoder's FLV into RTP and hands it here; its
tracks become :class:`~streaming.source.Source` s through the plane's own track sink, exactly
as a WHIP publisher's do (SourceAdded, recordings and HLS taps, the allocator and active
speaker start), so WebRTC viewers, recordings and HLS cannot tell the difference. There is no
connection to give feedback on: a PLI is counted and ignored (an RTMP encoder sends keyframes by
its own keyframe interval, which is why docs/hls.md asks for 1–2 s); viewers' NACKs are
answered from the Source's packet cache as for any publisher.

It is closed like any peer (``MediaPlane.close(peer_id)``: DELETE, kick, room end) and then
runs its ``on_close`` callbacks, so the RTMP connection that feeds it hangs up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from streaming import rtp_header
from streaming.audio_level import SILENCE, LevelMeter
from streaming.negotiation import Codec
from streaming.source import Source

log = logging.getLogger(__name__)

# (publisher, kind, codec, extension ids, simulcast rids) -> its Source (MediaPlane._track)
LocalTrackSink = Callable[["LocalPublisher", str, Codec, dict[str, int], tuple[str, ...]], Source]


@dataclass(slots=True)
class LocalTrack:
    """One track of a local publisher; ``source`` is None once released to another leg."""

    kind: str
    source: Source | None


class LocalPublisher:
    """Tracks added with :meth:`add_track`, fed with :meth:`send` and :meth:`sender_report`."""

    def __init__(self, peer_id: str, room: str, participant: str,
                 on_track: LocalTrackSink, level_threshold: int = SILENCE) -> None:
        self.peer_id = peer_id
        self.room = room
        self.participant = participant
        self.inbounds: list[LocalTrack] = []  # the name the plane's track sink counts
        self.closed = asyncio.Event()
        self.plis_ignored = 0
        self.malformed = 0
        self._on_track = on_track
        self._threshold = level_threshold  # -dBov: louder counts as speaking (issue 14 §5)
        self._on_close: list[Callable[[], None]] = []

    def add_track(self, kind: str, codec: Codec) -> Source:
        """A new track of ``kind`` (one per kind); its Source exists from now on."""
        if self.closed.is_set():
            raise RuntimeError("this local publisher is closed")
        if self._track(kind) is not None:
            raise ValueError(f"this publisher has a {kind} track already")
        source = self._on_track(self, kind, codec, {}, ("",))
        source.upstream = self._pli
        if kind == "audio" and source.levels is None:  # levels come from audio_level()
            source.levels = LevelMeter(self._threshold)
        self.inbounds.append(LocalTrack(kind, source))
        return source

    def _pli(self) -> None:
        self.plis_ignored += 1  # the encoder keys by its own interval

    def _track(self, kind: str) -> LocalTrack | None:
        return next((t for t in self.inbounds if t.kind == kind), None)

    def send(self, kind: str, packet: bytes) -> None:
        """One RTP packet of the ``kind`` track, forwarded at once to its Source."""
        track = self._track(kind)
        if track is None or track.source is None:
            return
        try:
            header = rtp_header.parse(packet)
        except ValueError:
            self.malformed += 1
            return
        track.source.on_rtp(packet, header)

    def sender_report(self, kind: str, ntp: int, rtp_ts: int) -> None:
        """What an RTCP SR would say (RFC 3550 §6.4.1): 64-bit NTP time of ``rtp_ts``."""
        track = self._track(kind)
        if track is not None and track.source is not None:
            track.source.on_sender_report(ntp, rtp_ts)

    def audio_level(self, level: int) -> None:
        """The level (-dBov, RFC 6464) of the audio packet just sent: active-speaker
        detection reads it as it reads a WHIP publisher's audio-level extension."""
        track = self._track("audio")
        if track is not None and track.source is not None and track.source.levels is not None:
            track.source.levels.add(level)

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close.append(callback)

    def release(self) -> list[Source]:
        """Detach from the Sources (they end, or continue with another leg); returns them."""
        sources = [t.source for t in self.inbounds if t.source is not None]
        for track in self.inbounds:
            track.source = None
        return sources

    async def close(self) -> None:
        """Idempotent; tells whoever feeds it to stop."""
        if self.closed.is_set():
            return
        self.closed.set()
        for callback in self._on_close:
            try:
                callback()
            except Exception:
                log.exception("local publisher %s: close callback failed", self.peer_id)
