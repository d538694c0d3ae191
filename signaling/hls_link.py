"""``HlsLink``: a room's live HLS starts with its first video and stops with the room (issue 16).

A room of a kind in ``[hls] kinds`` gets HLS on the node that serves its media as soon as a
video Source is published there (not relayed: an edge's copy is not the origin's media), the
way a recording starts automatically (signaling/recording_link.py): the plane's listener is
synchronous, so it queues the room and one owned task asks the room service (kind, state) and
starts the packager. The room's end (``close_here``) stops it: the playlists end with
``EXT-X-ENDLIST``; a broadcast that only loses its video ends by itself after a while
(streaming/hls/packager.py).

The replay's start (issue 16 §5, docs/hls.md §5): with ``[hls] replay`` each feed is also
archived under ``recordings_dir/{rec_id}`` (streaming/hls/archive.py); when it ends the plane
says so (``Archived``) and this link writes a ``done`` recording record whose one file is the
VOD master playlist (``FileKind.HLS``), so the replay desk lists it and the file route serves
it behind :func:`rooms.gate.decide_replay`, like any recording. The record is written only at
the end: while live it is not "a recording in progress" (the room may still be recorded).

:func:`hls_entry` is what the join snapshot says (docs/protocol.md): HLS is offered on every
node for a room of such a kind with live video, at ``/hls/{room}/index.m3u8`` (the HTTP door
forwards to the media node).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from config import HlsSettings, Settings
from rooms.errors import RoomsError
from rooms.lifecycle import cancel_and_wait
from rooms.recording import FileKind, Recording, RecordingFile, RecordingState, new_recording_id
from rooms.room import RoomKind, RoomState
from rooms.service import RoomService
from streaming import MediaEvent, MediaPlane, SourceAdded
from streaming.errors import MediaError
from streaming.hls.archive import Archived
from streaming.hls.spec import ArchiveSpec, HlsSpec

log = logging.getLogger(__name__)
EVENT_QUEUE = 256
VOD_MASTER = "index.m3u8"
PLAYLIST = "application/vnd.apple.mpegurl"


def hls_url(room_id: str) -> str:
    return f"/hls/{room_id}/index.m3u8"


def hls_entry(room_id: str, kind: str, tracks: Iterable[dict[str, Any]],
              settings: HlsSettings) -> dict[str, Any]:
    """What a join snapshot says of HLS: ``hls_enabled`` (the room's kind has HLS),
    ``prefer_h264`` (then, with ``[hls] studio_h264``: a publishing page offers H264 first, as
    it is packaged without transcoding), ``hls`` (it has a video track now) and ``hls_url``
    (then its playlist, else None). A forum with voices only has HLS too (audio only)."""
    enabled = kind in settings.kinds
    kinds = {t.get("kind") for t in tracks}
    live = enabled and ("video" in kinds or (kind == "forum" and "audio" in kinds))
    return {"hls_enabled": enabled, "prefer_h264": enabled and settings.studio_h264,
            "hls": live, "hls_url": hls_url(room_id) if live else None}


class HlsLink:
    """Starts and stops the plane's HLS packagers for rooms on this node."""

    def __init__(self, service: RoomService, settings: Settings, plane: MediaPlane | None) -> None:
        self.service = service
        self.settings = settings
        self.plane = plane
        self._rooms: asyncio.Queue[str | Archived] = asyncio.Queue(EVENT_QUEUE)
        self._task: asyncio.Task[None] | None = None
        self._started: dict[str, float] = {}  # HLS replays being archived: their start

    def start(self) -> None:
        if self.plane is not None and self._task is None and self.settings.hls.kinds:
            self.plane.listen(self._heard)
            self._task = asyncio.create_task(self._run(), name="hls-starts")

    def _heard(self, event: MediaEvent) -> None:
        """The plane's listener (sync): a video Source published here, a feed archived."""
        if isinstance(event, Archived):
            try:
                self._rooms.put_nowait(event)
            except asyncio.QueueFull:  # its files stay; the sweep removes them (no record)
                log.error("room %s: HLS replay %s not registered (queue full)", event.room,
                          event.rec_id)
            return
        if not isinstance(event, SourceAdded) or event.relayed:
            return
        running = self.plane.packagers.get(event.room) if self.plane is not None else None
        if running is not None and not (running.spec.audio_only and event.kind == "video"):
            return  # running already: the packager taps the new Source itself
        with contextlib.suppress(asyncio.QueueFull):  # the next video Source asks again
            self._rooms.put_nowait(event.room)

    async def _run(self) -> None:
        while True:
            room_id = await self._rooms.get()
            try:
                if isinstance(room_id, Archived):
                    await self.archived(room_id)
                else:
                    await self.begin(room_id)
            except Exception:  # one room's trouble must not end the task
                log.exception("room %s: HLS not started", room_id)

    async def begin(self, room_id: str) -> bool:
        """Start HLS for ``room_id`` here if its kind has HLS and it is live; whether it runs."""
        plane = self.plane
        if plane is None:
            return False
        try:
            room = await self.service.room(room_id)
        except RoomsError as exc:
            log.info("room %s: no HLS (%s)", room_id, exc)
            return False
        hls = self.settings.hls
        if room.kind.value not in hls.kinds or room.state is not RoomState.LIVE:
            return False
        kinds = {s.kind for s in plane.live_sources(room_id).values() if not s.relayed}
        audio_only = "video" not in kinds and room.kind is RoomKind.FORUM and "audio" in kinds
        if "video" not in kinds and not audio_only:
            return False  # no video here (yet): the first one starts it
        running = plane.packagers.get(room_id)
        if running is not None and running.spec.audio_only and not audio_only:
            await plane.stop_hls(room_id)  # video came: a full feed follows the voices' one
        elif running is not None:
            return True
        try:
            plane.start_hls(HlsSpec(
                room_id, program=room.kind.value == "forum", ladder=tuple(hls.ladder),
                segment_s=hls.segment_s, part_s=hls.part_s,
                window_segments=hls.window_segments, preset=hls.x264_preset,
                transcode_vp8=hls.transcode_vp8, archive=self._archive(room_id),
                audio_only=audio_only))
        except MediaError as exc:  # at capacity, or the plane is closing
            log.warning("room %s: no HLS here: %s", room_id, exc)
            return False
        return True

    def _archive(self, room_id: str) -> ArchiveSpec | None:
        if not self.settings.hls.replay:
            return None
        rec_id = new_recording_id()
        self._started[rec_id] = time.time()
        return ArchiveSpec(rec_id, self.settings.recordings_dir / rec_id,
                           min_free_bytes=self.settings.recordings.min_free_mb << 20)

    async def archived(self, done: Archived) -> Recording | None:
        """A feed ended: its replay's record, if it has anything to play (a ``failed`` one
        with ``reason`` when the disk stopped it part way)."""
        started = self._started.pop(done.rec_id, time.time() - done.duration_s)
        if not done.playable:
            log.info("room %s: HLS replay %s has nothing to play (%s)", done.room, done.rec_id,
                     done.reason or "empty")
            return None
        room = await self.service.room(done.room)
        state = RecordingState.FAILED if done.reason else RecordingState.DONE
        playlist = RecordingFile(VOD_MASTER, FileKind.HLS, PLAYLIST, done.playlist_bytes,
                                 duration_s=done.duration_s)
        record = Recording(
            id=done.rec_id, room=done.room, room_kind=room.kind,
            node=self.settings.node_id, state=state, started_at=started,
            ended_at=time.time(), duration_s=done.duration_s, files=(playlist,),
            owner=room.exhibitor, started_by="hls", reason=done.reason)
        await self.service.store.put_recording(record)
        log.info("room %s: HLS replay %s (%.1f s)", done.room, done.rec_id, done.duration_s)
        return record

    async def stop(self, room_id: str) -> None:
        """The room ended: its HLS ends (``EXT-X-ENDLIST``); the feed stays servable a while."""
        if self.plane is not None:
            await self.plane.stop_hls(room_id)

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
