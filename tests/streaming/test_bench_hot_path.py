"""bench/hot_path.py stays runnable in every mode and SRTP profile (its figures are issue 19's
evidence): a few viewers, a few packets, each mode gives a finite cost per delivered packet."""

from __future__ import annotations

import math

import pytest

from bench import hot_path
from streaming import send_backend


@pytest.mark.parametrize("mode", hot_path.MODES)
async def test_every_mode_measures(mode: str) -> None:
    if "compiled" in mode and send_backend.compiled() is None:
        pytest.skip("streaming._fastsend is not built")
    cost = await hot_path.measure(3, 30, False, mode, "gcm256")
    assert 0 < cost < math.inf


async def test_every_srtp_profile_measures() -> None:
    for srtp in hot_path.PROFILES:
        assert 0 < await hot_path.measure(2, 20, False, "shared+sendto", srtp) < math.inf
