"""``RecordingDesk``: the rules of recording a room (issue 15 §3), over the Store.

Who may start and stop (the gate's ``RECORD``), whether a meeting's participants all agreed
(:mod:`rooms.consent`), one recording per room at a time, what a finished recording's record
says, what a node that vanished left behind (``interrupted``), and what retention removes. The
media side (starting the recorder on the node that serves the room's media) is
signaling/recording_link.py's; this desk only decides and keeps the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from config import RecordingSettings
from rooms.clock import Clock, SystemClock
from rooms.consent import Consent, counted
from rooms.errors import InvalidInput, NoSuchRoom, RoomFull
from rooms.gate import Action
from rooms.recording import (
    Recording,
    RecordingFile,
    RecordingState,
    new_recording_id,
)
from rooms.room import Room, RoomKind
from rooms.service import RoomService
from rooms.token import AccessToken

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Answered:
    """What one consent answer changed: the request's state, and what to do about it."""

    consent: Consent | None  # None: a decline dropped the request
    present: tuple[str, ...]
    start: Recording | None = None  # everyone agreed: this new recording starts
    stop: Recording | None = None  # someone declined: this running one stops


class RecordingDesk:
    def __init__(self, service: RoomService, rules: RecordingSettings,
                 clock: Clock | None = None) -> None:
        self.service = service
        self.store = service.store
        self.rules = rules
        self.clock = clock or SystemClock()

    async def running(self, room_id: str) -> Recording | None:
        """The room's recording in progress, if any."""
        return next((r for r in await self.store.list_recordings(room=room_id)
                     if r.state is RecordingState.RECORDING), None)

    async def request(self, token: AccessToken, room_id: str) -> Recording | Consent:
        """``record.start``: a new record to start, or (a meeting without everyone's consent)
        the consent request the room is asked."""
        room = (await self.service.authorize(token, room_id, Action.RECORD)).room
        if await self.running(room_id) is not None:
            raise RoomFull("the room is being recorded already", limit=1,
                           code="already_recording")
        if room.kind is RoomKind.MEETING:
            present = counted(await self.store.list_participants(room_id))
            consent = await self.store.get_consent(room_id) or await self.store.ask_consent(
                room_id, by=token.identity, name=token.name or token.identity,
                asked_at=self.clock.now())  # the asker agrees by asking: alone, it starts
            if not consent.complete(present):
                return consent
        return self.new_record(room, token.identity)

    def new_record(self, room: Room, started_by: str) -> Recording:
        """A record in state ``recording``; ``node`` is set where it starts."""
        return Recording(id=new_recording_id(), room=room.id, room_kind=room.kind, node="",
                         state=RecordingState.RECORDING, started_at=self.clock.now(),
                         owner=room.exhibitor, started_by=started_by)

    async def stoppable(self, token: AccessToken, room_id: str) -> Recording:
        """``record.stop``: the running recording the caller may stop."""
        await self.service.authorize(token, room_id, Action.RECORD)
        running = await self.running(room_id)
        if running is None:
            raise NoSuchRoom(room_id, code="not_recording", what="recording of room")
        return running

    async def answer(self, token: AccessToken, room_id: str, agree: bool) -> Answered:
        """``record.consent``: a participant present answers the pending request."""
        room = (await self.service.authorize(token, room_id, Action.CONSENT)).room
        if room.kind is not RoomKind.MEETING:
            raise InvalidInput("not_a_meeting", "only meetings ask for consent")
        consent = await self.store.answer_consent(room_id, token.identity, agree)
        if consent is None:
            raise InvalidInput("no_consent_asked", "nobody asked to record this meeting")
        present = tuple(counted(await self.store.list_participants(room_id)))
        running = await self.running(room_id)
        if not agree:
            await self.store.clear_consent(room_id)
            return Answered(consent, present, stop=running)
        if running is None and consent.complete(present):
            return Answered(consent, present, start=self.new_record(room, consent.by))
        return Answered(consent, present)

    async def pending_for(self, room_id: str, identity: str) -> Consent | None:
        """A newcomer to a meeting that is recorded or asked to be: the request they must
        answer (``None`` when there is none, or they answered it already)."""
        consent = await self.store.get_consent(room_id)
        if consent is None or identity in consent.answers:
            return None
        return consent

    # -- the record's life --------------------------------------------------------------------
    async def ended(self, rec_id: str, *, reason: str, files: Iterable[RecordingFile],
                    duration_s: float) -> Recording | None:
        """The recorder stopped: ``done`` (on request) or ``failed`` (``reason``). ``None``
        if the record is gone or already ended (the same end heard twice)."""
        found = await self.store.get_recording(rec_id)
        if found is None or found.state is not RecordingState.RECORDING:
            return None
        state = {"": RecordingState.DONE, "interrupted": RecordingState.INTERRUPTED}.get(
            reason, RecordingState.FAILED)
        done = replace(found, state=state, reason=reason, files=tuple(files),
                       duration_s=round(duration_s, 3), ended_at=self.clock.now())
        await self.store.put_recording(done)
        if found.room_kind is RoomKind.MEETING:
            await self.store.clear_consent(found.room)
        return done

    async def interrupt(self, alive: Mapping[str, bool]) -> list[Recording]:
        """Records still ``recording`` on a node that is not alive (``alive[node]`` false or
        missing) become ``interrupted``: their files play up to the last ~2 s (issue 15 §1)."""
        changed = []
        for found in await self.store.list_recordings():
            if found.state is RecordingState.RECORDING and not alive.get(found.node, False):
                changed.append(replace(found, state=RecordingState.INTERRUPTED,
                                       ended_at=self.clock.now(), reason="interrupted"))
                await self.store.put_recording(changed[-1])
        return changed

    async def expired(self) -> list[Recording]:
        """Finished records older than their kind's ``retention_days`` (0: kept forever)."""
        now, found = self.clock.now(), []
        for recording in await self.store.list_recordings():
            days = self.rules.retention_days.get(recording.room_kind.value, 0)
            if (days > 0 and recording.state is not RecordingState.RECORDING
                    and recording.started_at < now - days * DAY_S):
                found.append(recording)
        return found
