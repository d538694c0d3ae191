"""``/metrics`` shows the node's media and signalling as they are (web/live_metrics.py): real
aiortc peers through the plane, a real Socket.IO client, counters that only grow."""

from __future__ import annotations

import gc

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import publish, until, watch
from web.media import MEDIA_KEY


async def _scrape(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as response:
        text = await response.text()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return values


async def test_metrics_follow_media_and_chat(pavilion_app):
    app = await pavilion_app(demo=False)
    plane = app.app[MEDIA_KEY]
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall", "v1")
    await until(lambda: viewer.count("video") >= 30)
    live = await _scrape(app.url)
    assert live["pavilion_media_publishers"] == 1 and live["pavilion_media_viewers"] == 1
    assert live["pavilion_media_sources"] == 2  # audio and video
    assert live["pavilion_media_peers"] == 2
    assert live["pavilion_asyncio_tasks"] >= 1
    assert live["pavilion_media_received_packets_total"] >= 30
    assert live["pavilion_media_sent_packets_total"] >= 30

    await viewer.close()  # the plane sees its connection close and lets it go
    await until(lambda: not any(p.peer_id == viewer.peer_id for p in plane.peers.values()))
    after = await _scrape(app.url)
    assert after["pavilion_media_viewers"] == 0 and after["pavilion_media_peers"] == 1
    # a counter never goes back when the viewer that sent it leaves
    assert after["pavilion_media_sent_packets_total"] >= live["pavilion_media_sent_packets_total"]

    await make_room(app, "talk", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "talk", HOST))
    guest = await RtcClient.connect(app, token("guest", "talk", VIEWER))
    await host.ok("join", {"room": "talk"})
    await guest.ok("join", {"room": "talk"})
    await host.ok("chat.send", {"room": "talk", "text": "hello"})
    await guest.wait_for("chat.message")
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle only a collection frees
    del garbage
    gc.collect()
    chat = await _scrape(app.url)
    assert chat["pavilion_rtc_sessions"] == 2 and chat["pavilion_rtc_rooms"] == 1
    assert chat["pavilion_rtc_batch_frames_total"] >= 1
    assert chat["pavilion_rtc_direct_writes_total"] >= 2
    assert chat["pavilion_rtc_clients_cut_off_total"] == 0
    assert chat["pavilion_gc_pause_seconds_count{generation=2}"] >= 1
    assert chat["pavilion_gc_collected_objects_total{generation=2}"] >= 1
    await guest.close()
    await host.close()
    await publisher.close()
