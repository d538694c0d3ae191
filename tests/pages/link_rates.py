"""Which simulcast layer a shaped link should carry, from what the publisher really sends (pure;
the premise checks of tests/pages/test_shaped_links_browser.py, table-tested in
tests/pages/test_netns_links.py with the layers measured in docs/media.md "Shaped-link tests")."""

from __future__ import annotations

import pytest

from tests.pages.link_stats import Layer

AUDIO_KBIT = 50  # Opus ~32 kbit/s + RTP/UDP/IP/SRTP headers at 50 packets/s
OVERHEAD = 1.1  # outbound-rtp bytesSent counts payload only: headers and RTCP on top
HEADROOM = 0.85  # a layer "fits" a link when its need is under 85 % of the rate
STRONG, MIDDLE, WEAK, DROPPED = 4_000, 700, 150, 500  # kbit/s, the rates
RATES = (STRONG, MIDDLE, WEAK)


def need(layer: Layer) -> float:
    """What a viewer's link must carry for this layer and the audio."""
    return layer.kbit_s * OVERHEAD + AUDIO_KBIT


def expected(sent: list[Layer], rate_kbit: int) -> Layer | None:
    """The layer a ``rate_kbit`` link should get (None: audio only); fails when the rate does
    not separate two layers (the chosen one must fit with headroom, the next must not fit)."""
    fits = 0  # layers go lowest first: the ones that fit are a prefix
    while fits < len(sent) and need(sent[fits]) <= rate_kbit * HEADROOM:
        fits += 1
    best = sent[fits - 1] if fits else None
    above = sent[fits] if fits < len(sent) else None
    if above is not None and need(above) < rate_kbit:
        pytest.fail(f"premise: at {rate_kbit} kbit/s neither {best} nor {above} is clear-cut "
                    f"(needs {[round(need(s)) for s in sent]} kbit/s)")
    return best
