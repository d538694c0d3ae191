"""What a GET under ``/hls/{room}/`` asks for (issue 16 §3, docs/hls.md §4): pure parsing.

- The name is flat, ``[A-Za-z0-9_.-]``, at most 64 characters, and does not start with a dot
  (no ``..``); anything else is no such name (404), never a path.
- A name ending in ``.m3u8`` is a playlist. Playlists carry the LL-HLS tags unless the query
  says ``ll=0``: hls.js (``lowLatencyMode``) and Safari use them, and a player without LL
  support ignores unknown tags anyway (RFC 8216bis §4.1); ``ll=0`` is for a player or a CDN
  that should not see parts at all.
- ``_HLS_msn`` / ``_HLS_part`` ask for a blocking reload (RFC 8216bis §6.2.5.2): decimal
  integers; ``_HLS_part`` without ``_HLS_msn`` is a client error (400). ``_HLS_skip`` is
  ignored: we never advertise ``CAN-SKIP-UNTIL`` (§6.2.5.1 lets a server answer in full).
- ``exp`` + ``u`` + ``sig``: a signed link for identity ``u`` (:mod:`web.hls_signature`);
  the door checks it, and on playlists asks the gate whether ``u`` has been removed since.
- :attr:`HlsAsk.carry` is the part of the query the playlist's URIs must carry on (the
  signature, ``ll=0``), so a player's next requests are signed and standard-latency as well.
- ``f``: the feed a URI was listed by (the door adds it to every URI, web/hls.py): a room's
  next broadcast starts its names again at ``v0-0.m4s``, and an immutable name must never
  mean two things to a cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from web import hls_signature

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
PLAYLIST_SUFFIX = ".m3u8"
MAX_SEQUENCE = 2**53  # EXT-X-MEDIA-SEQUENCE is a decimal-integer (RFC 8216bis §4.2)


class BadAsk(ValueError):
    """A request the door answers 400 (``code`` is the plain-text reason's first word)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class HlsAsk:
    name: str
    playlist: bool
    low_latency: bool
    msn: int | None  # _HLS_msn: a blocking playlist reload
    part: int | None  # _HLS_part (only with msn)
    exp: str | None  # a signed link's expiry and signature, as sent
    sig: str | None
    feed: str | None = None  # ``f``: the feed that listed this URI
    viewer: str | None = None  # ``u``: the identity a signed link was minted for

    @property
    def signed(self) -> bool:
        return self.exp is not None or self.sig is not None or self.viewer is not None

    @property
    def carry(self) -> str:
        """The query every URI of the answered playlist carries (no ``?``; may be empty)."""
        parts = [hls_signature.query(self.exp or "", self.viewer or "", self.sig or "")
                 ] if self.signed else []
        if not self.low_latency:
            parts.append("ll=0")
        return "&".join(parts)


def is_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


def parse_ask(name: str, query: Mapping[str, str]) -> HlsAsk | None:
    """The request for ``name`` with ``query``; None when the name cannot exist (404);
    :class:`BadAsk` for a malformed blocking-reload query (400)."""
    if not is_name(name):
        return None
    playlist = name.endswith(PLAYLIST_SUFFIX)
    msn = _number(query, "_HLS_msn") if playlist else None
    part = _number(query, "_HLS_part") if playlist else None
    if part is not None and msn is None:
        raise BadAsk("bad_request", "_HLS_part needs _HLS_msn (RFC 8216bis 6.2.5.2)")
    return HlsAsk(name=name, playlist=playlist, low_latency=query.get("ll", "1") != "0",
                  msn=msn, part=part, exp=query.get("exp"), sig=query.get("sig"),
                  feed=query.get("f"), viewer=query.get("u"))


def _number(query: Mapping[str, str], key: str) -> int | None:
    text = query.get(key)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 16 or int(text) > MAX_SEQUENCE:
        raise BadAsk("bad_request", f"{key} must be a non-negative integer")
    return int(text)
