"""``RecordingLink``: between the recordings desk (rooms/) and the recorder (streaming/).

A room's recording runs on the node that serves its media: the room's lease holder (a
recording holds the lease like a WHIP session does, so the media stays there while it runs).
``record.start`` on another node writes the record naming the holder first (the Store is the
truth), then asks the holder over the Bus (``node:<id>``, kind ``record.start``); ``stop``
likewise (``record.stop``). Pub/sub may lose a message: the holder's sweep
(signaling/recording_sweep.py) ends a record its plane does not run.

The plane reports a recording's end (on request, or by itself: disk full, slow disk) with a
``RecordingEnded`` media event; one owned task turns each into the finished record and a
``room.recording`` notice. Payloads: docs/recordings.md §4.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import Any

from config import Settings
from rooms.bus import Bus, BusMessage, node_topic
from rooms.consent import Consent, counted
from rooms.errors import RoomFull, RoomsError, WrongNode
from rooms.lifecycle import cancel_and_wait
from rooms.recording import FileKind, Recording, RecordingFile, RecordingState
from rooms.recording_desk import Answered, RecordingDesk
from rooms.room import RoomKind, RoomState
from rooms.service import RoomService
from rooms.token import AccessToken
from signaling.errors import SignalingError
from signaling.outbox import Outbox
from signaling.recording_timeline import TimelineWriter
from signaling.wire import room_channel, who_channel
from streaming import (
    MediaEvent,
    MediaPlane,
    RecordedFile,
    RecordingEnded,
    RecordingSpec,
    SourceAdded,
)
from streaming.errors import MediaError

log = logging.getLogger(__name__)
EVENT_QUEUE = 256
PROGRAM_KINDS = frozenset({RoomKind.FORUM, RoomKind.MEETING})


def brief(recording: Recording) -> dict[str, Any]:
    """``{id, state, started_at}``: what an ack and the join snapshot carry."""
    return {"id": recording.id, "state": recording.state.value,
            "started_at": recording.started_at}


def finished_payload(recording: Recording, base_url: str) -> dict[str, Any]:
    """A finished recording for the ``recording_finished`` webhook: its files with their size,
    duration and the admin API's download URL (key-gated; it does not expire, as a signed link
    would during a day of retries)."""
    admin = f"{base_url}/api/admin/recordings/{recording.id}/files/"
    return {**brief(recording), "ended_at": recording.ended_at, "reason": recording.reason,
            "duration_s": recording.duration_s, "state": recording.state.value,
            "files": [{**f.to_dict(), "url": admin + f.name} for f in recording.files]}


def files_of(ended: tuple[RecordedFile, ...]) -> tuple[RecordingFile, ...]:
    return tuple(RecordingFile(f.name, FileKind(f.kind), f.media_type, f.bytes, f.participant,
                               round(f.duration_s, 3)) for f in ended)


class RecordingLink:
    def __init__(self, service: RoomService, bus: Bus, outbox: Outbox, settings: Settings,
                 plane: MediaPlane | None) -> None:
        self.desk = RecordingDesk(service, settings.recordings)
        self.service, self.store = service, service.store
        self.bus, self.outbox, self.settings = bus, outbox, settings
        self.plane = plane
        self.node_id = settings.node_id
        self._events: asyncio.Queue[RecordingEnded | SourceAdded] = asyncio.Queue(EVENT_QUEUE)
        self._lock = asyncio.Lock()  # starts and ends on this node, one at a time (rare)
        self._task: asyncio.Task[None] | None = None
        self.timeline = TimelineWriter(self.store)

    def start(self) -> None:
        self.timeline.start()
        if self.plane is not None and self._task is None:
            self.plane.listen(self._heard)
            self._task = asyncio.create_task(self._run(), name="recording-ends")

    async def aclose(self) -> None:
        """Stop this node's recordings (their files closed, their records ``done``), then the
        tasks. A node that is killed instead leaves them ``interrupted`` (the sweep)."""
        if self.plane is not None:
            for rec_id in list(self.plane.recordings):
                with contextlib.suppress(Exception):
                    await self.finished(await self.plane.stop_recording(rec_id))
        if self._task is not None:
            await cancel_and_wait(self._task)
        await self.timeline.aclose()

    # -- Socket.IO and admin requests -----------------------------------------------------------
    async def begin(self, token: AccessToken, room_id: str) -> dict[str, Any]:
        """``record.start``: the ack's fields (``recording`` or ``consent: "asked"``)."""
        plan = await self.desk.request(token, room_id)
        if isinstance(plan, Consent):
            await self._ask(plan)
            return {"consent": "asked"}
        return {"recording": brief(await self.launch(plan))}

    async def end(self, token: AccessToken, room_id: str) -> dict[str, Any]:
        """``record.stop``: the record as it is once stopped (or asked to stop, elsewhere)."""
        return {"recording": brief(await self.halt(await self.desk.stoppable(token, room_id)))}

    async def consent(self, token: AccessToken, room_id: str, agree: bool) -> None:
        """``record.consent``: tell the room; start when everyone agreed, stop on a decline."""
        answered = await self.desk.answer(token, room_id, agree)
        await self._tell_consent(room_id, answered)
        if answered.start is not None:
            await self.launch(answered.start)
        if answered.stop is not None:
            await self.halt(answered.stop)

    async def joined(self, room_id: str, identity: str) -> None:
        """A newcomer to a meeting that is recorded (or asked to be) is asked in turn."""
        pending = await self.desk.pending_for(room_id, identity)
        if pending is not None:
            await self.outbox.send(who_channel(room_id, identity), "record.consent_asked",
                                   pending.asked_payload())
            await self._tell_waiting(pending)

    async def current(self, room_id: str) -> dict[str, Any] | None:
        """The join ack's ``recording``: ``{id, started_at}`` or ``None`` (cached a moment per
        room: a burst of joins reads the Store once; ``room.recording`` tells of changes)."""
        running = await self.timeline.running(room_id)
        return None if running is None else {"id": running.id, "started_at": running.started_at}

    # -- where a recording runs -----------------------------------------------------------------
    async def launch(self, recording: Recording) -> Recording:
        """Start ``recording`` on the room's media node: here, or ask that node."""
        try:
            await self.service.hold_media(recording.room)
        except WrongNode as there:
            placed = replace(recording, node=there.node_id)
            await self.store.put_recording(placed)
            await self.bus.publish(node_topic(there.node_id), "record.start", {"id": placed.id})
            await self._tell_started(placed)
            return placed
        return await self._start_here(recording)

    async def _start_here(self, recording: Recording) -> Recording:
        """Start the recorder (the room's lease is held); a refusal leaves a failed record."""
        plane = self._plane()
        async with self._lock:
            if plane.recording_of(recording.room) is not None:
                await self.service.release_media(recording.room)
                raise RoomFull("the room is being recorded already", limit=1,
                               code="already_recording")
            placed = replace(recording, node=self.node_id)
            await self.store.put_recording(placed)
            try:
                plane.start_recording(self._spec(placed))
            except (MediaError, ValueError, OSError) as exc:
                await self.service.release_media(recording.room)
                await self.store.put_recording(replace(
                    placed, state=RecordingState.FAILED, reason="not_started"))
                raise SignalingError("media_full",
                                     f"the recording could not start: {exc}") from None
        self.service.hooks.emit("recording_started", {"recording": brief(placed)},
                                room=placed.room)  # issue 18 §1: where it runs, once
        await self._tell_started(placed)
        return placed

    def _spec(self, recording: Recording) -> RecordingSpec:
        rules = self.settings.recordings
        return RecordingSpec(
            rec_id=recording.id, room=recording.room,
            directory=self.settings.recordings_dir / recording.id,
            program=rules.program and recording.room_kind in PROGRAM_KINDS,
            container=rules.container, queue_frames=rules.queue_frames,
            min_free_bytes=rules.min_free_mb << 20)

    async def halt(self, recording: Recording) -> Recording:
        """Stop ``recording`` where it runs; here, its files are closed before this returns."""
        if recording.node != self.node_id:
            await self.bus.publish(node_topic(recording.node), "record.stop", {"id": recording.id})
            return recording
        plane = self._plane()
        if plane.recording_of(recording.room) != recording.id:
            return await self.finished(RecordingEnded(recording.id, recording.room,
                                                      "interrupted", (), 0.0)) or recording
        ended = await plane.stop_recording(recording.id)
        return await self.finished(ended) or recording

    async def finished(self, ended: RecordingEnded) -> Recording | None:
        """The finished record (once, however many times the end is heard), the lease let go,
        the room told."""
        async with self._lock:
            done = await self.desk.ended(ended.rec_id, reason=ended.reason,
                                         files=files_of(ended.files),
                                         duration_s=ended.duration_s)
            if done is None:
                return await self.store.get_recording(ended.rec_id)
            if done.node == self.node_id:
                await self.service.release_media(ended.room)
        await self.tell_ended(done)
        return done

    async def tell_ended(self, done: Recording) -> None:
        """``room.recording`` ``false``, with why (``""`` when stopped on request)."""
        self.timeline.forget(done.room)
        self.service.hooks.emit("recording_finished", {"recording": finished_payload(
            done, self.settings.base_url)}, room=done.room)  # issue 18 §1
        await self.outbox.send(room_channel(done.room), "room.recording", {
            "room_id": done.room, "recording": False, "id": done.id, "reason": done.reason})

    async def finalise(self, recording: Recording) -> Recording:
        """An interrupted recording of this node made whole: its files remuxed (in a thread,
        streaming.recovery) with durations and cues; idempotent."""
        from streaming import recovery  # an operator's rare call: imported when needed

        found = await recovery.finalise(self.settings.recordings_dir / recording.id)
        files = files_of(found)
        whole = replace(recording, files=files, finalised=True,
                        duration_s=max((f.duration_s for f in files), default=0.0))
        await self.store.put_recording(whole)
        return whole

    # -- orders from other nodes, and the plane's reports ---------------------------------------
    async def order(self, message: BusMessage) -> None:
        """``record.start`` / ``record.stop`` from another node, for a record naming us."""
        found = await self.store.get_recording(str(message.payload.get("id")))
        if found is None or found.node != self.node_id or found.state != RecordingState.RECORDING:
            return
        if message.kind == "record.start":
            try:
                await self.service.hold_media(found.room)
                await self._start_here(found)
            except (RoomsError, SignalingError) as exc:
                log.warning("recording %s of %s not started here: %s", found.id, found.room, exc)
                await self.finished(RecordingEnded(found.id, found.room, "not_started", (), 0.0))
        elif message.kind == "record.stop":
            await self.halt(found)

    def _heard(self, event: MediaEvent) -> None:
        """The plane's listener (sync): a recording's end, or a new Source (auto-record)."""
        if isinstance(event, RecordingEnded) or (
                isinstance(event, SourceAdded) and not event.relayed
                and self.settings.recordings.auto):
            try:
                self._events.put_nowait(event)
            except asyncio.QueueFull:  # an end: the sweep finds the record later
                log.warning("recording event queue full; %s dropped", event)

    async def _run(self) -> None:
        while True:
            event = await self._events.get()
            with contextlib.suppress(Exception):
                if isinstance(event, RecordingEnded):
                    await self.finished(event)
                else:
                    await self.auto(event.room)

    async def auto(self, room_id: str) -> None:
        """Issue 15 §3: a live room of a kind in ``recordings.auto`` with media is recorded
        (a meeting is asked for consent first, on behalf of "auto")."""
        room = await self.service.room(room_id)
        if room.kind.value not in self.settings.recordings.auto or room.state is not RoomState.LIVE:
            return
        if await self.desk.running(room_id) is not None:
            return
        if room.kind is RoomKind.MEETING:
            if await self.store.get_consent(room_id) is None:
                await self._ask(await self.store.ask_consent(
                    room_id, by="auto", name="auto", asked_at=self.desk.clock.now()))
            return
        try:
            await self.launch(self.desk.new_record(room, "auto"))
        except (RoomsError, SignalingError) as exc:
            log.warning("room %s not recorded automatically: %s", room_id, exc)

    def _plane(self) -> MediaPlane:
        if self.plane is None:
            raise SignalingError("media_unavailable", "this node has no media plane")
        return self.plane

    # -- telling the room -------------------------------------------------------------------------
    async def _tell_started(self, recording: Recording) -> None:
        self.timeline.forget(recording.room)
        await self.outbox.send(room_channel(recording.room), "room.recording", {
            "room_id": recording.room, "recording": True, "id": recording.id,
            "started_at": recording.started_at})

    async def _ask(self, consent: Consent) -> None:
        await self.outbox.send(room_channel(consent.room_id), "record.consent_asked",
                               consent.asked_payload())
        await self._tell_waiting(consent)

    async def _tell_waiting(self, consent: Consent) -> None:
        present = counted(await self.store.list_participants(consent.room_id))
        await self.outbox.send(room_channel(consent.room_id), "record.consent_changed",
                               consent.changed_payload(present))

    async def _tell_consent(self, room_id: str, answered: Answered) -> None:
        consent = answered.consent
        if consent is None:
            return
        payload = consent.changed_payload(answered.present)
        if answered.stop is not None or consent.declined():
            payload = {**payload, "declined": consent.declined()}
        await self.outbox.send(room_channel(room_id), "record.consent_changed", payload)
