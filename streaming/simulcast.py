"""Simulcast in the SDP (RFC 8853) with RTP stream ids (RFC 8851, RFC 8852): pure, on text.

A publisher that sends several encodings of one video (Chromium's ``sendEncodings`` with rids,
OBS 30.2+ and GStreamer over WHIP) offers, in that video's m-line::

    a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
    a=rid:q send
    a=rid:h send
    a=rid:f send
    a=simulcast:send q;h;f

and sends no ``a=ssrc`` lines: each encoding's SSRC is learnt from its first packets, which carry
the rid in the rtp-stream-id header extension (RFC 8852 §3). aiortc knows none of this, so the
offer it sees has the rid and simulcast lines removed, and its answer gets ``a=rid:<id> recv``,
``a=simulcast:recv ...`` and the rtp-stream-id extension back. An answer without them is a
valid refusal (RFC 8853 §5.3): the publisher then sends one encoding, as a non-simulcast one.

RTX is not negotiated with publishers (streaming/negotiation.py keeps one payload type per
m-line), so no repaired stream (``repaired-rtp-stream-id``) is ever sent: lost packets come
again on their own SSRC, as NACK answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from streaming.negotiation import MediaSection

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
MAX_LAYERS = 3  # RFC 8853 §5.3 lets the answerer keep fewer than offered
_RID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True, slots=True)
class SimulcastOffer:
    """The encodings one video m-line offers to send, in the order of its simulcast list."""

    rids: tuple[str, ...]
    rid_ext: int  # the rtp-stream-id extension id


def read(section: MediaSection) -> SimulcastOffer | None:
    """The section's simulcast send offer, or None (none offered, or unusable: no rid
    extension to demultiplex by, fewer than two send rids). At most :data:`MAX_LAYERS`."""
    listed = _send_list(section)
    rid_ext = section.extensions().get(RID_URI, 0)
    if not listed or not rid_ext:
        return None
    declared = _send_rids(section)
    rids = tuple(r for r in listed if r in declared)[:MAX_LAYERS]
    if len(rids) < 2:
        return None
    return SimulcastOffer(rids, rid_ext)


def _send_list(section: MediaSection) -> list[str]:
    """The first alternative of each stream in ``a=simulcast:send`` (RFC 8853 §5.1); a paused
    one (``~``) too: the publisher may resume it."""
    for line in section.lines:
        if line.startswith("a=simulcast:"):
            words = line[len("a=simulcast:") :].split()
            for direction, streams in zip(words[::2], words[1::2], strict=False):
                if direction == "send":
                    first = (s.split(",")[0].lstrip("~") for s in streams.split(";"))
                    return [r for r in first if r and set(r) <= _RID_CHARS and len(r) <= 16]
    return []


def _send_rids(section: MediaSection) -> set[str]:
    rids = set()
    for line in section.lines:
        if line.startswith("a=rid:"):
            words = line[len("a=rid:") :].split()
            if len(words) >= 2 and words[1] == "send":
                rids.add(words[0])
    return rids


def strip(section: MediaSection) -> None:
    """Remove what aiortc does not understand (rid, simulcast); its answer gets them back."""
    section.lines[:] = [
        line for line in section.lines
        if not line.startswith(("a=rid:", "a=simulcast:"))
    ]


def answer_lines(offer: SimulcastOffer) -> list[str]:
    """What the answer's video section says to accept ``offer`` (RFC 8853 §5.3)."""
    lines = [f"a=extmap:{offer.rid_ext} {RID_URI}"]
    lines += [f"a=rid:{rid} recv" for rid in offer.rids]
    lines.append("a=simulcast:recv " + ";".join(offer.rids))
    return lines


def accept(section: MediaSection, offer: SimulcastOffer) -> None:
    """Add ``offer``'s acceptance to an answer section (before its first ``a=rtpmap``)."""
    at = next(
        (i for i, line in enumerate(section.lines) if line.startswith("a=rtpmap:")),
        len(section.lines),
    )
    section.lines[at:at] = answer_lines(offer)
