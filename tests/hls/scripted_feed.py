"""A feed the test publishes by hand, for the door's tests (issue 16 §3).

It implements the :class:`streaming.hls.feed.HlsFeed` port with the port's contract (blocking
waits on an ``asyncio.Condition``, "too far ahead" = more than two segments beyond the last,
``query`` appended to every URI, no LL tags for ``low_latency=False``), so the door is tested
against the contract, independently of how the packager builds its bytes; the packager's own
playlists and the door together are tests/hls/test_packaged.py's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from streaming.hls.feed import MP4, Blob

PARTS_PER_SEGMENT = 4
PART_S = 0.5


@dataclass
class ScriptedFeed:
    room: str
    segments: int = 0  # complete segments
    parts: int = 0  # complete parts of the segment being written
    ended_: bool = False
    asked: list[tuple[str, bool, str]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def ended(self) -> bool:
        return self.ended_

    async def publish_part(self) -> None:
        """One more part; the fourth completes a segment."""
        async with self._changed:
            self.parts += 1
            if self.parts == PARTS_PER_SEGMENT:
                self.segments, self.parts = self.segments + 1, 0
            self._changed.notify_all()

    async def end(self) -> None:
        async with self._changed:
            self.ended_ = True
            self._changed.notify_all()

    def playlist(self, name: str, *, low_latency: bool, query: str = "") -> str | None:
        self.asked.append((name, low_latency, query))
        if name != "index.m3u8":
            return None
        q = "?" + query if query else ""
        lines = ["#EXTM3U", "#EXT-X-VERSION:9", "#EXT-X-TARGETDURATION:2",
                 "#EXT-X-MEDIA-SEQUENCE:0", f'#EXT-X-MAP:URI="init.mp4{q}"']
        if low_latency:
            lines[3:3] = ["#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5",
                          f"#EXT-X-PART-INF:PART-TARGET={PART_S}"]
        for msn in range(self.segments + 1):
            done = PARTS_PER_SEGMENT if msn < self.segments else self.parts
            if low_latency:
                lines += [f'#EXT-X-PART:DURATION={PART_S},URI="s{msn}.{p}.m4s{q}"'
                          + (",INDEPENDENT=YES" if p == 0 else "") for p in range(done)]
            if msn < self.segments:
                lines += ["#EXTINF:2.0,", f"s{msn}.m4s{q}"]
        if self.ended_:
            lines.append("#EXT-X-ENDLIST")
        elif low_latency:
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s{self.segments}.'
                         f'{self.parts}.m4s{q}"')
        return "\n".join(lines) + "\n"

    def blob(self, name: str) -> Blob | None:
        if name == "init.mp4":
            return Blob(b"init:" + self.room.encode(), MP4)
        stem = name.removesuffix(".m4s")
        if stem == name:
            return None
        msn, _, part = stem.removeprefix("s").partition(".")
        if not msn.isdigit() or (part and not part.isdigit()):
            return None
        if self._has(int(msn), int(part) if part else None):
            return Blob(f"media:{name}".encode(), MP4)
        return None

    def _has(self, msn: int, part: int | None) -> bool:
        if part is None:
            return msn < self.segments
        return msn < self.segments or (msn == self.segments and part < self.parts)

    async def ready(self, name: str, msn: int, part: int | None,
                    timeout: float) -> bool:  # noqa: ASYNC109 -- the HlsFeed port's signature
        if msn > self.segments + 2:
            return False
        want = part if part is not None else -1

        def there() -> bool:
            return self.ended_ or (self._has(msn, want) if want >= 0 else msn < self.segments)

        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(there), timeout)
            return there()

    async def wait_blob(self, name: str,
                        timeout: float) -> Blob | None:  # noqa: ASYNC109 -- the port's
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(
                    lambda: self.blob(name) is not None), timeout)
        return self.blob(name)


class Feeds:
    """The door's feed source for a test node: the rooms it was given."""

    def __init__(self, *feeds: ScriptedFeed) -> None:
        self.feeds = {feed.room: feed for feed in feeds}

    def hls(self, room: str) -> ScriptedFeed | None:
        return self.feeds.get(room)
