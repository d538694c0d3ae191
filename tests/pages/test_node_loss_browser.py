"""A real Chromium viewer whose media node is killed with ``kill -9`` (issue 13, node loss).

Node A (a real process) holds the broadcast's media, published by an aiortc WHIP encoder; the
viewer page opened on node B (in this process) moves to A and plays. A is killed: the page,
its socket down for 3 s, tries the nodes its ``session`` event listed and moves to B; the
encoder re-POSTs to B until B takes the room (``201``) and the page plays again. Measured and
printed: the time from the kill until video decodes again on B (issue: under 10 s of freeze);
the chat sent before and during the outage is on the page on B (none lost).
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.token import Grant, mint
from tests.cluster.helpers import ids, wait_nodes
from tests.fixtures.pavilion import TEST_SECRET, node_env
from tests.pages.helpers import STAFF, until, video_flows
from tests.pages.helpers import token as page_token
from tests.signaling.rtc_client import RtcClient, token
from tests.streaming.clients import Publisher

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST
TARGET_S = 10.0  # issue 13: "viewers see less than 10 s of freeze"


def _headers() -> dict[str, str]:
    publisher = mint(TEST_SECRET, identity="changbai-foods", room=ROOM, grants=[Grant.PUBLISH],
                     ttl_s=600)
    return {"Authorization": f"Bearer {publisher}", "Content-Type": "application/sdp"}


async def _publish(http: aiohttp.ClientSession, url: str, publisher: Publisher) -> int:
    """POST the encoder's offer to ``url``; on 201 the encoder is live there."""
    async with http.post(url, data=publisher.pc.localDescription.sdp, headers=_headers(),
                         allow_redirects=False) as response:
        if response.status == 201:
            await publisher.accept(await response.text())
        return response.status


async def test_a_viewer_plays_again_on_a_live_node_after_its_node_is_killed(
        redis_url: str, pavilion_process: Any, pavilion_app: Any, browser: Any) -> None:
    origin = pavilion_process(env=node_env(redis_url, "node-a"))
    survivor = await pavilion_app(redis_url=redis_url, node_id="node-b",
                                  cluster={"placement": "first"})
    await wait_nodes(survivor.url, lambda found: ids(found) == ["node-a", "node-b"])
    await asyncio.sleep(2.5)  # node A's next look at the directory lists B for its sessions
    first = Publisher("vp8")
    await first.offer()
    async with aiohttp.ClientSession() as http:
        assert await _publish(http, f"{origin.url}/whip/{ROOM}", first) == 201
        errors: list[str] = []
        page = await browser.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{survivor.url}/watch/{ROOM}")
        await page.wait_for_url(f"{origin.url}/watch/{ROOM}?*", timeout=20_000)
        await video_flows(page)
        member = await RtcClient.connect(survivor, token("visitor-b", ROOM))
        await member.ok("join", {"room": ROOM})
        await member.ok("chat.send", {"room": ROOM, "text": "said before the kill"})
        nodes = await page.evaluate("() => window.pavilion.connection.nodes")
        assert nodes == [{"id": "node-b", "url": survivor.url}]

        killed = time.monotonic()
        origin.proc.send_signal(signal.SIGKILL)
        await first.close()
        again = Publisher("vp8")  # the encoder starts a new session, as a WHIP client does
        await again.offer()
        while await _publish(http, f"{survivor.url}/whip/{ROOM}", again) != 201:
            assert time.monotonic() - killed < 2 * TARGET_S
            await asyncio.sleep(0.25)
        republished = time.monotonic() - killed
        await member.ok("chat.send", {"room": ROOM, "text": "said while node A was down"})
        await page.wait_for_url(f"{survivor.url}/watch/{ROOM}*", timeout=20_000)
        moved = time.monotonic() - killed
        await video_flows(page, min_frames=1)
        playing = time.monotonic() - killed
        print(f"kill -9 of the viewer's media node: encoder re-published on node-b after "
              f"{republished:.2f} s, page on node-b after {moved:.2f} s, video decoding again "
              f"after {playing:.2f} s (video_flows adds 1 s of checking)")
        assert playing - 1.0 < TARGET_S
        chat = page.locator("#chat-log")
        for text in ("said before the kill", "said while node A was down"):  # no chat lost
            await chat.get_by_text(text).wait_for(timeout=5_000)
        assert errors == []
    await again.close()
    await member.close()


async def test_the_studio_goes_live_again_and_its_viewer_plays_after_the_kill(
        redis_url: str, pavilion_process: Any, pavilion_app: Any, browser: Any) -> None:
    """Both pages on the killed node's origin move to the live node by themselves: the studio
    (it was on air) publishes again there, the viewer plays again; nobody clicks anything."""
    origin = pavilion_process(env=node_env(redis_url, "node-a"))
    survivor = await pavilion_app(redis_url=redis_url, node_id="node-b",
                                  cluster={"placement": "first"})
    await wait_nodes(survivor.url, lambda found: ids(found) == ["node-a", "node-b"])
    await asyncio.sleep(2.5)  # node A's next look at the directory lists B for its sessions
    errors: list[str] = []
    studio = await browser.new_page()
    studio.on("pageerror", lambda exc: errors.append(str(exc)))
    host = page_token("changbai-foods", ROOM, STAFF, "Changbai Foods")
    await studio.goto(f"{origin.url}/studio/{ROOM}?token={host}")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")
    viewer = await browser.new_page()
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.goto(f"{survivor.url}/watch/{ROOM}")
    await viewer.wait_for_url(f"{origin.url}/watch/{ROOM}?*", timeout=20_000)
    await video_flows(viewer)

    killed = time.monotonic()
    origin.proc.send_signal(signal.SIGKILL)
    await studio.wait_for_url(f"{survivor.url}/studio/{ROOM}*", timeout=20_000)
    await viewer.wait_for_url(f"{survivor.url}/watch/{ROOM}*", timeout=20_000)
    moved = time.monotonic() - killed
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio on air again")
    on_air = time.monotonic() - killed
    await video_flows(viewer, min_frames=1)
    playing = time.monotonic() - killed
    print(f"kill -9 with a Chromium studio and viewer on the node: both pages on node-b after "
          f"{moved:.2f} s, studio on air again after {on_air:.2f} s, video decoding again "
          f"after {playing:.2f} s (video_flows adds 1 s of checking)")
    assert playing - 1.0 < TARGET_S
    assert "on_air" not in studio.url  # a later reload is not a move
    assert errors == []
