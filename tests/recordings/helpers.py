"""Records, rooms and tokens for the recordings tests (real files on disk, real HTTP)."""

from __future__ import annotations

import os
from pathlib import Path

from rooms.pavilion import Pavilion
from rooms.recording import FileKind, Recording, RecordingFile, RecordingState
from rooms.room import Room, RoomKind, RoomState
from rooms.store import Store
from rooms.text import LocalizedText
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET

STAFF = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)


def token(identity: str, room: str, grants: tuple[Grant, ...] = VIEWER) -> str:
    return mint(TEST_SECRET, identity=identity, room=room, grants=grants, ttl_s=600,
                name=identity.title())


def bearer(identity: str, room: str, grants: tuple[Grant, ...] = VIEWER) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(identity, room, grants)}"}


def room(room_id: str, kind: RoomKind = RoomKind.BROADCAST, *, exhibitor: str = "gobi",
         pavilion: Pavilion = Pavilion.NEW_MEDIA) -> Room:
    return Room(id=room_id, kind=kind, pavilion=pavilion, exhibitor=exhibitor,
                title=LocalizedText({"en": room_id.title(), "zh": "直播"}), state=RoomState.LIVE)


def recorded(rec_id: str, room_id: str, *, node: str, kind: RoomKind = RoomKind.BROADCAST,
             published: bool = False, at: float = 1_000.0, name: str = "gobi.webm",
             size: int = 0) -> Recording:
    files = (RecordingFile(name, FileKind.PARTICIPANT, "video/webm", size, "gobi", 3.0),)
    return Recording(id=rec_id, room=room_id, room_kind=kind, node=node,
                     state=RecordingState.DONE, started_at=at, ended_at=at + 3,
                     duration_s=3.0, files=files, published=published, owner="gobi")


def write_file(root: Path, rec_id: str, name: str, size: int = 200_000) -> bytes:
    """Random bytes where the node looks for the file (the HTTP layer serves bytes as they
    are; the end-to-end tests check real media with ffprobe)."""
    data = os.urandom(size)
    (root / rec_id).mkdir(parents=True, exist_ok=True)
    (root / rec_id / name).write_bytes(data)
    return data


async def seed(store: Store, root: Path, node: str) -> dict[str, bytes]:
    """Two rooms (a broadcast, a meeting) and three recordings with files on ``node``."""
    await store.put_room(room("show"))
    await store.put_room(room("talk", RoomKind.MEETING))
    files: dict[str, bytes] = {}
    for rec in (recorded("rec_public00000", "show", node=node, published=True, at=3.0),
                recorded("rec_private0000", "show", node=node, at=2.0),
                recorded("rec_meeting0000", "talk", node=node, kind=RoomKind.MEETING,
                         published=True, at=1.0)):
        files[rec.id] = write_file(root, rec.id, "gobi.webm")
        await store.put_recording(rec)
    return files
