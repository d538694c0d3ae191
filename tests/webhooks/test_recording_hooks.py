"""``recording_started`` / ``recording_finished`` with the files, from a real recording of a
real aiortc publisher; a hidden recorder is never reported as a participant."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rooms.room import RoomKind
from rooms.token import Grant
from tests.signaling.rtc_client import GUEST, RtcClient, make_room, token
from tests.streaming.clients import Publisher
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import FAST, Start
from tests.webhooks.test_signature import SECRET

pytestmark = pytest.mark.slow


async def test_recording_events_carry_the_files(pavilion_app: Start, tmp_path: Path) -> None:
    receiver = await Receiver().start()
    try:
        node = await pavilion_app(recordings={"dir": str(tmp_path)}, webhooks_delivery=FAST,
                                  webhooks=[{"url": receiver.url, "secret": SECRET}])
        await make_room(node, "show", RoomKind.BROADCAST, exhibitor="gobi")
        host = await RtcClient.connect(node, token("gobi", "show", GUEST))
        await host.ok("join", {"room": "show"})
        recorder = await RtcClient.connect(node, token("rec-bot", "show", (
            Grant.JOIN, Grant.SUBSCRIBE, Grant.HIDDEN, Grant.RECORDER)))
        await recorder.ok("join", {"room": "show"})
        publisher = Publisher("vp8")
        reply = await host.ok("publish", {"room": "show", "sdp": await publisher.offer()})
        await publisher.accept(reply["sdp"])
        await host.wait_for("track.published")
        started = (await host.ok("record.start", {"room": "show"}))["recording"]
        await asyncio.sleep(1.5)  # some frames on disk
        await host.ok("record.stop", {"room": "show"})
        await receiver.until(lambda: "recording_finished" in receiver.names())
        by_name = {g["event"]: g for g in receiver.got}
        assert by_name["recording_started"]["recording"]["id"] == started["id"]
        done = by_name["recording_finished"]["recording"]
        assert done["id"] == started["id"] and done["state"] == "done"
        assert done["files"], done
        for file in done["files"]:
            assert file["bytes"] > 0
            assert file["url"] == (f"{node.url}/api/admin/recordings/{started['id']}"
                                   f"/files/{file['name']}")
        joined = [g["participant"]["identity"] for g in receiver.got
                  if g["event"] == "participant_joined"]
        assert joined == ["gobi"]  # the hidden recorder is not announced
        await publisher.close()
        for client in (host, recorder):
            await client.close()
    finally:
        await receiver.stop()
