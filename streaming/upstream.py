"""Upstream leg: an edge node's WHEP *client* peer, pulling a room's tracks from its origin.

The edge offers recvonly audio (Opus) and video (VP8, H264) like any WHEP player; the HTTP
exchange (POST, ``307``) is the caller's (web/cascade.py). Once the origin's answer is applied,
each answered m-line becomes a local :class:`~streaming.source.Source` of the same room, fed
right after SRTP unprotect by :class:`~streaming.intake.IntakeLeg` exactly as a publisher's
tracks are: no decoder starts, local viewers' PLIs go to the origin through this leg's RTCP, and
their NACKs are answered from the local Source's packet cache.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCRtpTransceiver, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.rtcrtpsender import RTCRtpSender

from streaming import aiortc_hooks
from streaming.errors import BadOffer
from streaming.intake import Inbound, IntakeLeg
from streaming.negotiation import H264_ALIAS, Codec, Description, forwardable

# what the plane forwards, in the edge's order of preference
WANTED = {"audio": ("opus",), "video": ("vp8", "h264")}
# H264 profiles aiortc does not offer (Main, High: OBS, GStreamer), offered to the origin too
EXTRA_H264 = ("4d001f", "640c1f")


class UpstreamLeg(IntakeLeg):
    """One edge's pull of one room from its origin; ``participant`` is ``edge:<node>``-like."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._byes: set[int] = set()
        self.origin_ended = False  # every track ended by the origin's BYE (not a lost link)
        self.language: str | None = None  # a pull of this interpretation channel (issue 17)

    async def offer(self) -> str:
        """The recvonly offer (one audio, one video m-line; a channel's pull: one audio
        m-line, which the origin's WHEP ``?language=`` gives the channel) to POST."""
        for kind in ("audio",) if self.language is not None else ("audio", "video"):
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            transceiver.setCodecPreferences(_preferences(kind))
        aiortc_hooks.drop_estimators(self.pc)
        await self.set_local(await self.pc.createOffer())
        return with_h264_profiles(str(self.pc.localDescription.sdp))

    async def accept(self, answer_sdp: str) -> None:
        """Apply the origin's answer; each m-line it answered with a codec becomes a Source."""
        answer = Description.parse(answer_sdp)
        transceivers = self.pc.getTransceivers()
        dtls = self.dtls
        aiortc_hooks.intercept_rtp(dtls, self._on_rtp)
        aiortc_hooks.intercept_rtcp(dtls, self._on_rtcp)
        tracks: list[tuple[RTCRtpTransceiver, Inbound]] = []
        for section in answer.media:
            transceiver = next((t for t in transceivers if t.mid == section.mid), None)
            codecs = [c for c in section.codecs() if forwardable(c)]
            if transceiver is None or not codecs or _inactive(section.lines):
                continue
            inbound = self._add_track(codecs[0], section.extensions())
            self._rtcp_ssrc = aiortc_hooks.sender_ssrc(transceiver.sender)
            tracks.append((transceiver, inbound))
        if not tracks:
            raise BadOffer("the origin answered no track this node can forward")
        for transceiver, inbound in tracks:  # before aiortc can start a decoder on connect
            aiortc_hooks.replace_receive(transceiver.receiver, self._receiver(inbound))
        try:
            await self.pc.setRemoteDescription(
                RTCSessionDescription(sdp=for_aiortc(answer_sdp, self._alias_pt()),
                                      type="answer")
            )
        except Exception as exc:  # aiortc raises ValueError / InvalidStateError and others
            raise BadOffer(f"the origin's answer cannot be used: {exc}") from None


    def _add_track(
        self, codec: Codec, extensions: dict[str, int], rids: tuple[str, ...] = ("",),
        rid_id: int = 0,
    ) -> Inbound:
        """As a publisher's track, and the local viewers' NACKs the edge's cache cannot answer
        go to the origin (merged by the Source, streaming/feedback.py ``NackWindow``). The
        origin sends one layer of a simulcast track (the best its link to us carries)."""
        inbound = super()._add_track(codec, extensions)
        source = inbound.source
        if inbound.video and source is not None:
            source.nack_upstream = lambda seqs: self._send_lost(inbound, seqs)
        return inbound

    def _alias_pt(self) -> int:
        """aiortc's own payload type for H264 42e01f in this leg's offer (-1: none)."""
        local = Description.parse(str(self.pc.localDescription.sdp))
        return next((c.payload_type for section in local.media for c in section.codecs()
                     if c.name == "h264" and c.h264_profile == H264_ALIAS), -1)

    def _on_bye(self, inbounds: list[Inbound]) -> None:
        """The origin ended tracks (its publisher left): once every track has ended, this leg
        ends like a failed peer, so its Sources end here too and local viewers get a BYE."""
        self._byes.update(id(inbound) for inbound in inbounds)
        if self.inbounds and all(id(i) in self._byes for i in self.inbounds):
            self.origin_ended = True
            if self.on_failed is not None and not self.closed.is_set():
                self.on_failed(self)


