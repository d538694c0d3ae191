"""A real Chromium viewer on a cascade edge (issue 13 §3): two real nodes on one real
redis-server, both with ``[cluster] cascade = true``. The exhibitor goes live on node A (the
origin); a visitor opens the broadcast's page on node B. B's ``join`` seats the viewer on B
itself (``media_node`` is B: the page does not move), B pulls the room from A over WHEP, and
the page decodes video served by B; A's admin API lists B as its edge. A serves no viewer itself
(``origin_max_viewers = 0``): a visitor who opens the page on A is seated on B by placement
(``media_node``), the page moves there and plays."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.cluster.helpers import ADMIN
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.pages.helpers import until, video_flows
from tests.signaling.rtc_client import HOST, RtcClient, token
from tests.streaming.clients import Publisher

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
# every test runs the default report timings (every 2 s, living 6 s): with reports every 0.3 s
# (living 0.9 s) a loaded CI machine's origin missed one while the page joined the edge, which
# then saw no live media node; the page got no tracks and waited for ever (twice in about 20
# runs beside two other browser suites; the weakness is named in the issue 19 note)
CASCADE = {"PAVILION_CLUSTER__CASCADE": "true",
           "PAVILION_CLUSTER__MAX_LOAD": "50",  # idle CPU noise on a shared VM moves no one
           "PAVILION_CLUSTER__ORIGIN_MAX_VIEWERS": "0"}
TARGET_S = 10.0  # issue 13: "viewers see less than 10 s of freeze"


async def _edges(url: str) -> list[str]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{url}/api/admin/rooms/{ROOM}", headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        edges: list[str] = (await response.json())["edges"]
        return edges


async def test_a_chromium_viewer_on_an_edge_plays_the_cascaded_broadcast(
    redis_url: str, pavilion_process: Any, browser: Any
) -> None:
    node_a = pavilion_process(env={**node_env(redis_url, "node-a"), **CASCADE})
    node_b = pavilion_process(env={**node_env(redis_url, "node-b"), **CASCADE})
    host = await RtcClient.connect(node_a, token("changbai-foods", ROOM, HOST))
    await host.ok("join", {"room": ROOM})
    publisher = Publisher("vp8")  # node A holds the room's media: the origin
    answer = await host.ok("publish", {"room": ROOM, "sdp": await publisher.offer()})
    await publisher.accept(answer["sdp"])

    errors: list[str] = []
    page = await browser.new_page(locale="ru-RU")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{node_b.url}/watch/{ROOM}?lang=ru")
    flowing = await video_flows(page)
    assert page.url.startswith(node_b.url), page.url  # served by the edge: no move to A
    assert await _edges(node_a.url) == ["node-b"]
    print("Chromium on the edge:", flowing)

    moved = await browser.new_page(locale="ja-JP")
    moved.on("pageerror", lambda exc: errors.append(str(exc)))
    await moved.goto(f"{node_a.url}/watch/{ROOM}?lang=ja")  # the origin: full for viewers
    await moved.wait_for_url(f"{node_b.url}/watch/{ROOM}?*", timeout=20_000)
    assert "lang=ja" in moved.url
    print("Chromium seated on the edge by placement:", await video_flows(moved))
    assert await _edges(node_a.url) == ["node-b"]  # still one upstream for both pages
    assert errors == []
    await moved.close()
    await page.close()
    await host.close()
    await publisher.close()


async def test_a_chromium_viewer_plays_again_after_its_edge_is_killed(
    redis_url: str, pavilion_process: Any, browser: Any
) -> None:
    """``kill -9`` of the edge a page watches on (issue 13 §4: "of an edge"): the page's socket
    stays down, it moves to the live node its ``nodes`` event listed (the origin), and plays
    there once the dead edge's report has expired (placement no longer names it) — the freeze
    is measured and asserted under the issue's 10 s."""
    # default timings: a dead node's report lives 6 s, placement may name it meanwhile.
    # The page's session starts on the edge before the origin exists, so its `session` lists
    # no node: only the `nodes` event the edge sends once it sees the origin report gives the
    # page somewhere to go (docs/protocol.md §7, "Node loss"; it used to wait for a reconnect).
    edge = pavilion_process(env={**node_env(redis_url, "node-e"), **CASCADE})
    errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    told = _failover_lists(page)
    await page.goto(f"{edge.url}/watch/{ROOM}")  # before the broadcast: it plays once it starts

    async def session_seen() -> bool:
        return bool(told)

    await until(session_seen, "the page's session")
    assert told == [("session", [])], told
    node_a = pavilion_process(env={**node_env(redis_url, "node-a"), **CASCADE})
    host = await RtcClient.connect(node_a, token("changbai-foods", ROOM, HOST))
    await host.ok("join", {"room": ROOM})
    publisher = Publisher("vp8")
    answer = await host.ok("publish", {"room": ROOM, "sdp": await publisher.offer()})
    await publisher.accept(answer["sdp"])

    await video_flows(page)  # the page plays once the broadcast starts (track.published)
    await until(lambda: page.evaluate("() => window.pavilion.connection.nodes.length"),
                "a nodes event to list the origin")
    assert ("nodes", ["node-a"]) in told, told
    killed = time.monotonic()
    edge.proc.send_signal(signal.SIGKILL)
    await page.wait_for_url(f"{node_a.url}/watch/{ROOM}*", timeout=20_000)
    moved = time.monotonic() - killed
    await video_flows(page, min_frames=1)
    playing = time.monotonic() - killed
    print(f"kill -9 of the edge: page on the origin after {moved:.2f} s, video decoding again "
          f"after {playing:.2f} s (video_flows adds 1 s of checking)")
    assert playing - 1.0 < TARGET_S
    assert errors == []
    await page.close()
    await host.close()
    await publisher.close()


