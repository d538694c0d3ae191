"""LL-HLS playlists as values, and their text (RFC 8216bis; issue 16 §1, docs/hls.md §2).

A :class:`MediaPlaylist` is an immutable snapshot of one rendition (the segmenter makes a new
one per part); :func:`render_media` writes it as a Low-Latency playlist (version 9: parts,
preload hint, blocking reload) or a standard one (version 7) for players without LL-HLS.
:func:`render_master` writes ``index.m3u8``: one ``EXT-X-STREAM-INF`` per video rung and one
``EXT-X-MEDIA:TYPE=AUDIO`` per audio rendition, grouped as ``aud``. Pure, table-tested.

Names (all relative to ``index.m3u8``, flat): ``v{rung}.m3u8`` / ``a{n}.m3u8`` media
playlists, ``{r}-init{k}.mp4`` init segments, ``{r}-{msn}.m4s`` segments and
``{r}-{msn}.{part}.m4s`` parts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

LL_PARTS_OF = 3  # parts are listed for the last three segments (RFC 8216bis §4.4.4.9)


@dataclass(frozen=True, slots=True)
class Part:
    """A partial segment (``EXT-X-PART``)."""

    name: str
    duration: float
    independent: bool


@dataclass(frozen=True, slots=True)
class Segment:
    """A complete media segment. ``start``: its first sample's wall-clock time (epoch s) for
    ``EXT-X-PROGRAM-DATE-TIME``; ``init``: the ``EXT-X-MAP`` URI it needs; ``discontinuity``:
    it follows a break (a publisher reconnect, new parameter sets)."""

    msn: int
    name: str
    duration: float
    start: float
    init: str
    discontinuity: bool
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class OpenSegment:
    """The segment being built: its parts so far, and the next part's name (the hint)."""

    msn: int
    start: float
    init: str
    discontinuity: bool
    parts: tuple[Part, ...]
    next_part: str


@dataclass(frozen=True, slots=True)
class MediaPlaylist:
    """One rendition's playlist now. ``discontinuity_seq``: discontinuities that left the
    window (``EXT-X-DISCONTINUITY-SEQUENCE``); ``target``: ``EXT-X-TARGETDURATION``."""

    segments: tuple[Segment, ...]
    open: OpenSegment | None
    target: int
    part_target: float
    discontinuity_seq: int
    ended: bool

    @property
    def media_sequence(self) -> int:
        if self.segments:
            return self.segments[0].msn
        return self.open.msn if self.open is not None else 0

    @property
    def last_msn(self) -> int:
        """The msn of the newest segment that has anything (a part at least); -1 if none."""
        if self.open is not None and self.open.parts:
            return self.open.msn
        return self.segments[-1].msn if self.segments else -1

    @property
    def last_part(self) -> tuple[int, int] | None:
        """(msn, part index) of the newest part, for ``EXT-X-RENDITION-REPORT``."""
        if self.open is not None and self.open.parts:
            return self.open.msn, len(self.open.parts) - 1
        if self.segments:
            return self.segments[-1].msn, len(self.segments[-1].parts) - 1
        return None

    def has(self, msn: int, part: int | None) -> bool:
        """Whether segment ``msn`` (its part ``part`` when given) is published (§6.2.5.2)."""
        if self.segments and msn <= self.segments[-1].msn:
            return True
        if self.open is None or msn != self.open.msn:
            return False
        return part is not None and part < len(self.open.parts)


def with_query(uri: str, query: str) -> str:
    return f"{uri}?{query}" if query else uri


