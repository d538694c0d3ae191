"""The gauges the dashboard and alerts need (web/ops_metrics.py), from a real node: a real
aiortc publisher whose video stops while its connection lives is counted as quiet."""

from __future__ import annotations

import asyncio

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.streaming.clients import publish, until, watch
from web.media import MEDIA_KEY
from web.ops_metrics import QUIET_S


async def _scrape(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as response:
        text = await response.text()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if not s.labels}


async def test_node_gauges_and_a_publisher_gone_quiet(pavilion_app) -> None:
    node = await pavilion_app(demo=False)
    plane = node.app[MEDIA_KEY]
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall", "v1")
    await until(lambda: viewer.count("video") >= 30)
    live = await _scrape(node.url)
    assert (live["pavilion_store_up"], live["pavilion_node_draining"]) == (1, 0)
    assert live["pavilion_node_max_load"] == node.settings.cluster.max_load
    assert 0 <= live["pavilion_node_load"] < live["pavilion_node_max_load"]
    assert live["pavilion_recordings_free_bytes"] > 0 and live["pavilion_recordings_active"] == 0
    assert live["pavilion_hls_feeds"] == 0 and live["pavilion_media_viewers_lossy"] == 0
    assert live["pavilion_media_sources_quiet"] == 0
    assert live["pavilion_chat_journal_waiting"] == 0  # in-memory: never an outage
    assert live["pavilion_chat_journaled_total"] == live["pavilion_chat_rewritten_total"] == 0

    video = next(s for s in publisher.pc.getSenders() if s.track and s.track.kind == "video")
    video.replaceTrack(None)  # the encoder stops; the connection (and its RTCP) lives on
    deadline = asyncio.get_running_loop().time() + QUIET_S + 15
    while (quiet := await _scrape(node.url))["pavilion_media_sources_quiet"] != 1:
        assert asyncio.get_running_loop().time() < deadline, "the track was never counted quiet"
        await asyncio.sleep(0.5)
    assert quiet["pavilion_media_publishers"] == 1  # still connected: quiet, not gone
    await viewer.close()
    await publisher.close()
