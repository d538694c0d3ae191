"""``HlsFeed``: one room's live HLS as the HTTP door serves it (issue 16 §3; docs/hls.md).

The packager (streaming/hls/packager.py) keeps each room's playlists, init segments, segments
and parts in memory on the node that holds the room's media; the door (web/hls.py) serves them
by name under ``/hls/{room}/`` and never looks inside. Names are flat (``[A-Za-z0-9_.-]+``) and
relative to ``index.m3u8``, so a CDN or another node caches them by URL alone.

Blocking playlist reload (RFC 8216bis §6.2.5.2) and blocking preload hints (§6.2.5.3) are the
two awaits: :meth:`HlsFeed.ready` and :meth:`HlsFeed.wait_blob`. Both are bounded by the
caller's timeout and wake on the event loop when the packager publishes (never poll).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PLAYLIST = "application/vnd.apple.mpegurl"
MP4 = "video/mp4"
AUDIO_MP4 = "audio/mp4"


@dataclass(frozen=True, slots=True)
class Blob:
    """A media resource: an init segment, a segment or a part. Immutable once published."""

    data: bytes
    content_type: str


class HlsFeed(Protocol):
    """One room's live HLS on its media node."""

    room: str

    @property
    def ended(self) -> bool:
        """The broadcast stopped: playlists carry ``EXT-X-ENDLIST`` and change no more."""

    def playlist(self, name: str, *, low_latency: bool, query: str = "") -> str | None:
        """The playlist ``name`` as it is now, or None for no such playlist.

        ``index.m3u8`` is the entry: a master playlist when there are several renditions (a
        ladder, extra audio), else the one media playlist. ``low_latency=False`` leaves out
        every LL-HLS tag (parts, preload hints, server control's blocking reload) for players
        without LL support. ``query`` (``"sig=...&exp=..."``, no ``?``) is appended to every URI
        the playlist names, so a signed private link stays signed through a player's requests.
        """

    def blob(self, name: str) -> Blob | None:
        """An init segment, segment or part that exists now; None otherwise."""

    async def ready(
        self, name: str, msn: int, part: int | None, timeout: float  # noqa: ASYNC109 (the door bounds each request)
    ) -> bool:
        """Wait until media playlist ``name`` holds media sequence number ``msn`` (and part
        ``part`` of it, when given), as ``_HLS_msn``/``_HLS_part`` ask. False at once when the
        request is too far ahead to be honoured (RFC 8216bis: more than two segments beyond
        the last one: the door answers 400), or when ``timeout`` passes (the door answers 503);
        True as soon as it is there, or when the feed ended (the door then serves the final
        playlist)."""

    async def wait_blob(self, name: str, timeout: float) -> Blob | None:  # noqa: ASYNC109
        """A blob now, or the part named by the playlist's ``EXT-X-PRELOAD-HINT`` once it is
        complete (a blocking preload hint); None for an unknown name or after ``timeout``."""
