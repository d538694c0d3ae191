"""``ReplayDesk``: who sees, opens and manages recordings, behind the one gate (issue 15 §3).

The read and edit side of the recordings index, for the page API, the admin API (as the
organiser token) and the file route. Every method asks :func:`rooms.gate.decide_replay` on the
recording's room and record before it returns or changes anything; the doors only translate.
Files on disk are not this desk's: deleting a record here leaves its directory to the node
that holds it (its retention sweep removes directories without a record).
"""

from __future__ import annotations

from dataclasses import replace

from rooms import gate
from rooms.errors import InvalidInput, NoSuchRoom, NotAllowed
from rooms.gate import Action
from rooms.pavilion import Pavilion
from rooms.recording import (
    TIMELINE_CAP,
    Recording,
    RecordingState,
    TimelineEntry,
    is_recording_id,
)
from rooms.room import Room
from rooms.service import RoomService
from rooms.text import short_text
from rooms.token import AccessToken

TITLE_MAX = 200
LIST_MAX = 500  # records one listing returns (newest first)


class ReplayDesk:
    def __init__(self, service: RoomService) -> None:
        self.service = service
        self.store = service.store

    async def visible(self, token: AccessToken | None, *, room: str | None = None,
                      pavilion: Pavilion | None = None,
                      mine: bool = False) -> list[tuple[Recording, Room]]:
        """Newest first: what the caller may watch or manage (``mine``: only what they may
        manage), each with its room."""
        found: list[tuple[Recording, Room]] = []
        rooms: dict[str, Room | None] = {}
        every = await self.store.list_recordings(room=room)
        for recording in every:
            if recording.hls and superseded(recording, every):
                continue
            if recording.room not in rooms:
                rooms[recording.room] = await self.store.get_room(recording.room)
            where = rooms[recording.room]
            if where is None or (pavilion is not None and where.pavilion != pavilion):
                continue
            manages = _may(token, Action.MANAGE, where, recording)
            if manages or (not mine and _may(token, Action.WATCH, where, recording)):
                found.append((recording, where))
            if len(found) >= LIST_MAX:
                break
        return found

    async def open(self, token: AccessToken | None, rec_id: str,
                   action: Action = Action.WATCH) -> tuple[Recording, Room]:
        """The record and its room if the caller may ``action`` it; ``no_such_recording``
        (404) if there is none, ``NotAllowed`` (403) if it is not theirs."""
        recording = await self.get(rec_id)
        room = await self.service.room(recording.room)
        gate.decide_replay(token, action, room, recording)
        return recording, room

    async def get(self, rec_id: str) -> Recording:
        """The record, unchecked (callers check): ``no_such_recording`` if none."""
        found = await self.store.get_recording(rec_id) if is_recording_id(rec_id) else None
        if found is None:
            raise NoSuchRoom(rec_id, code="no_such_recording", what="recording")
        return found

    async def timeline(self, token: AccessToken | None, rec_id: str,
                       limit: int = TIMELINE_CAP) -> list[TimelineEntry]:
        await self.open(token, rec_id)
        return await self.store.read_timeline(rec_id, limit=limit)

    async def edit(self, token: AccessToken, rec_id: str, *, title: str | None = None,
                   published: bool | None = None) -> Recording:
        """Rename and/or publish/unpublish (the room's exhibitor, moderators, organiser)."""
        recording, _ = await self.open(token, rec_id, Action.MANAGE)
        if title is not None:
            title = short_text(title.strip(), max_chars=TITLE_MAX, what="title")
        changed = replace(recording, title=recording.title if title is None else title,
                          published=recording.published if published is None else published)
        await self.store.put_recording(changed)
        return changed

    async def delete(self, token: AccessToken, rec_id: str) -> Recording:
        """Remove the record and its timeline; a running recording must be stopped first."""
        recording, _ = await self.open(token, rec_id, Action.MANAGE)
        if recording.state is RecordingState.RECORDING:
            raise InvalidInput("recording_running", "stop the recording before deleting it")
        await self.store.delete_recording(rec_id)
        return recording


def superseded(replay: Recording, others: list[Recording]) -> bool:
    """An HLS replay (issue 16 §5) stands in for the room's recording of the same time until
    that recording's files are final; then the listing shows the recording alone (its own
    files: chosen cameras, the timeline). docs/hls.md §5."""
    end = replay.ended_at or replay.started_at + replay.duration_s
    return any(
        not other.hls and other.room == replay.room
        and (other.state is RecordingState.DONE or other.finalised)
        and other.started_at <= end and (other.ended_at or other.started_at) >= replay.started_at
        for other in others)


def _may(token: AccessToken | None, action: Action, room: Room, recording: Recording) -> bool:
    try:
        gate.decide_replay(token, action, room, recording)
    except NotAllowed:
        return False
    return True
