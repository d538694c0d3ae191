"""A client's SDP checked for structure before anything else parses it (pure, one linear pass).

aiortc trusts the SDP it is given: a missing fingerprint or ``a=setup`` surfaces as a bare
``assert`` in a background task after the answer went out, and some repetitions cost it
quadratic time (every ``a=rtcp-fb`` line is applied to every ``a=rtpmap`` of its payload type,
so one rtpmap line repeated 550 times held the event loop for 4 s). :func:`screen` refuses such
SDP with :class:`~streaming.errors.BadOffer` and a sentence, in time linear in its size, and
strips the ICE candidates the node must not check (:mod:`streaming.candidate_filter`), with
``a=end-of-candidates`` when it stripped any (the client's checks still teach the node its
address as a peer-reflexive candidate, RFC 8445 §7.3.1.3).

Refused (docs/media.md, "Hostile offers"):

- shape: a line longer than ``max_sdp_line_chars``, a line not ``<letter>=``, no ``v=`` first
  (RFC 8866 §5), more m-lines than ``max_media_sections``, a section (the session level or one
  m-line and its attributes) longer than ``max_section_lines``, more candidates than
  ``max_candidates_per_peer``, the same line twice in one section, two ``a=rtpmap`` or
  ``a=fmtp`` for one payload type (RFC 8866 §6.6, §6.15), a payload type outside 0–127
  (RFC 3550 §5.1), repeated in the m-line, or in 72–76 (RFC 5761 §4);
- DTLS-SRTP is mandatory (RFC 8827 §6.5, RFC 8829 §5.1.2): a media proto other than
  ``UDP/TLS/RTP/SAVPF`` or ``UDP/TLS/RTP/SAVP`` (``UDP/DTLS/SCTP`` or ``DTLS/SCTP`` for data);
  a section without ``a=fingerprint`` or ``a=setup`` (RFC 8842 §5); a fingerprint whose hash
  is not one RFC 8122 §5 names (sha-1, sha-224, sha-256, sha-384, sha-512), or whose value is
  not that hash's length in colon-separated hex pairs; no fingerprint aiortc can verify
  (sha-256, sha-384, sha-512);
- ICE: no ``a=ice-ufrag`` / ``a=ice-pwd``, or ones outside RFC 8839 §5.4 (ice-chars, 4–256
  and 22–256 long);
- BUNDLE (RFC 8843 §7.2, RFC 5888 §4): a group naming a mid no m-line has, an m-line without
  ``a=mid`` when a group exists, the same mid twice, a mid that is not a short token.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from config import MediaLimits
from streaming.candidate_filter import CandidatePolicy, verdict
from streaming.errors import BadOffer

HASH_BYTES = {"sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64}
VERIFIABLE = ("sha-256", "sha-384", "sha-512")  # aiortc's X509_DIGEST_ALGORITHMS
RTP_PROTOS = ("UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP")
DATA_PROTOS = ("UDP/DTLS/SCTP", "DTLS/SCTP")
RTCP_CONFLICT = range(72, 77)  # RFC 5761 §4
_HEX_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*")
_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")
# RFC 8840 §4.1. Kept only when no candidate was stripped: aioice fails a check list that is
# empty once the remote candidates ended, before the client's first check (from the address of
# a stripped mDNS candidate, say) could teach it a peer-reflexive one (issue 14 §7).
END_OF_CANDIDATES = "a=end-of-candidates"
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,32}")


@dataclass(frozen=True, slots=True)
class Screened:
    """The SDP as the node will use it, and the candidates stripped from it with the reason."""

    sdp: str
    dropped: tuple[tuple[str, str], ...] = ()  # (candidate line, reason)


@dataclass(slots=True)
class _Section:
    """What one section (session level or one m-line) says about DTLS, ICE and BUNDLE."""

    lines: list[str]
    fingerprints: list[str] = field(default_factory=list)  # hash names
    setup: str | None = None
    ufrag: str | None = None
    pwd: str | None = None
    mid: str | None = None
    bundle: list[str] = field(default_factory=list)


def screen(sdp: str, limits: MediaLimits, *, answer: bool = False) -> Screened:
    """Check ``sdp`` (an offer, or with ``answer`` a viewer's answer); strip refused candidates.

    Raises :class:`BadOffer` with one sentence naming the first problem found.
    """
    lines = _lines(sdp, limits)
    if sum(line.startswith("a=candidate:") for line in lines) > limits.max_candidates_per_peer:
        raise BadOffer(f"the SDP has more than {limits.max_candidates_per_peer} ICE candidates")
    session, media = _sections(lines, limits)
    policy = CandidatePolicy(limits.allow_loopback_candidates, limits.allow_private_candidates)
    dropped: list[tuple[str, str]] = []
    for section in (session, *media):
        _read(section, policy, dropped)
    for section in media:
        _check_security(section, session, answer)
    _check_bundle(session, media)
    kept = session.lines + [line for section in media for line in section.lines]
    if dropped:
        kept = [line for line in kept if line != END_OF_CANDIDATES]
    return Screened("\r\n".join(kept) + "\r\n", tuple(dropped))


def _lines(sdp: str, limits: MediaLimits) -> list[str]:
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines or not lines[0].startswith("v="):
        raise BadOffer("the SDP must start with a v= line (RFC 8866 §5)")
    for line in lines:
        if len(line) > limits.max_sdp_line_chars:
            raise BadOffer(f"an SDP line is longer than {limits.max_sdp_line_chars} characters")
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise BadOffer(f"malformed SDP line: {line[:60]!r}")
    return lines


def _sections(lines: list[str], limits: MediaLimits) -> tuple[_Section, list[_Section]]:
    session = _Section([])
    media: list[_Section] = []
    for line in lines:
        if line.startswith("m="):
            if len(media) == limits.max_media_sections:
                raise BadOffer(f"the SDP has more than {limits.max_media_sections} media sections")
            _check_m_line(line)
            media.append(_Section([line]))
        else:
            section = media[-1] if media else session
            if len(section.lines) == limits.max_section_lines:
                raise BadOffer(f"an SDP section has more than {limits.max_section_lines} lines")
            section.lines.append(line)
    if not media:
        raise BadOffer("the SDP has no media section")
    return session, media


def _check_m_line(line: str) -> None:
    """``m=<kind> <port> <proto> <fmt>...``: a DTLS proto, and RTP payload types 0–127, once."""
    fields = line[2:].split()
    if len(fields) < 4 or not fields[1].isdigit() or int(fields[1]) > 65_535:
        raise BadOffer(f"malformed m-line: {line[:60]!r}")
    kind, proto, formats = fields[0], fields[2], fields[3:]
    allowed = DATA_PROTOS if kind == "application" else RTP_PROTOS
    if proto not in allowed:
        raise BadOffer(f"{kind} must use {' or '.join(allowed)}, not {proto[:40]!r}"
                       " (DTLS-SRTP is mandatory, RFC 8827 §6.5)")
    if kind == "application":
        return
    if not all(f.isdigit() and int(f) < 128 and int(f) not in RTCP_CONFLICT for f in formats):
        raise BadOffer("an m-line's payload types must be 0–127 and not 72–76 (RFC 5761 §4)")
    if len(set(formats)) != len(formats):
        raise BadOffer("an m-line lists a payload type twice")


def _read(section: _Section, policy: CandidatePolicy, dropped: list[tuple[str, str]]) -> None:
    """Record the section's attributes and drop the candidates ``policy`` refuses."""
    repeated = next((line for line, n in Counter(section.lines).items() if n > 1), None)
    if repeated is not None:
        raise BadOffer(f"the SDP repeats the line {repeated[:60]!r}")
    formats: Counter[str] = Counter()
    kept = []
    for line in section.lines:
        if line.startswith("a=candidate:"):
            reason = verdict(line, policy)
            if reason is not None:
                dropped.append((line, reason))
                continue
        elif line.startswith(("a=rtpmap:", "a=fmtp:")):
            formats[line.split(" ", 1)[0]] += 1
        else:
            _attribute(section, line)
        kept.append(line)
    twice = next((name for name, n in formats.items() if n > 1), None)
    if twice is not None:
        raise BadOffer(f"two {twice[2:]} lines for one payload type (RFC 8866 §6.6, §6.15)")
    section.lines = kept


def _attribute(section: _Section, line: str) -> None:
    if not line.startswith("a="):
        return
    name, _, value = line[2:].partition(":")
    if name == "fingerprint":
        section.fingerprints.append(_fingerprint(value))
    elif name == "setup":
        section.setup = value.strip()
    elif name == "ice-ufrag":
        section.ufrag = _ice_credential(value, "ice-ufrag", 4)
    elif name == "ice-pwd":
        section.pwd = _ice_credential(value, "ice-pwd", 22)
    elif name == "mid":
        section.mid = value.strip()
    elif name == "group" and value.startswith("BUNDLE"):
        section.bundle.extend(value.split()[1:])


def _fingerprint(value: str) -> str:
    """The hash name of ``a=fingerprint:<hash> <hex pairs>`` (RFC 8122 §5), checked."""
    parts = value.split()
    if len(parts) != 2:
        raise BadOffer("a fingerprint must be '<hash> <value>' (RFC 8122 §5)")
    algorithm, digest = parts[0].lower(), parts[1]
    size = HASH_BYTES.get(algorithm)
    if size is None:
        raise BadOffer(f"unknown fingerprint hash {algorithm[:20]!r} (RFC 8122 §5: "
                       + ", ".join(HASH_BYTES) + ")")
    if len(digest) != 3 * size - 1 or not _HEX_PAIRS.fullmatch(digest):
        raise BadOffer(f"a {algorithm} fingerprint must be {size} hex pairs joined by colons")
    return algorithm


def _ice_credential(value: str, name: str, shortest: int) -> str:
    value = value.strip()
    if not shortest <= len(value) <= 256 or not _ICE_CHARS.fullmatch(value):
        raise BadOffer(f"{name} must be {shortest}–256 ICE characters (RFC 8839 §5.4)")
    return value


def _check_security(section: _Section, session: _Section, answer: bool) -> None:
    """DTLS-SRTP (RFC 8827 §6.5) and ICE credentials, from the section or the session level."""
    fingerprints = section.fingerprints or session.fingerprints
    if not fingerprints:
        raise BadOffer("a media section has no a=fingerprint: DTLS-SRTP is mandatory"
                       " (RFC 8827 §6.5)")
    if not any(name in VERIFIABLE for name in fingerprints):
        raise BadOffer("no fingerprint uses a hash this node verifies: "
                       + ", ".join(VERIFIABLE))
    setup = section.setup or session.setup
    roles = ("active", "passive") if answer else ("actpass", "active", "passive")
    if setup not in roles:
        raise BadOffer(f"a=setup must be {' or '.join(roles)} (RFC 8842 §5)")
    if (section.ufrag or session.ufrag) is None or (section.pwd or session.pwd) is None:
        raise BadOffer("a media section has no a=ice-ufrag and a=ice-pwd (RFC 8839 §5.4)")


def _check_bundle(session: _Section, media: list[_Section]) -> None:
    mids = [section.mid for section in media]
    named = [mid for mid in mids if mid is not None]
    if len(set(named)) != len(named):
        raise BadOffer("two media sections have the same a=mid (RFC 5888 §4)")
    if any(not _TOKEN.fullmatch(mid) for mid in named):
        raise BadOffer("an a=mid must be a token of at most 32 characters (RFC 5888 §4)")
    if not session.bundle:
        return
    if None in mids:
        raise BadOffer("a BUNDLE group needs an a=mid on every media section (RFC 8843 §7.2)")
    missing = next((mid for mid in session.bundle if mid not in named), None)
    if missing is not None:
        raise BadOffer(f"the BUNDLE group names mid {missing[:32]!r}, which no media section"
                       " has (RFC 8843 §7.2)")