def _date(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parts(parts: Sequence[Part], query: str) -> list[str]:
    return [f'#EXT-X-PART:DURATION={p.duration:.5f},URI="{with_query(p.name, query)}"'
            + (",INDEPENDENT=YES" if p.independent else "") for p in parts]


def render_media(playlist: MediaPlaylist, *, low_latency: bool, query: str = "",
                 reports: Sequence[tuple[str, MediaPlaylist]] = ()) -> str:
    """The playlist's text; ``query`` goes on every URI (a signed link stays signed).
    ``reports``: the other renditions (URI, playlist) for ``EXT-X-RENDITION-REPORT`` in the LL
    playlist (RFC 8216bis §4.4.5.4: a player switching renditions asks for the right part)."""
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{9 if low_latency else 7}",
             f"#EXT-X-TARGETDURATION:{playlist.target}"]
    if low_latency:
        lines.append("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,"
                     f"PART-HOLD-BACK={3 * playlist.part_target:.3f}")
        lines.append(f"#EXT-X-PART-INF:PART-TARGET={playlist.part_target:.5f}")
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{playlist.media_sequence}")
    lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{playlist.discontinuity_seq}")
    init = ""
    with_parts = {s.msn for s in playlist.segments[-LL_PARTS_OF:]} if low_latency else set()
    for segment in playlist.segments:
        lines += _head(segment.discontinuity, segment.init, segment.start, init, query)
        init = segment.init
        if segment.msn in with_parts:
            lines += _parts(segment.parts, query)
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(with_query(segment.name, query))
    if playlist.ended:
        lines.append("#EXT-X-ENDLIST")
    elif low_latency and playlist.open is not None:
        opened = playlist.open
        lines += _head(opened.discontinuity, opened.init, opened.start, init, query)
        lines += _parts(opened.parts, query)
        lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{with_query(opened.next_part, query)}"')
        lines += _reports(reports, query)
    return "\n".join(lines) + "\n"


def _reports(reports: Sequence[tuple[str, MediaPlaylist]], query: str) -> list[str]:
    lines = []
    for uri, other in reports:
        last = other.last_part
        if last is not None:
            lines.append(f'#EXT-X-RENDITION-REPORT:URI="{with_query(uri, query)}",'
                         f"LAST-MSN={last[0]},LAST-PART={last[1]}")
    return lines


def _head(discontinuity: bool, init: str, start: float, last_init: str, query: str) -> list[str]:
    """The tags before a segment: a break, a new map when the init changes, its date."""
    lines = ["#EXT-X-DISCONTINUITY"] if discontinuity else []
    if init != last_init:
        lines.append(f'#EXT-X-MAP:URI="{with_query(init, query)}"')
    lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date(start)}")
    return lines


def target_duration(durations: Sequence[float], floor: float) -> int:
    """``EXT-X-TARGETDURATION``: every segment's rounded duration fits (§4.4.3.1), at least
    ``ceil(floor)`` (the configured segment length)."""
    return max([math.ceil(floor), *(math.floor(d + 0.5) for d in durations)])


# -- the master playlist ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoRendition:
    uri: str
    bandwidth: int
    average_bandwidth: int
    codec: str
    width: int
    height: int
    frame_rate: float


@dataclass(frozen=True, slots=True)
class AudioRendition:
    uri: str
    name: str
    language: str = ""
    default: bool = False
    bandwidth: int = 0
    codec: str = "mp4a.40.2"


def _quoted(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def render_audio_master(uri: str, bandwidth: int, query: str = "") -> str:
    """``index.m3u8`` of an audio-only room (a forum whose speakers send no video): one
    variant, AAC-LC only (RFC 8216bis §4.4.6.2: CODECS lists what it carries, no RESOLUTION)."""
    return "\n".join(["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS",
                      f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="mp4a.40.2"',
                      with_query(uri, query)]) + "\n"


def render_master(video: Sequence[VideoRendition], audio: Sequence[AudioRendition],
                  query: str = "") -> str:
    """``index.m3u8``: the audio group ``aud`` and one variant per video rung (§4.4.6)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for track in audio:
        attributes = ['TYPE=AUDIO', 'GROUP-ID="aud"', f'NAME="{_quoted(track.name)}"']
        if track.language:
            attributes.append(f'LANGUAGE="{_quoted(track.language)}"')
        attributes += [f"DEFAULT={'YES' if track.default else 'NO'}", "AUTOSELECT=YES",
                       'CHANNELS="2"', f'URI="{with_query(track.uri, query)}"']
        lines.append("#EXT-X-MEDIA:" + ",".join(attributes))
    audio_bw = max((a.bandwidth for a in audio), default=0)
    audio_codec = f",{audio[0].codec}" if audio else ""
    for rung in video:
        attributes = [f"BANDWIDTH={rung.bandwidth + audio_bw}",
                      f"AVERAGE-BANDWIDTH={rung.average_bandwidth + audio_bw}",
                      f'CODECS="{rung.codec}{audio_codec}"',
                      f"RESOLUTION={rung.width}x{rung.height}"]
        if rung.frame_rate:
            attributes.append(f"FRAME-RATE={rung.frame_rate:.3f}")
        if audio:
            attributes.append('AUDIO="aud"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(with_query(rung.uri, query))
    return "\n".join(lines) + "\n"