async def test_a_chromium_viewer_on_an_edge_plays_on_when_the_exhibitor_republishes_there(
    redis_url: str, pavilion_process: Any, browser: Any
) -> None:
    """``kill -9`` of the origin; the encoder re-publishes on the very edge the page watches on
    (the edge takes the room and ends its relayed stream; its viewers' peers end with it). The
    page stays on the edge, subscribes again by itself and plays, within the issue's 10 s."""
    origin = pavilion_process(env={**node_env(redis_url, "node-a"), **CASCADE})
    edge = pavilion_process(env={**node_env(redis_url, "node-e"), **CASCADE})
    first = Publisher("vp8")
    await first.offer()
    async with aiohttp.ClientSession() as http:
        assert await _whip(http, f"{origin.url}/whip/{ROOM}", first) == 201
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{edge.url}/watch/{ROOM}")
        await video_flows(page)
        assert page.url.startswith(edge.url)
        killed = time.monotonic()
        origin.proc.send_signal(signal.SIGKILL)
        await first.close()
        again = Publisher("vp8")
        await again.offer()
        while await _whip(http, f"{edge.url}/whip/{ROOM}", again) != 201:
            assert time.monotonic() - killed < 2 * TARGET_S
            await asyncio.sleep(0.25)
        republished = time.monotonic() - killed
        await until(lambda: _decoded_since(page, killed), "frames decoded after the re-publish")
        playing = time.monotonic() - killed
        print(f"origin killed, encoder re-published on the viewer's edge after {republished:.2f} s;"
              f" the page (never moved) decodes again after {playing:.2f} s")
        assert page.url.startswith(edge.url)
        assert playing < TARGET_S
        assert errors == []
    await again.close()
    await page.close()


def _failover_lists(page: Any) -> list[tuple[str, list[str]]]:
    """The node lists the page's sockets receive, in order: ``session``'s, then each ``nodes``
    event's (read off the WebSocket frames: which of the two gave the page the origin)."""
    told: list[tuple[str, list[str]]] = []

    def frame(payload: Any) -> None:
        if not isinstance(payload, str) or not payload.startswith("42/rtc,"):
            return
        name, data = json.loads(payload[len("42/rtc,"):])[:2]
        if name in ("session", "nodes"):
            told.append((name, [n["id"] for n in data["nodes"]]))

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return told


async def _whip(http: aiohttp.ClientSession, url: str, publisher: Publisher) -> int:
    token = mint(TEST_SECRET, identity="changbai-foods", room=ROOM, grants=[Grant.PUBLISH],
                 ttl_s=600)
    async with http.post(url, data=publisher.pc.localDescription.sdp, allow_redirects=False,
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/sdp"}) as response:
        if response.status == 201:
            await publisher.accept(await response.text())
        return response.status


async def _decoded_since(page: Any, since: float) -> bool:
    """Whether the page's video decodes now: framesDecoded rises over 0.5 s (the first sample is
    taken after ``since``, so frames of the old stream do not count)."""
    if time.monotonic() < since:
        return False
    before = await _frames(page)
    await asyncio.sleep(0.5)
    return await _frames(page) > before


async def _frames(page: Any) -> int:
    value: int = await page.evaluate("""async () => {
        let most = 0;
        for (const pc of (window.pavilion?.peers?.values?.() ?? [])) {
            for (const s of (await pc.getStats()).values()) {
                if (s.type === "inbound-rtp" && s.kind === "video") most += s.framesDecoded || 0;
            }
        }
        return most;
    }""")
    return value
