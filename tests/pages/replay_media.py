"""Recordings for the page tests (issue 15): a real short WebM made by ffmpeg, registered in a
running node's Store with its file where the node serves it, and a timeline of chat and pins."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

from rooms.demo import LIVE_BROADCAST
from rooms.recording import (
    FileKind,
    Recording,
    RecordingFile,
    RecordingState,
    TimelineEntry,
    TimelineKind,
)
from rooms.room import RoomKind
from tests.fixtures.pavilion import RunningApp
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]
HOST = "changbai-foods"  # the demo broadcast's exhibitor
SECONDS = 6
FILE = f"{HOST}.webm"
CARD = {"id": "ginseng-tea", "room_id": LIVE_BROADCAST, "price": "120.00", "currency": "CNY",
        "name": {"ja": "高麗人参茶", "en": "Ginseng tea", "ko": "인삼차"}, "description": {},
        "request_quote": True, "picture_url": ""}
TIMELINE = (  # the chat and the card along the recording (docs/recordings.md §5)
    TimelineEntry(0.5, TimelineKind.CHAT, {"id": "1-0", "sender": "visitor-a",
                                           "name": "Visitor 0042", "text": "最初の質問です"}),
    TimelineEntry(1.5, TimelineKind.PIN, {"product_id": CARD["id"], "product": CARD}),
    TimelineEntry(3.0, TimelineKind.UNPIN, {"product_id": CARD["id"]}),
    TimelineEntry(4.0, TimelineKind.CHAT, {"id": "2-0", "sender": HOST, "name": "長白山食品",
                                           "text": "ありがとうございます"}),
)


def make_webm(folder: Path) -> Path:
    """A 6 s VP8 + Opus WebM with a keyframe every second (a moving test card and a tone)."""
    path = folder / FILE
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=30:duration={SECONDS}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
         "-c:v", "libvpx", "-b:v", "300k", "-g", "30", "-deadline", "realtime",
         "-cpu-used", "8", "-c:a", "libopus", "-b:a", "48k", "-shortest", str(path)],
        check=True, timeout=120)
    return path


async def recorded(running: RunningApp, webm: Path, rec_id: str, *, published: bool,
                   started_at: float = 1_767_225_600.0, room: str = LIVE_BROADCAST,
                   kind: RoomKind = RoomKind.BROADCAST,
                   files: tuple[tuple[str, FileKind, str], ...] = ((FILE, FileKind.PARTICIPANT,
                                                                    HOST),)) -> Recording:
    """Register ``webm`` as a recording of ``room`` (a demo room of ``kind``): a copy of it for
    each of ``files`` (name, kind, whose) where the node serves them, and the timeline above."""
    folder = Path(running.settings.recordings.dir or "") / rec_id
    size = await asyncio.to_thread(_place, webm, folder, [name for name, _, _ in files])
    recording = Recording(
        id=rec_id, room=room, room_kind=kind,
        node=running.settings.node_id, state=RecordingState.DONE, started_at=started_at,
        ended_at=started_at + SECONDS, duration_s=SECONDS, published=published, owner=HOST,
        started_by=HOST, files=tuple(RecordingFile(name, file_kind, "video/webm", size, whose,
                                                   SECONDS) for name, file_kind, whose in files))
    store = running.app[BACKEND_KEY].store
    await store.put_recording(recording)
    await store.append_timeline(rec_id, TIMELINE)
    return recording


def _place(webm: Path, folder: Path, names: list[str]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(webm, folder / name)
    return webm.stat().st_size


async def start(pavilion_app: Start, tmp_path: Path) -> RunningApp:
    return await pavilion_app(demo=True, recordings={"dir": str(tmp_path / "recordings")})
