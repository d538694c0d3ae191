"""The admin API end to end (issue 15 §5): a real aiortc publisher, the real recorder, the
file downloaded with Range (206) and accepted by ffprobe, renamed, published, deleted."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.recording import RecordingState
from rooms.room import RoomKind
from tests.fixtures.pavilion import RunningApp
from tests.signaling.rtc_client import make_room
from tests.streaming.clients import publish
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

Start = Callable[..., Awaitable[RunningApp]]
KEY = "recordings-admin-key-0123456789-0123456789"
ADMIN = {"Authorization": f"Bearer {KEY}"}


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of",
                          "json", str(path)], capture_output=True, text=True, timeout=30,
                         check=True)
    probed: dict[str, Any] = json.loads(out.stdout)
    return probed


async def test_record_a_published_room_and_download_its_file(pavilion_app: Start,
                                                             tmp_path: Path) -> None:
    app = await pavilion_app(api_key=KEY, recordings={"dir": str(tmp_path / "rec")})
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    publisher = await publish(app.app[MEDIA_KEY], "show", "gobi", frames=60)
    async with aiohttp.ClientSession(app.url, headers=ADMIN) as http:
        async with http.post("/api/admin/rooms/show/recordings") as started:
            assert started.status == 201, await started.text()
            rec_id = (await started.json())["id"]
        async with http.post("/api/admin/rooms/show/recordings") as twice:
            assert twice.status == 409
        async with http.get(f"/api/admin/recordings/{rec_id}") as running:
            assert (await running.json())["state"] == "recording"
        await asyncio.sleep(2.5)  # a few seconds of media: a keyframe every second
        async with http.post(f"/api/admin/recordings/{rec_id}/stop") as stopped:
            assert stopped.status == 200, await stopped.text()
            record = await stopped.json()
        assert record["state"] == "done" and record["duration_s"] > 1.0
        assert record["node"] == app.settings.node_id
        main = next(f for f in record["files"] if f["participant"] == "gobi")
        assert main["kind"] == "participant" and main["bytes"] > 1_000
        assert main["url"] == f"/api/admin/recordings/{rec_id}/files/{main['name']}"
        async with http.get(main["url"], headers={"Range": "bytes=0-99"}) as part:
            assert part.status == 206 and len(await part.read()) == 100
        async with http.get(main["url"]) as whole:
            assert whole.status == 200
            (tmp_path / main["name"]).write_bytes(await whole.read())
        async with aiohttp.ClientSession(app.url) as anonymous, anonymous.get(main["url"]) as no:
            assert no.status == 401, "the admin file route needs the key"
        probed = ffprobe(tmp_path / main["name"])
        codecs = {s["codec_type"]: s["codec_name"] for s in probed["streams"]}
        assert codecs == {"video": "vp8", "audio": "opus"}
        assert float(probed["format"]["duration"]) > 1.0
        async with http.patch(f"/api/admin/recordings/{rec_id}",
                              json={"title": "Открытие", "published": True}) as edited:
            assert (await edited.json())["published"] is True
        async with http.get("/api/admin/recordings?room=show") as listed:
            assert [r["id"] for r in (await listed.json())["recordings"]] == [rec_id]
        async with http.delete(f"/api/admin/recordings/{rec_id}") as deleted:
            assert deleted.status == 200
        assert not (tmp_path / "rec" / rec_id).exists()
        async with http.get(f"/api/admin/recordings/{rec_id}") as gone:
            assert gone.status == 404
    await publisher.close()


async def _recorded(app: RunningApp, http: aiohttp.ClientSession) -> str:
    """A few seconds of a real publisher's media recorded and stopped; the recording's id."""
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="gobi")
    publisher = await publish(app.app[MEDIA_KEY], "show", "gobi")
    async with http.post("/api/admin/rooms/show/recordings") as started:
        rec_id: str = (await started.json())["id"]
    await asyncio.sleep(1.5)
    async with http.post(f"/api/admin/recordings/{rec_id}/stop") as stopped:
        assert stopped.status == 200
    await publisher.close()
    return rec_id


async def test_finalise_takes_only_an_interrupted_recording(pavilion_app: Start,
                                                           tmp_path: Path) -> None:
    app = await pavilion_app(api_key=KEY, recordings={"dir": str(tmp_path)})
    async with aiohttp.ClientSession(app.url, headers=ADMIN) as http:
        rec_id = await _recorded(app, http)
        async with http.post(f"/api/admin/recordings/{rec_id}/finalise") as refused:
            assert refused.status == 400
            assert (await refused.json())["error"]["code"] == "not_interrupted"


async def test_finalise_remuxes_an_interrupted_recording(pavilion_app: Start,
                                                         tmp_path: Path) -> None:
    pytest.importorskip("streaming.recovery")  # the engine's finalise (issue 15 §1)
    app = await pavilion_app(api_key=KEY, recordings={"dir": str(tmp_path)})
    store = app.app[BACKEND_KEY].store
    async with aiohttp.ClientSession(app.url, headers=ADMIN) as http:
        rec_id = await _recorded(app, http)
        done = await store.get_recording(rec_id)
        assert done is not None
        await store.put_recording(replace(done, state=RecordingState.INTERRUPTED, files=()))
        async with http.post(f"/api/admin/recordings/{rec_id}/finalise") as made:
            assert made.status == 200, await made.text()
            record = await made.json()
    assert record["finalised"] is True and record["state"] == "interrupted"
    assert record["duration_s"] > 1.0 and record["files"]
