"""Simulcast offers and answers (RFC 8853, RFC 8851) as the publisher leg reads and writes them,
on the captured Chromium offer with the lines Chromium adds for ``sendEncodings`` rids."""

from __future__ import annotations

from pathlib import Path

import pytest

from streaming import simulcast
from streaming.negotiation import Description, MediaSection

SDP = Path(__file__).resolve().parents[3] / "shared" / "data" / "sdp"
RID_LINES = ["a=rid:q send", "a=rid:h send", "a=rid:f send"]


def _chromium_video(extra: list[str]) -> Description:
    text = (SDP / "chromium-156-publish-offer.sdp").read_text()
    offer = Description.parse(text)
    video = next(s for s in offer.media if s.kind == "video")
    video.lines.extend(extra)
    return offer


def _video(offer: Description) -> MediaSection:
    return next(s for s in offer.media if s.kind == "video")


def test_chromium_layers_are_read_in_list_order() -> None:
    offer = _chromium_video([*RID_LINES, "a=simulcast:send q;h;f"])
    found = simulcast.read(_video(offer))
    assert found == simulcast.SimulcastOffer(("q", "h", "f"), 10)


@pytest.mark.parametrize(
    ("extra", "rids"),
    [
        ([*RID_LINES, "a=simulcast:send q;~h;f"], ("q", "h", "f")),  # paused: may resume
        ([*RID_LINES, "a=simulcast:send q,x;h;f"], ("q", "h", "f")),  # first alternative
        ([*RID_LINES, "a=rid:x send", "a=simulcast:send q;h;f;x"], ("q", "h", "f")),  # max 3
        ([*RID_LINES, "a=simulcast:send q;h;zz"], ("q", "h")),  # zz has no a=rid line
        (["a=rid:q send", "a=rid:h recv", "a=simulcast:send q;h"], None),  # h not sent
        ([*RID_LINES], None),  # no simulcast attribute
        ([*RID_LINES, "a=simulcast:recv q;h;f"], None),  # the wrong direction
        ([*RID_LINES, "a=simulcast:send q;h;f<script>"], ("q", "h")),  # not a rid token
    ],
)
def test_odd_simulcast_offers(extra: list[str], rids: tuple[str, ...] | None) -> None:
    found = simulcast.read(_video(_chromium_video(extra)))
    assert (found.rids if found else None) == rids


def test_no_rid_extension_means_no_simulcast() -> None:
    offer = _chromium_video([*RID_LINES, "a=simulcast:send q;h;f"])
    video = _video(offer)
    video.lines = [line for line in video.lines if "rtp-stream-id" not in line]
    assert simulcast.read(video) is None


def test_strip_and_accept() -> None:
    offer = _chromium_video([*RID_LINES, "a=simulcast:send q;h;f"])
    video = _video(offer)
    found = simulcast.read(video)
    assert found is not None
    simulcast.strip(video)
    assert not any(line.startswith(("a=rid:", "a=simulcast:")) for line in video.lines)
    answer = Description.parse("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n")
    simulcast.accept(answer.media[0], found)
    assert answer.media[0].lines[1:6] == [
        f"a=extmap:10 {simulcast.RID_URI}",
        "a=rid:q recv", "a=rid:h recv", "a=rid:f recv",
        "a=simulcast:recv q;h;f",
    ]
    assert answer.media[0].extensions()[simulcast.RID_URI] == 10
