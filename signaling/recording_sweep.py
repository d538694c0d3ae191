"""``RecordingSweep``: what a node does about recordings besides running them (issue 15 §1, §6).

- At start-up: records of this node still ``recording`` are left from a run that died (nothing
  runs yet), so they become ``interrupted`` (their files play up to the last ~2 s).
- Every ``interval_s``: records ``recording`` on a node that left the cluster (its load report
  lapsed) become ``interrupted``; a record of this node its plane does not run (a start order
  lost on the Bus, an end lost in a full queue) is ended; records older than
  ``recordings.retention_days[kind]`` are deleted with their files; a directory with no record
  (deleted on another node) is removed.

Files are this node's only: a record is deleted where its files are, or by any node once its
node is gone. File work runs in a thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

from rooms.cluster import ClusterNode
from rooms.errors import RoomsError
from rooms.lifecycle import cancel_and_wait
from rooms.recording import Recording, RecordingState, is_recording_id
from signaling.recording_link import RecordingLink
from streaming import RecordingEnded

log = logging.getLogger(__name__)
SWEEP_S = 30.0
ORPHAN_AGE_S = 120.0  # a directory younger than this may belong to a record being written
LOST_AFTER_S = 10.0  # a record of this node its plane does not run, this long after its start


class RecordingSweep:
    def __init__(self, link: RecordingLink, cluster: ClusterNode, *,
                 interval_s: float = SWEEP_S) -> None:
        self.link, self.desk, self.store = link, link.desk, link.store
        self.cluster = cluster
        self.node_id = link.node_id
        self.root = link.settings.recordings_dir
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Mark what a previous run of this node left ``interrupted``, then sweep regularly."""
        try:
            for found in await self.desk.interrupt(await self._alive(with_me=False)):
                log.warning("recording %s of %s was interrupted (node %s stopped)",
                            found.id, found.room, found.node)
        except RoomsError as exc:
            log.warning("recordings left by a previous run not checked: %s", exc)
        self._task = asyncio.create_task(self._run(), name="recording-sweep")

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception:  # one bad round must not end the sweeping
                log.exception("recordings sweep failed")

    async def sweep(self) -> None:
        alive = await self._alive(with_me=True)
        for lost in await self.desk.interrupt(alive):  # their node left the cluster
            await self.link.tell_ended(lost)
        await self._end_lost()
        for old in await self.desk.expired():
            if old.node == self.node_id or not alive.get(old.node, False):
                await self._delete(old)
        await self._remove_orphans()

    async def _alive(self, *, with_me: bool) -> dict[str, bool]:
        alive = {n.node_id: True for n in await self.cluster.nodes()}
        alive[self.node_id] = with_me
        return alive

    async def _end_lost(self) -> None:
        plane, now = self.link.plane, time.time()
        for found in await self.store.list_recordings():
            if (found.node == self.node_id and found.state is RecordingState.RECORDING
                    and found.started_at < now - LOST_AFTER_S
                    and (plane is None or plane.recording_of(found.room) != found.id)):
                await self.link.finished(RecordingEnded(found.id, found.room, "interrupted",
                                                        (), 0.0))

    async def _delete(self, recording: Recording) -> None:
        log.info("recording %s of %s deleted: older than its retention", recording.id,
                 recording.room)
        await self.store.delete_recording(recording.id)
        if recording.node == self.node_id:
            await remove_files(self.root, recording.id)

    async def _remove_orphans(self) -> None:
        for rec_id in await asyncio.to_thread(_old_directories, self.root):
            if await self.store.get_recording(rec_id) is None:
                await remove_files(self.root, rec_id)


async def remove_files(root: Path, rec_id: str) -> None:
    """Delete a recording's directory (in a thread); only ever a ``rec_…`` directory."""
    if is_recording_id(rec_id):
        await asyncio.to_thread(shutil.rmtree, root / rec_id, True)


def _old_directories(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    cutoff = time.time() - ORPHAN_AGE_S
    return [p.name for p in root.iterdir()
            if p.is_dir() and is_recording_id(p.name) and p.stat().st_mtime < cutoff]
