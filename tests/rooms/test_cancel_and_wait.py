"""``cancel_and_wait`` leaves no cycle behind (issue 18 §5): an owner whose loop task it
cancelled is freed by reference counting, without a garbage collection."""

from __future__ import annotations

import asyncio
import gc
import weakref

from rooms.lifecycle import cancel_and_wait


class Owner:
    def __init__(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        await cancel_and_wait(self.task)


async def test_a_cancelled_owner_is_freed_without_a_collection() -> None:
    gc.collect()
    gc.disable()
    try:
        owner = Owner()
        await asyncio.sleep(0)  # the task runs and waits
        await owner.close()
        assert owner.task.cancelled()
        ref = weakref.ref(owner)
        del owner
        await asyncio.sleep(0)
        assert ref() is None  # before: the CancelledError's traceback -> frame -> owner -> task
    finally:
        gc.enable()


async def test_a_failed_task_still_raises() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(fail())
    await asyncio.sleep(0)
    try:
        await cancel_and_wait(task)
    except ValueError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("the task's own error was swallowed")
