"""FileLedger: what a recording has written so far, shared by its writer thread and the loop.

The writer thread adds and updates entries; the event loop reads a snapshot for
``MediaPlane.recording_files`` (live sizes while it runs). One lock, held for dict copies only.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from streaming.recording_spec import RecordedFile


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    kind: str
    media_type: str
    participant: str
    duration_s: float = 0.0


class FileLedger:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._entries: dict[str, FileEntry] = {}
        self._lock = threading.Lock()

    def put(self, entry: FileEntry) -> None:
        with self._lock:
            self._entries[entry.name] = entry

    def set_duration(self, name: str, duration_s: float) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                self._entries[name] = replace(entry, duration_s=duration_s)

    def files(self) -> tuple[RecordedFile, ...]:
        """Every file so far, with its size on disk now (0 once it is gone)."""
        with self._lock:
            entries = list(self._entries.values())
        return tuple(
            RecordedFile(e.name, e.kind, e.media_type, self._size(e.name), e.participant,
                         round(e.duration_s, 3))
            for e in entries
        )

    def _size(self, name: str) -> int:
        try:
            return os.stat(self.directory / name).st_size
        except OSError:
            return 0
