"""Hostile SDP made from real captured offers (tests/data/sdp): one table, shared by the tests of
every door (WHIP, WHEP, Socket.IO) and by bench/sdp_cost.py.

Each entry of :data:`HOSTILE` damages a real offer in one way issue 11 found or names, and says
which words the refusal must contain. :func:`mutations` and :func:`inflations` are hypothesis
strategies: small random damage (for "never a 5xx"), and legal-size offers made big by
repeating, lengthening and multiplying lines (for the cost budget).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

SDP_DIR = Path(__file__).resolve().parents[1] / "data" / "sdp"


def _read(name: str) -> str:
    text = (SDP_DIR / name).read_bytes().decode("utf-8").replace("\r\n", "\n").strip("\n")
    return text.replace("\n", "\r\n") + "\r\n"  # CRLF, one after the last line


CHROMIUM = _read("chromium-156-publish-offer.sdp")
CHROMIUM_WHEP = _read("chromium-156-whep-recvonly-offer.sdp")
GSTREAMER = _read("gstreamer-1.22-webrtcbin-whip-h264-offer.sdp")
OFFERS = (CHROMIUM, CHROMIUM_WHEP, GSTREAMER)
MAX_BYTES, MAX_LINES = 20_000, 1_000  # MediaLimits defaults: every offer here is legal size


def lines(sdp: str) -> list[str]:
    return sdp.rstrip("\r\n").split("\r\n")


def join(parts: list[str]) -> str:
    return "\r\n".join(parts) + "\r\n"


def repeat(sdp: str, prefix: str, times: int) -> str:
    """The first line starting with ``prefix`` written ``times`` times."""
    parts = lines(sdp)
    at = next(i for i, line in enumerate(parts) if line.startswith(prefix))
    return join(parts[:at] + [parts[at]] * times + parts[at + 1 :])


def without(sdp: str, prefix: str) -> str:
    return join([line for line in lines(sdp) if not line.startswith(prefix)])


def fit(make: Callable[[int], str], most: int = 2_000) -> str:
    """``make(n)`` for the largest n up to ``most`` that is still under the size caps."""
    n = most
    while True:
        sdp = make(n)
        if len(sdp.encode()) <= MAX_BYTES and sdp.count("\n") + 1 <= MAX_LINES:
            return sdp
        n = n * 9 // 10


def candidates(sdp: str, count: int, host: str = "198.51.100.{k}") -> str:
    """``count`` distinct host candidates in the first media section."""
    parts = lines(sdp)
    at = next(i for i, line in enumerate(parts) if line.startswith("m=")) + 1
    made = [f"a=candidate:{k} 1 udp 2122194687 {host.format(k=k % 250 + 1)} {1024 + k} typ host"
            for k in range(count)]
    return join(parts[:at] + made + parts[at:])


def distinct(sdp: str, after: str, template: str, count: int) -> str:
    """``count`` lines ``template.format(k=k)`` after the first line starting with ``after``."""
    parts = lines(sdp)
    at = next(i for i, line in enumerate(parts) if line.startswith(after)) + 1
    return join(parts[:at] + [template.format(k=k) for k in range(count)] + parts[at:])


def media_sections(sdp: str, count: int) -> str:
    """The first media section ``count`` times, with fresh mids, all in the BUNDLE group."""
    parts = lines(sdp)
    starts = [i for i, line in enumerate(parts) if line.startswith("m=")]
    first = [line for line in parts[starts[0] : starts[1]]
             if not line.startswith(("a=mid:", "a=candidate:", "a=ssrc", "a=msid:"))]
    session = [line for line in parts[: starts[0]] if not line.startswith("a=group:")]
    session.append("a=group:BUNDLE " + " ".join(f"s{k}" for k in range(count)))
    for k in range(count):
        session += [*first, f"a=mid:s{k}"]
    return join(session)


def long_line(sdp: str, chars: int) -> str:
    """A session-level attribute ``chars`` long, after the first line."""
    first, rest = sdp.split("\r\n", 1)
    return f"{first}\r\na=x-pavilion-test:{'A' * chars}\r\n{rest}"


def huge_fingerprint(sdp: str) -> str:
    """The first fingerprint 1,500 byte pairs long (a sha-256 has 32)."""
    pairs = ":".join(["AB"] * 1_500)
    return re.sub(r"a=fingerprint:sha-256 [0-9A-F:]+", f"a=fingerprint:sha-256 {pairs}", sdp,
                  count=1)


@dataclass(frozen=True)
class Hostile:
    """One way to damage an offer, and words its refusal must contain."""

    name: str
    damage: Callable[[str], str]
    reason: str


def _first_rtpmap(sdp: str) -> str:
    return next(line for line in lines(sdp) if line.startswith("a=rtpmap:"))


HOSTILE = (
    Hostile("no fingerprint", lambda s: without(s, "a=fingerprint:"), "fingerprint"),
    Hostile("unknown fingerprint hash",
            lambda s: s.replace("a=fingerprint:sha-256", "a=fingerprint:md5"), "unknown"),
    Hostile("sha-1 only (aiortc cannot verify)",
            lambda s: re.sub(r"a=fingerprint:sha-256 [0-9A-F:]+",
                             "a=fingerprint:sha-1 " + ":".join(["0A"] * 20), s), "verifies"),
    Hostile("malformed fingerprint value",
            lambda s: re.sub(r"(a=fingerprint:sha-256 [0-9A-F:]+):[0-9A-F]{2}", r"\1", s),
            "hex pairs"),
    Hostile("huge fingerprint", huge_fingerprint, "longer than"),
    Hostile("RTP/AVP profile", lambda s: s.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP"), "DTLS"),
    Hostile("no a=setup", lambda s: without(s, "a=setup:"), "setup"),
    Hostile("no ICE credentials", lambda s: without(s, "a=ice-pwd:"), "ice-pwd"),
    Hostile("BUNDLE names a missing mid",
            lambda s: re.sub(r"a=group:BUNDLE ([^\r]*)", r"a=group:BUNDLE \1 ghost", s),
            "BUNDLE"),
    Hostile("BUNDLE without a=mid", lambda s: without(s, "a=mid:"), "a=mid"),
    Hostile("one rtpmap repeated 100 times",
            lambda s: repeat(s, _first_rtpmap(s), 100), "repeats"),
    Hostile("one candidate repeated",
            lambda s: repeat(candidates(s, 1), "a=candidate:", 40), "repeats"),
    Hostile("two rtpmaps for one payload type",
            lambda s: s.replace(_first_rtpmap(s), _first_rtpmap(s) + "\r\n"
                                + _first_rtpmap(s).split(" ")[0] + " PCMU/8000", 1),
            "one payload type"),
    Hostile("too many candidates", lambda s: candidates(s, 65), "candidates"),
    Hostile("too many media sections", lambda s: media_sections(s, 9), "media sections"),
    Hostile("an over-long line", lambda s: long_line(s, 5_000), "longer than"),
    Hostile("a section of 400 distinct ssrc lines",
            lambda s: distinct(s, "m=", "a=ssrc:{k} cname:x", 400), "more than 300 lines"),
    Hostile("a payload type above 127",
            lambda s: re.sub(r"(m=video \d+ \S+) ", r"\1 200 ", s, count=1), "payload types"),
)


def sweeps(offer: str) -> list[str]:
    """``offer`` once without each kind of line it has (every ``a=mid``, every ``c=``, ...)."""
    names = dict.fromkeys(line.split(":", 1)[0] for line in lines(offer)[1:])
    return [join([line for line in lines(offer) if line.split(":", 1)[0] != name])
            for name in names]


def mutations(offers: tuple[str, ...] = OFFERS) -> st.SearchStrategy[str]:
    """A real offer with a few lines dropped, doubled, swapped, cut, or with a token changed."""
    def damage(sdp: str) -> st.SearchStrategy[str]:
        parts = lines(sdp)
        index = st.integers(0, len(parts) - 1)
        token = st.sampled_from(["", "0", "-1", "65536", "999999999999", "x", "*", ":", " ",
                                 "\x7f", "é", "sha-256", "UDP/TLS/RTP/SAVPF", "a=mid:0"])
        edit = st.one_of(
            st.tuples(st.just("drop"), index, token),
            st.tuples(st.just("double"), index, token),
            st.tuples(st.just("cut"), index, token),
            st.tuples(st.just("token"), index, token),
            st.tuples(st.just("insert"), index, token),
        )
        return st.lists(edit, min_size=1, max_size=4).map(lambda edits: _apply(parts, edits))
    return st.sampled_from(offers).flatmap(damage)


def _apply(parts: list[str], edits: list[tuple[str, int, str]]) -> str:
    out = list(parts)
    for kind, at, token in edits:
        at %= len(out)
        line = out[at]
        if kind == "drop" and len(out) > 1:
            del out[at]
        elif kind == "double":
            out.insert(at, line)
        elif kind == "cut":
            out[at] = line[: max(2, len(line) // 2)]
        elif kind == "token":
            words = line.split(" ")
            words[len(words) // 2] = token
            out[at] = " ".join(words) if len(words) > 1 else line[:2] + token
        else:
            out.insert(at, "a=" + token)
    return join(out)


TEMPLATES = ("a=ssrc:{k} cname:x", "a=rtcp-fb:* x{k}", "a=extmap:{k} urn:x:{k}", "a=x-{k}:y",
             "a=candidate:{k} 1 udp 1 198.51.100.1 {k} typ host")


def inflations(offers: tuple[str, ...] = OFFERS) -> st.SearchStrategy[tuple[str, str]]:
    """(kind, offer): a real offer inflated to the size caps in one of the costly ways."""
    def inflate(sdp: str) -> st.SearchStrategy[tuple[str, str]]:
        parts = lines(sdp)
        return st.one_of(
            st.tuples(st.sampled_from(parts[1:]), st.integers(2, 1_000)).map(
                lambda drawn: ("repeat", fit(lambda n: repeat(sdp, drawn[0], min(n, drawn[1]))))),
            st.integers(1, 19_000).map(lambda n: ("long line", long_line(sdp, n))),
            st.integers(2, 60).map(lambda n: ("media sections", media_sections(sdp, n))),
            st.integers(1, 300).map(lambda n: ("candidates", fit(
                lambda m: candidates(sdp, min(n, m))))),
            st.just(("huge fingerprint", huge_fingerprint(sdp))),
            st.tuples(st.sampled_from(TEMPLATES), st.integers(1, 400)).map(
                lambda drawn: ("distinct lines", fit(
                    lambda n: distinct(sdp, "m=", drawn[0], min(n, drawn[1]))))),
        ).filter(lambda pair: len(pair[1].encode()) <= MAX_BYTES)
    return st.sampled_from(offers).flatmap(inflate)
