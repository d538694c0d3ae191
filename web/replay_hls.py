"""An HLS replay's files through the recordings' file route (issue 16 §5, docs/hls.md §5).

An HLS replay's record lists one file, its VOD master playlist (``index.m3u8``); the media
playlists, init segments and segments beside it (names :func:`rooms.recording.is_hls_name`
allows) are served by the same route, behind the same decision (a signed link, or
:func:`rooms.gate.decide_replay` for a published replay of a public room).

A player follows a playlist's relative URIs without the query that signed the playlist, and a
signature covers one file name (web/file_signature.py). So a playlist fetched with a signed
link is answered with every URI it names signed for the same expiry: whoever could open the
playlist can open what it lists, until the same moment. Pure text work.
"""

from __future__ import annotations

import re

from rooms.recording import FileKind, RecordingFile, is_hls_name
from web import file_signature

PLAYLIST = "application/vnd.apple.mpegurl"
URI_ATTRIBUTE = re.compile(r'URI="([^"?]+)(?:\?[^"]*)?"')


def hls_file(name: str) -> RecordingFile | None:
    """The file ``name`` of an HLS replay as the route serves it, None if it may not be one."""
    if not is_hls_name(name):
        return None
    if name.endswith(".m3u8"):
        kind = PLAYLIST
    else:
        kind = "audio/mp4" if name.startswith("a") else "video/mp4"
    return RecordingFile(name, FileKind.HLS, kind)


def signed_playlist(text: str, secret: str, rec_id: str, exp: int) -> str:
    """``text`` with every URI (a line, or a tag's ``URI="..."``) signed until ``exp``; a
    URI that is not one of the replay's names is left as it is (the route refuses it)."""

    def sign(name: str) -> str:
        if not is_hls_name(name):
            return name
        return f"{name}?exp={exp}&sig={file_signature.signature(secret, rec_id, name, exp)}"

    lines = []
    for line in text.split("\n"):
        if line.startswith("#"):
            line = URI_ATTRIBUTE.sub(lambda m: f'URI="{sign(m.group(1))}"', line)
        elif line.strip():
            line = sign(line.strip().partition("?")[0])
        lines.append(line)
    return "\n".join(lines)
