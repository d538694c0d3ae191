"""The media plane fixture of tests/streaming (a plane per test, closed after it)."""

from tests.streaming.conftest import plane

__all__ = ["plane"]
