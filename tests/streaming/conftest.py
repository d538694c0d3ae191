"""A MediaPlane per test, closed after it (every peer, every task)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from config import MediaLimits
from streaming import MediaPlane


@pytest.fixture
async def plane() -> AsyncIterator[MediaPlane]:
    media = MediaPlane(MediaLimits())
    yield media
    await media.aclose()
