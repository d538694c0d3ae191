"""Codec choice for forwarding, by rewriting SDP text before and after aiortc sees it (pure).

A forwarding server never decodes, so it can carry codecs aiortc cannot decode: H264 of any
profile (OBS offers High under 640c1f or under a baseline label, DESIGN.md §3). aiortc only
negotiates H264 42001f/42e01f, so a publisher's offer is narrowed to the one codec per m-line
the plane forwards, with any other H264 profile relabelled ``42e01f`` for aiortc, and the answer
gets the original label back. A viewer's offer is narrowed to the codec of the Source it will
receive; if it cannot take that codec, :class:`CodecMismatch` says so instead of a black screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORWARDABLE = {"audio": ("opus", "pcmu", "pcma"), "video": ("vp8", "h264")}
AIORTC_H264_PROFILES = ("42001f", "42e01f")
H264_ALIAS = "42e01f"


class NegotiationError(ValueError):
    """The offer cannot be used; the message is a short sentence for the client."""


class NoUsableCodec(NegotiationError):
    """A publisher offered no codec the plane can forward for some media section."""


class CodecMismatch(NegotiationError):
    """A viewer cannot receive the codec the publisher sends."""


@dataclass(frozen=True, slots=True)
class Codec:
    """One codec of one m-line: ``mime`` like ``video/VP8``; ``fmtp`` as offered."""

    payload_type: int
    mime: str
    clock_rate: int
    channels: int | None = None
    fmtp: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return self.mime.split("/", 1)[1].lower()

    @property
    def h264_profile(self) -> str:
        """Lower-case profile-level-id (RFC 6184 §8.1); 42e01f when absent (aiortc's default)."""
        return self.fmtp.get("profile-level-id", H264_ALIAS).lower()


@dataclass(slots=True)
class MediaSection:
    """One m-line and its attribute lines, kept as text so everything else passes through."""

    lines: list[str]

    @property
    def kind(self) -> str:
        return self.lines[0][2:].split(" ", 1)[0]

    @property
    def mid(self) -> str | None:
        for line in self.lines:
            if line.startswith("a=mid:"):
                return line[6:].strip()
        return None

    def codecs(self) -> list[Codec]:
        """The codecs in m-line order, with their fmtp parameters."""
        fmtp: dict[int, dict[str, str]] = {}
        for line in self.lines:
            if line.startswith("a=fmtp:"):
                pt_text, _, params = line[7:].partition(" ")
                fmtp[_int(pt_text)] = _params(params)
        result = []
        for line in self.lines:
            if line.startswith("a=rtpmap:"):
                pt_text, _, spec = line[9:].partition(" ")
                parts = spec.strip().split("/")
                if len(parts) < 2:
                    raise NegotiationError(f"malformed rtpmap line: {line[:80]}")
                pt = _int(pt_text)
                channels = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
                mime = f"{self.kind}/{parts[0]}"
                result.append(Codec(pt, mime, _int(parts[1]), channels, fmtp.get(pt, {})))
        order = self.payload_types()
        return sorted(
            result, key=lambda c: order.index(c.payload_type) if c.payload_type in order else 999
        )

    def extensions(self) -> dict[str, int]:
        """Header extensions by URI -> id (``a=extmap``, RFC 8285 §6)."""
        result = {}
        for line in self.lines:
            if line.startswith("a=extmap:"):
                ident, _, rest = line[9:].partition(" ")
                uri = rest.split(" ", 1)[0].strip()
                result[uri] = _int(ident.split("/", 1)[0])
        return result

    def payload_types(self) -> list[int]:
        fields = self.lines[0].split()
        return [_int(x) for x in fields[3:] if x.isdigit()]

    def keep_only(self, pt: int) -> None:
        """Drop every payload type but ``pt`` (RTX and FEC too: the plane does not use them)."""
        fields = self.lines[0].split()
        self.lines[0] = " ".join([*fields[:3], str(pt)])
        kept = []
        for line in self.lines[1:]:
            for prefix in ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"):
                if line.startswith(prefix):
                    other = line[len(prefix) :].split(" ", 1)[0]
                    if other != "*" and other != str(pt):
                        break
            else:
                if not line.startswith("a=ssrc-group:"):
                    kept.append(line)
        self.lines[1:] = kept

    def set_h264_profile(self, pt: int, profile: str) -> None:
        prefix = f"a=fmtp:{pt} "
        for index, line in enumerate(self.lines):
            if line.startswith(prefix):
                params = _params(line[len(prefix) :])
                params["profile-level-id"] = profile
                self.lines[index] = prefix + ";".join(f"{k}={v}" for k, v in params.items())


@dataclass(slots=True)
class Description:
    """A session description as session lines plus media sections."""

    session: list[str]
    media: list[MediaSection]

    @classmethod
    def parse(cls, sdp: str) -> Description:
        lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line.strip()]
        if not lines or not lines[0].startswith("v="):
            raise NegotiationError("SDP must start with a v= line")
        session: list[str] = []
        media: list[MediaSection] = []
        for line in lines:
            if len(line) < 2 or line[1] != "=":
                raise NegotiationError(f"malformed SDP line: {line[:80]!r}")
            if line.startswith("m="):
                if len(line.split()) < 4:
                    raise NegotiationError(f"malformed m-line: {line[:80]!r}")
                media.append(MediaSection([line]))
            elif media:
                media[-1].lines.append(line)
            else:
                session.append(line)
        return cls(session, media)

    def __str__(self) -> str:
        lines = self.session + [line for section in self.media for line in section.lines]
        return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True, slots=True)
