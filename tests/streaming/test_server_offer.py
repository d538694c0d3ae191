"""The server offers to a viewer (the browser protocol's direction): real aiortc answerer."""

from __future__ import annotations

import pytest

from streaming import MediaPlane, NothingPublished
from tests.streaming.clients import contiguous, publish, until, watch_offered


async def test_server_offer_delivers_the_room_tracks(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall")
    viewer = await watch_offered(plane, "hall")
    await until(lambda: viewer.frames.get("video", 0) >= 10 and viewer.count("audio") >= 20)
    assert viewer.received["video"].packets[0][2]
    assert contiguous(viewer.received["video"].sequences)
    await viewer.close()
    await publisher.close()


async def test_server_offer_of_chosen_tracks(plane: MediaPlane) -> None:
    publisher = await publish(plane, "hall", participant="alice")
    viewer = await watch_offered(plane, "hall", ["alice/video0"])
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    assert "audio" not in viewer.received
    with pytest.raises(NothingPublished, match="no live track 'bob/video0'"):
        await plane.offer_to_viewer("hall", "browser", ["bob/video0"])
    await viewer.close()
    await publisher.close()
