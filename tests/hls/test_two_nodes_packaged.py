"""Issue 16 §3 "from every other node" with the real packager: a Chromium studio goes live on
node A (A holds the room's media and packages it); node B, sharing a real redis-server, serves
the same HLS by fetching from A: the master, every URI it names, a blocking reload."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from tests.hls.door import Start
from tests.hls.test_page_browser import _go_live
from tests.pages.helpers import until
from web.hls import RELAY_KEY

pytestmark = [pytest.mark.browser, pytest.mark.redis]
PART = re.compile(r'#EXT-X-PART:.*URI="v0-(\d+)\.(\d+)\.m4s[?"]')
URI = re.compile(r'URI="([^"]+)"|^([^#\s][^\s]*)$', re.M)


async def test_another_node_serves_the_packaged_hls(
        pavilion_app: Start, browser: Any, redis_url: str) -> None:
    origin = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-a", hls={})
    edge = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-b", hls={})
    await _go_live(origin, browser)
    assert edge.app[RELAY_KEY].upstream_requests == 0
    base = f"{edge.url}/hls/{LIVE_BROADCAST}/"
    async with aiohttp.ClientSession() as http:
        async def master() -> str | None:
            async with http.get(base + "index.m3u8") as got:
                return await got.text() if got.status == 200 else None

        text = await until(master, "the master playlist through node B", tries=300)
        for uri in {a or b for a, b in URI.findall(text)}:
            async with http.get(base + uri) as named:
                assert named.status == 200, (uri, await named.text())
        async with http.get(base + "v0.m3u8") as got:
            media = await got.text()
        msn, part = (int(n) for n in PART.findall(media)[-1])
        init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', media)
        assert init is not None
        async with http.get(base + init.group(1)) as first, http.get(base + init.group(1)) as again:
            assert first.status == again.status == 200
            assert await first.read() == await again.read()
            assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        async with http.get(f"{base}v0.m3u8?_HLS_msn={msn}&_HLS_part={part + 1}") as ahead:
            later = await ahead.text()
            assert ahead.status == 200, later
        assert f"v0-{msn}.{part + 1}.m4s" in later or f"\nv0-{msn}.m4s" in later, later
    assert edge.app[RELAY_KEY].upstream_requests > 0, "node B fetched from node A"
    assert edge.app[RELAY_KEY].blobs.size > 0, "and kept the media it fetched"
