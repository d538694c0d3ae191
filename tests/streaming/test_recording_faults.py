"""A recording that cannot write stops by itself with a reason; the room streams on (issue 15
§1): a disk that fills (a real, tiny tmpfs), a writer that falls behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from streaming import MediaEvent, MediaPlane, RecordingEnded, RecordingSpec
from tests.streaming.clients import publish, until, watch

pytestmark = pytest.mark.timeout(60)


@contextlib.contextmanager
def tiny_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (the tests run as root), unmounted after."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def heard_ends(plane: MediaPlane) -> list[RecordingEnded]:
    events: list[RecordingEnded] = []

    def heard(event: MediaEvent) -> None:
        if isinstance(event, RecordingEnded):
            events.append(event)

    plane.listen(heard)
    return events


@pytest.mark.parametrize("min_free", [0, 64 << 10], ids=["enospc", "under-min-free"])
async def test_a_full_disk_stops_the_recording_not_the_room(
    plane: MediaPlane, tmp_path: Path, min_free: int
) -> None:
    events = heard_ends(plane)
    publisher = await publish(plane, "r", "alice", size=(640, 360), frames=30, gop=10)
    viewer = await watch(plane, "r")
    await until(lambda: viewer.count("video") > 0)
    with tiny_disk(tmp_path / "disk", "256k") as disk:
        (disk / "filler").write_bytes(b"\0" * (244 << 10))  # leaves ~12 KiB: a few seconds
        plane.start_recording(RecordingSpec("rec_1", "r", disk / "rec_1",
                                            min_free_bytes=min_free))
        await until(lambda: bool(events), within=30)
        assert events[0].reason == "disk_full"
        assert plane.recording_of("r") is None
    before = viewer.count("video")
    await until(lambda: viewer.count("video") > before + 30)  # the room streams on
    await viewer.close()
    await publisher.close()


async def test_a_writer_that_falls_behind_stops_with_slow_disk(
    plane: MediaPlane, tmp_path: Path
) -> None:
    events = heard_ends(plane)
    publisher = await publish(plane, "r", "alice")
    directory = tmp_path / "rec_1"
    directory.mkdir()
    fifo = directory / "alice.webm"
    os.mkfifo(fifo)  # nobody reads it: the writer thread blocks as on a disk that hangs
    plane.start_recording(RecordingSpec("rec_1", "r", directory, queue_frames=16))
    await until(lambda: plane.recording_of("r") is None, within=30)
    drained = asyncio.create_task(asyncio.to_thread(fifo.read_bytes))  # the disk wakes up
    await until(lambda: bool(events), within=30)
    assert events[0].reason == "slow_disk"
    assert (await drained).startswith(b"\x1a\x45\xdf\xa3")  # EBML: the header it was writing
    assert plane.live_sources("r")
    await publisher.close()
