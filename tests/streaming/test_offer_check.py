"""The structural screen of client SDP (streaming/offer_check.py), on the real captured offers."""

from __future__ import annotations

import re

import pytest

from config import MediaLimits
from streaming.errors import BadOffer
from streaming.offer_check import screen
from tests.streaming.hostile_sdp import (
    CHROMIUM,
    CHROMIUM_WHEP,
    GSTREAMER,
    HOSTILE,
    OFFERS,
    Hostile,
    lines,
    long_line,
    media_sections,
)

STRICT = MediaLimits()
OPEN = MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True)


@pytest.mark.parametrize("offer", OFFERS, ids=["chromium", "chromium-whep", "gstreamer"])
def test_real_offers_pass_as_they_are(offer: str) -> None:
    """All but a browser's TCP candidates (active, port 9): the node never connects out; a
    client reaching its passive ICE-TCP candidate is learned from its check (issue 19)."""
    tcp = [line for line in offer.split("\r\n")
           if line.startswith("a=candidate:") and line.split()[2].lower() == "tcp"]
    screened = screen(offer, OPEN)
    assert screened.dropped == tuple((line, "tcp: the node connects to no one") for line in tcp)
    kept = offer
    for line in tcp:
        kept = kept.replace(line + "\r\n", "", 1)
    assert screened.sdp == kept


def test_a_loopback_candidate_is_stripped_where_not_allowed() -> None:
    screened = screen(GSTREAMER, STRICT)
    assert screened.dropped == (("a=candidate:1 1 UDP 2015364095 127.0.0.1 46489 typ host",
                                 "loopback"),)
    assert "a=candidate" not in screened.sdp
    assert screened.sdp == GSTREAMER.replace(screened.dropped[0][0] + "\r\n", "")


def test_refused_candidates_are_stripped_and_the_rest_kept() -> None:
    bad = {"ff02::1": "multicast", "255.255.255.255": "broadcast", "0.0.0.0": "unspecified",
           "10.0.0.8": "private"}
    extra = [f"a=candidate:{i} 1 udp 1 {host} 5000 typ host" for i, host in enumerate(bad)]
    extra += ["a=candidate:9 1 udp 1 198.51.100.1 0 typ host"]
    offer = GSTREAMER.replace("a=rtcp-mux-only\r\n", "a=rtcp-mux-only\r\n" + "\r\n".join(extra)
                              + "\r\n", 1)
    screened = screen(offer, MediaLimits(allow_loopback_candidates=True))
    reasons = [reason for _, reason in screened.dropped]
    assert reasons == [*bad.values(), "port out of range"]
    assert "127.0.0.1 46489" in screened.sdp
    assert not any(line in screened.sdp for line in extra)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_each_hostile_kind_is_refused_with_a_sentence(hostile: Hostile) -> None:
    for offer in OFFERS:
        with pytest.raises(BadOffer, match=re.escape(hostile.reason)):
            screen(hostile.damage(offer), OPEN)


def test_the_caps_follow_the_configuration() -> None:
    with pytest.raises(BadOffer, match="more than 2 media sections"):
        screen(media_sections(CHROMIUM, 3), MediaLimits(max_media_sections=2))
    screen(media_sections(CHROMIUM, 3), MediaLimits(max_media_sections=3))
    with pytest.raises(BadOffer, match="longer than 256"):
        screen(long_line(CHROMIUM, 300), MediaLimits(max_sdp_line_chars=256))
    screen(long_line(CHROMIUM, 300), MediaLimits())
    with pytest.raises(BadOffer, match="more than 100 lines"):
        screen(CHROMIUM, MediaLimits(max_section_lines=100))  # its video section has 127
    screen(CHROMIUM, MediaLimits(max_section_lines=127))
    with pytest.raises(BadOffer, match="more than 7 ICE candidates"):
        screen(CHROMIUM, MediaLimits(max_candidates_per_peer=7))  # it has 8


def test_session_level_dtls_and_ice_attributes_count_for_every_section() -> None:
    fingerprint = next(x for x in lines(GSTREAMER) if x.startswith("a=fingerprint:"))
    moved = [x for x in lines(GSTREAMER) if not x.startswith("a=fingerprint:")]
    moved.insert(1, fingerprint)
    screen("\r\n".join(moved) + "\r\n", OPEN)


def test_an_answer_must_choose_a_dtls_role() -> None:
    answer = CHROMIUM_WHEP.replace("a=recvonly", "a=sendonly")
    with pytest.raises(BadOffer, match="active or passive"):
        screen(answer, OPEN, answer=True)
    screen(answer.replace("a=setup:actpass", "a=setup:active"), OPEN, answer=True)


@pytest.mark.parametrize(("damage", "words"), [
    (lambda s: s.replace("a=mid:1", "a=mid:0"), "same a=mid"),
    (lambda s: s.replace("a=mid:1", "a=mid:" + "m" * 40).replace("BUNDLE 0 1", "BUNDLE 0 m"),
     "token"),
    (lambda s: s.replace("v=0", "x0", 1), "v= line"),
    (lambda s: s.replace("s=-", "s-", 1), "malformed SDP line"),
    (lambda s: s.replace("m=audio 33645", "m=audio 99999", 1), "malformed m-line"),
    (lambda s: s.replace(" 111 63 9", " 111 111 9", 1), "twice"),
    (lambda s: s.replace(" 111 63 9", " 111 74 9", 1), "72–76"),
    (lambda s: s.replace("a=ice-ufrag:b07G", "a=ice-ufrag:b0"), "ice-ufrag"),
    (lambda s: s.replace("a=setup:actpass", "a=setup:holdconn"), "a=setup"),
    (lambda s: s.split("m=audio")[0], "no media section"),
])
def test_other_structural_refusals(damage: object, words: str) -> None:
    assert callable(damage)
    with pytest.raises(BadOffer, match=re.escape(words)):
        screen(damage(CHROMIUM), OPEN)