def with_h264_profiles(offer: str) -> str:
    """aiortc's offer plus H264 payload types for :data:`EXTRA_H264` (same feedback as its
    42e01f), so the origin answers an H264 Source with that Source's own profile label: the
    edge's Source and its viewers keep it (a High-profile stream stays labelled High)."""
    description = Description.parse(offer)
    used = {pt for section in description.media for pt in section.payload_types()}
    free = [pt for pt in range(96, 128) if pt not in used]
    for section in description.media:
        base = next((c for c in section.codecs() if c.name == "h264"
                     and c.h264_profile == H264_ALIAS), None)
        if section.kind != "video" or base is None:
            continue
        feedback = [line.split(" ", 1)[1] for line in section.lines
                    if line.startswith(f"a=rtcp-fb:{base.payload_type} ")]
        for profile in EXTRA_H264:
            pt = free.pop(0)
            section.lines[0] += f" {pt}"
            section.lines += [f"a=rtpmap:{pt} H264/90000",
                              f"a=fmtp:{pt} level-asymmetry-allowed=1;packetization-mode=1;"
                              f"profile-level-id={profile}",
                              *(f"a=rtcp-fb:{pt} {fb}" for fb in feedback)]
    return str(description)


def for_aiortc(answer: str, alias_pt: int) -> str:
    """The origin's answer as aiortc can apply it to its own offer: an H264 payload type that
    :func:`with_h264_profiles` added is mapped back to aiortc's 42e01f one. Only the SDP aiortc
    sees changes; packets keep their payload type (the intake reads them before aiortc)."""
    description = Description.parse(answer)
    for section in description.media:
        for codec in section.codecs():
            if codec.name == "h264" and codec.h264_profile in EXTRA_H264:
                section.keep_only(codec.payload_type)
                section.lines = [_renumber(line, codec.payload_type, alias_pt)
                                 for line in section.lines]
                section.set_h264_profile(alias_pt, H264_ALIAS)
                break
    return str(description)


def _renumber(line: str, old: int, new: int) -> str:
    if line.startswith("m="):
        fields = line.split()
        return " ".join([*fields[:3], *(str(new) if f == str(old) else f for f in fields[3:])])
    for prefix in ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"):
        if line.startswith(f"{prefix}{old} "):
            return f"{prefix}{new} {line[len(prefix) + len(str(old)) + 1:]}"
    return line


def _preferences(kind: str) -> list[Any]:
    capabilities: list[RTCRtpCodecCapability] = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [
        c for name in WANTED[kind] for c in capabilities if c.mimeType.lower() == f"{kind}/{name}"
    ]
    rtx = [c for c in capabilities if c.mimeType.lower() == f"{kind}/rtx"]
    return chosen + rtx if kind == "video" else chosen


def _inactive(lines: list[str]) -> bool:
    return "a=inactive" in lines or lines[0].split()[1] == "0"