class Plan:
    """What negotiation chose: the codec per m-line index and the H264 labels to restore."""

    codecs: dict[int, Codec]
    relabelled: dict[int, str]  # m-line index -> original profile-level-id


def forwardable(codec: Codec) -> bool:
    kind = codec.mime.split("/", 1)[0].lower()
    if codec.name not in FORWARDABLE.get(kind, ()):
        return False
    if codec.name == "h264":
        return codec.fmtp.get("packetization-mode", "0") == "1"
    return True


def plan_publish(offer: Description) -> Plan:
    """Pick, per audio/video m-line, the first offered codec the plane can forward."""
    chosen: dict[int, Codec] = {}
    relabelled: dict[int, str] = {}
    for index, section in enumerate(offer.media):
        if section.kind not in FORWARDABLE:
            continue
        codecs = section.codecs()
        usable = [c for c in codecs if forwardable(c)]
        if not usable:
            names = ", ".join(sorted({c.mime.split("/")[1] for c in codecs})) or "none"
            raise NoUsableCodec(f"no usable {section.kind} codec (offered: {names})")
        codec = usable[0]
        chosen[index] = codec
        if codec.name == "h264" and codec.h264_profile not in AIORTC_H264_PROFILES:
            relabelled[index] = codec.h264_profile
    if not chosen:
        raise NoUsableCodec("the offer has no audio or video section")
    return Plan(chosen, relabelled)


def plan_view(offer: Description, sources: dict[str, Codec]) -> Plan:
    """Pick, per viewer m-line, the viewer's payload type for the Source codec of its kind."""
    chosen: dict[int, Codec] = {}
    relabelled: dict[int, str] = {}
    for index, section in enumerate(offer.media):
        wanted = sources.get(section.kind)
        if wanted is None:
            continue
        match = _matching(section.codecs(), wanted)
        if match is None:
            names = ", ".join(sorted({c.mime.split("/")[1] for c in section.codecs()})) or "none"
            raise CodecMismatch(
                f"this player cannot receive {wanted.mime.split('/')[1]} {section.kind}"
                f" (it offered: {names})"
            )
        chosen[index] = match
        if match.name == "h264" and match.h264_profile not in AIORTC_H264_PROFILES:
            relabelled[index] = match.h264_profile
    if not chosen:
        raise CodecMismatch("the offer asks for no media the room publishes")
    return Plan(chosen, relabelled)


def _matching(codecs: list[Codec], wanted: Codec) -> Codec | None:
    same = [c for c in codecs if c.name == wanted.name and c.clock_rate == wanted.clock_rate]
    if wanted.name == "h264":
        same = [c for c in same if c.fmtp.get("packetization-mode", "0") == "1"]
        # same profile_idc first (RFC 6184 §8.1: first byte of profile-level-id), the very
        # same label before that (a cascade edge then keeps 42e01f as 42e01f, not 42001f)
        same.sort(key=lambda c: (c.h264_profile[:2] != wanted.h264_profile[:2],
                                 c.h264_profile != wanted.h264_profile))
    return same[0] if same else None


def narrow(offer: Description, plan: Plan) -> str:
    """The offer as aiortc should see it: one codec per planned m-line, H264 labels aliased."""
    for index, codec in plan.codecs.items():
        section = offer.media[index]
        section.keep_only(codec.payload_type)
        if index in plan.relabelled:
            section.set_h264_profile(codec.payload_type, H264_ALIAS)
    return str(offer)


def restore(answer_sdp: str, plan: Plan) -> str:
    """aiortc's answer with the original H264 profile labels put back."""
    if not plan.relabelled:
        return answer_sdp
    answer = Description.parse(answer_sdp)
    for index, profile in plan.relabelled.items():
        if index < len(answer.media):
            answer.media[index].set_h264_profile(plan.codecs[index].payload_type, profile)
    return str(answer)


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in text.strip().split(";"):
        key, sep, value = item.strip().partition("=")
        if key:
            params[key.lower()] = value if sep else ""
    return params


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise NegotiationError(f"expected a number in SDP, got {text[:20]!r}") from None
