"""``/metrics`` shows the node's media and signalling as they are (web/live_metrics.py): real
aiortc peers through the plane, a real Socket.IO client, counters that only grow."""

from __future__ import annotations

import asyncio
import gc
import socket

import aiohttp
from aioice.ice import get_host_addresses
from prometheus_client.parser import text_string_to_metric_families

from rooms.room import RoomKind
from tests.fixtures.ports import free_media_port, media_mode
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


async def test_udp_mux_metrics_say_the_mode_and_count_drops(pavilion_app):
    """Issue 19: the info gauge names the mode (and the port); foreign datagrams are counted."""
    per_peer = await _scrape((await pavilion_app(demo=False)).url)
    assert per_peer['pavilion_media_udp_mux{mode=per_peer,port=0}'] == 1
    node = await pavilion_app(demo=False, media=media_mode("port"))
    port = node.settings.media.udp_port
    host = get_host_addresses(use_ipv4=True, use_ipv6=False)[0]  # the node's candidates' own
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.sendto(bytes([0x80, 96]) + bytes(30), (host, port))  # RTP from nobody
        raw.sendto(b"\x50not webrtc", (host, port))
        await until(lambda: node.app[MEDIA_KEY].mux.received >= 2)
    live = await _scrape(node.url)
    assert live[f"pavilion_media_udp_mux{{mode=port,port={port}}}"] == 1
    assert live["pavilion_media_udp_mux_dropped_total{reason=unknown_address}"] == 1
    assert live["pavilion_media_udp_mux_dropped_total{reason=not_webrtc}"] == 1
    assert live["pavilion_media_udp_mux_agents"] == 0
    assert "pavilion_media_tcp_mux_connections" not in live  # ICE-TCP off


async def test_tcp_mux_metrics_count_connections_and_refusals(pavilion_app):
    """ICE-TCP (issue 19 §1): a connection whose first message is no STUN is closed and
    counted under the UDP mux's drop counter, reason tcp_not_stun."""
    port = free_media_port()
    node = await pavilion_app(demo=False, media={"udp_port": port, "tcp_port": port})
    host = get_host_addresses(use_ipv4=True, use_ipv6=False)[0]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"\x00\x04junk")
    assert await reader.read() == b""  # closed by the node
    writer.close()
    live = await _scrape(node.url)
    assert live["pavilion_media_tcp_mux_accepted_total"] == 1
    assert live["pavilion_media_tcp_mux_received_total"] == 1
    assert live["pavilion_media_udp_mux_dropped_total{reason=tcp_not_stun}"] == 1
    assert live["pavilion_media_tcp_mux_connections"] == 0
    assert live["pavilion_media_tcp_mux_pending"] == 0
