"""A recording as the page and admin APIs show it (issue 15 §5): the record, where each file
is fetched, and (pages) the room's title and pavilion for the lobby's Replays."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rooms.recording import Recording, RecordingFile
from rooms.room import Room
from web import file_signature

FileUrl = Callable[[Recording, RecordingFile], str]
HIDDEN = ("node", "extra")  # where the files are is the server's business


def recording_json(recording: Recording, url: FileUrl, room: Room | None = None, *,
                   operator: bool = False) -> dict[str, Any]:
    """``operator`` (the admin API): also ``node``, where the files are."""
    hidden = ("extra",) if operator else HIDDEN
    data = {k: v for k, v in recording.to_dict().items() if k not in hidden}
    data["files"] = [{**f.to_dict(), "url": url(recording, f)} for f in recording.files]
    if room is not None:
        data["room_title"] = room.title.as_dict()
        data["pavilion"] = room.pavilion.value
    return data


def signed(secret: str) -> FileUrl:
    """File URLs signed for whoever was allowed to see the record (pages)."""
    now = time.time()
    return lambda rec, f: file_signature.signed_url(secret, rec.id, f.name, now=now)


def admin_url(recording: Recording, file: RecordingFile) -> str:
    """The admin API's own file route (the admin key opens it)."""
    return f"/api/admin/recordings/{recording.id}/files/{file.name}"
