"""Stopping background tasks for sure.

On Python 3.11 a cancellation that arrives while ``asyncio.timeout`` is expiring can come out as
a ``TimeoutError`` (an asyncio race fixed in 3.12; redis-py wraps its reads in such timeouts), so
one ``cancel()`` can be lost and a loop that relies on it runs on: teardown then hung for the
whole test timeout in about half the runs. Loops here therefore also check a ``closing`` flag,
and :func:`cancel_and_wait` cancels again until the task is really done.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, poll_s: float = 0.2) -> None:
    """Cancel ``task`` (repeatedly, if a cancellation is swallowed) and wait until it is done."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=poll_s)
    if not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
