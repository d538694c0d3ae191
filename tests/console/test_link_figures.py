"""Issue 18 §2 follow-up (gaps 1 and 3) on a real node: each media link's round-trip time, and
a publisher that never sent a packet.

A real WHIP publisher (aiortc) connects but sends no media: its room shows a publisher, quiet
since it connected, and raises ``publisher_quiet`` after ``quiet_alert_s``. A real WHEP viewer
whose every incoming datagram is held 50 ms before its ICE agent reads it (a slow link on the
viewer's side) gets an ``rtt_ms`` of at least 50 in the room's detail, from the node's STUN
consent checks; the publisher on loopback a small one; ``/metrics`` counts both in
``pavilion_media_peer_rtt_seconds``. Plus the arithmetic, pure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from rooms.room import RoomKind
from rooms.token import Grant, mint
from streaming.consent import smoothed_rtt
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import make_room
from tests.streaming.clients import Publisher, Viewer
from web.live_metrics import peer_rtt

SDP = {"Content-Type": "application/sdp"}
API_KEY = "link-figures-admin-key-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {API_KEY}"}
DELAY_S = 0.05
QUIET_S = 1.5


def _auth(identity: str, grant: Grant) -> dict[str, str]:
    value = mint(TEST_SECRET, identity=identity, room="expo", grants=(grant,), ttl_s=600)
    return {**SDP, "Authorization": f"Bearer {value}"}


def test_the_round_trip_is_smoothed_as_rfc_6298_says() -> None:
    assert smoothed_rtt(None, 0.080) == 0.080  # the first sample
    assert abs(smoothed_rtt(0.080, 0.160) - 0.090) < 1e-12  # 7/8 old + 1/8 new
    assert abs(smoothed_rtt(0.100, 0.100) - 0.100) < 1e-12


def test_the_metric_counts_peers_by_rtt_without_labels() -> None:
    family = peer_rtt([3.0, 60.0, None, 2000.0])
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert buckets["0.005"] == 1 and buckets["0.1"] == 2 and buckets["1.0"] == 2
    assert buckets["+Inf"] == 3  # the unmeasured peer is left out
    assert all(set(s.labels) <= {"le"} for s in family.samples)


def _slow_link(viewer: Viewer) -> None:
    """Every datagram to the viewer's ICE agent waits DELAY_S before it is read."""
    loop = asyncio.get_running_loop()
    connection = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in connection._protocols:
        read = protocol.datagram_received
        protocol.datagram_received = (
            lambda data, addr, read=read: loop.call_later(DELAY_S, read, data, addr))


async def _until(http: aiohttp.ClientSession, path: str, ready: Callable[[Any], bool]) -> Any:
    async with asyncio.timeout(30):
        while True:
            async with http.get(path, headers=ADMIN) as response:
                assert response.status == 200, await response.text()
                data = await response.json()
            if ready(data):
                return data
            await asyncio.sleep(0.2)


def _links(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {x["direction"]: x for p in detail["participants"] for x in p["links"]}


async def test_a_silent_publisher_alerts_and_every_link_has_its_rtt(
    pavilion_app: Callable[..., Awaitable[Any]],
) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY,
                             media={"consent_interval_s": 0.3, "consent_timeout_s": 10},
                             cluster={"report_interval_s": 0.3, "quiet_alert_s": QUIET_S})
    await make_room(app, "expo", RoomKind.BROADCAST, exhibitor="obs")
    publisher = Publisher("vp8", audio=False)
    publisher.lose_next(10**9)  # connects, sends not one media packet
    viewer = Viewer()
    async with aiohttp.ClientSession(app.url) as http:
        response = await http.post("/whip/expo", data=await publisher.offer(),
                                   headers=_auth("obs", Grant.PUBLISH))
        assert response.status == 201, await response.text()
        await publisher.accept(await response.text())
        offer = await viewer.offer()
        _slow_link(viewer)
        response = await http.post("/whep/expo", data=offer,
                                   headers=_auth("fan", Grant.SUBSCRIBE))
        assert response.status == 201, await response.text()
        await viewer.accept(await response.text())

        def quiet(view: Any) -> bool:
            rows = [r for r in view["rooms"] if r["id"] == "expo"]
            return bool(rows) and any(a["kind"] == "publisher_quiet" for a in rows[0]["alerts"])

        row = next(r for r in (await _until(http, "/api/admin/overview", quiet))["rooms"]
               if r["id"] == "expo")
        assert row["health"]["publishers"] == 1 and row["health"]["bitrate_bps"] == 0
        assert row["health"]["quiet_s"] >= QUIET_S

        def measured(detail: Any) -> bool:
            links = _links(detail)
            return all(links.get(d, {}).get("rtt_ms") is not None for d in ("publish", "view"))

        links = _links(await _until(http, "/api/admin/rooms/expo/health", measured))
        print(f"\nrtt_ms: viewer behind {DELAY_S * 1000:.0f} ms {links['view']['rtt_ms']},"
              f" publisher on loopback {links['publish']['rtt_ms']}")
        assert DELAY_S * 1000 <= links["view"]["rtt_ms"] < DELAY_S * 1000 + 1000
        assert 0 <= links["publish"]["rtt_ms"] < links["view"]["rtt_ms"]
        async with http.get("/metrics") as response:
            text = await response.text()
        assert 'pavilion_media_peer_rtt_seconds_bucket{le="+Inf"} 2.0' in text
        assert 'pavilion_media_peer_rtt_seconds_bucket{le="0.025"} 1.0' in text
    await viewer.close()
    await publisher.close()
