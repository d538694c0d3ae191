"""Two real nodes sharing one real redis-server, a real Chromium viewer: a page opened on the node
that does not hold the room's media moves to the node that does (issue 5 §5's ``media_node`` and
``wrong_node``, followed by the page), keeps its language, and plays the broadcast.

Both ways in: a viewer that was already on node B when the exhibitor went live on node A (its
``subscribe`` is answered ``wrong_node``), and one that arrives on B afterwards (its ``join``
already names node A in ``media_node``)."""

from __future__ import annotations

from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST
from tests.fixtures.pavilion import node_env
from tests.pages.helpers import until, video_flows
from tests.signaling.rtc_client import HOST, RtcClient, token
from tests.streaming.clients import Publisher

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.slow]
ROOM = LIVE_BROADCAST


async def _waiting_on(page: Any, origin: str) -> bool:
    return page.url.startswith(origin) and await page.locator("#stream-status").is_visible()


async def test_viewers_on_the_other_node_are_moved_to_the_media_and_play(
    redis_url: str, pavilion_process: Any, browser: Any
) -> None:
    node_a, node_b = pavilion_process.together(node_env(redis_url, "node-a"),
                                               node_env(redis_url, "node-b"))
    errors: list[str] = []
    early = await browser.new_page(locale="ko-KR")
    early.on("pageerror", lambda exc: errors.append(str(exc)))
    await early.goto(f"{node_b.url}/watch/{ROOM}?lang=ko")
    await until(lambda: _waiting_on(early, node_b.url), "the early viewer waiting on node B")

    host = await RtcClient.connect(node_a, token("changbai-foods", ROOM, HOST))
    await host.ok("join", {"room": ROOM})
    publisher = Publisher("vp8")  # node A now holds the room's media lease
    answer = await host.ok("publish", {"room": ROOM, "sdp": await publisher.offer()})
    await publisher.accept(answer["sdp"])

    await early.wait_for_url(f"{node_a.url}/watch/{ROOM}?*", timeout=20_000)
    assert "lang=ko" in early.url
    await video_flows(early)

    late = await browser.new_page(locale="mn-MN")
    late.on("pageerror", lambda exc: errors.append(str(exc)))
    await late.goto(f"{node_b.url}/watch/{ROOM}?lang=mn")
    await late.wait_for_url(f"{node_a.url}/watch/{ROOM}?*", timeout=20_000)
    assert "lang=mn" in late.url
    await video_flows(late)
    assert await late.locator("html").get_attribute("lang") == "mn"

    await late.fill("#chat-text", "Сайн байна уу")  # the moved page is in the room: chat works
    await late.press("#chat-text", "Enter")
    await host.wait_for("chat.message", lambda m: m["text"] == "Сайн байна уу")
    assert errors == []
    await host.close()
    await publisher.close()
