"""Stopping background tasks for sure.

On Python 3.11 a cancellation that arrives while ``asyncio.timeout`` is expiring can come out as
a ``TimeoutError`` (an asyncio race fixed in 3.12; redis-py wraps its reads in such timeouts), so
one ``cancel()`` can be lost and a loop that relies on it runs on: teardown then hung for the
whole test timeout in about half the runs. Loops here therefore also check a ``closing`` flag,
and :func:`cancel_and_wait` cancels again until the task is really done.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, poll_s: float = 0.2) -> None:
    """Cancel ``task`` (repeatedly, if a cancellation is swallowed) and wait until it is done."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=poll_s)
    if task.cancelled():
        # A cancelled task keeps the CancelledError that ended it until someone asks for its
        # result; that error's traceback holds the task's frames, which hold the owner that
        # holds the task: a cycle only a full collection freed (issue 18 §5). Asking takes it.
        with contextlib.suppress(asyncio.CancelledError):
            task.result()
        return
    if task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
