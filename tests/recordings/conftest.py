"""Fixtures of the recordings tests: the rooms backend harness (memory and real redis-server)."""

from tests.rooms.harness import harness

__all__ = ["harness"]
