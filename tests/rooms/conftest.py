"""Fixtures of the rooms tests (the backend harness lives in harness.py)."""

from tests.rooms.harness import harness

__all__ = ["harness"]
