"""A MediaPlane per test, closed after it (every peer, every task)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane


@pytest.fixture
async def plane() -> AsyncIterator[MediaPlane]:
    # the peers run on this machine: their host candidates are its own (private) interfaces
    media = MediaPlane(MediaLimits(allow_loopback_candidates=True, allow_private_candidates=True))
    yield media
    await media.aclose()
