"""Issue 16 end to end on one node: a Chromium studio (fake camera, H264 preferred) goes live,
the plane packages its packets (streaming/hls/), the door serves them, and a Chromium viewer
plays them with hls.js in LL mode; the door's blocking reload answers with the next part of the
real playlist, and every URI the master names answers through the door."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from tests.hls.door import Start
from tests.hls.test_page_browser import SAVER, _go_live, _mode, hls_plays
from tests.pages.helpers import until

pytestmark = pytest.mark.browser
PART = re.compile(r'#EXT-X-PART:.*URI="v0-(\d+)\.(\d+)\.m4s"')
URI = re.compile(r'URI="([^"]+)"|^([^#\s][^\s]*)$', re.M)


async def test_a_studio_broadcast_plays_over_the_packaged_hls(
        pavilion_app: Start, browser: Any) -> None:
    running = await pavilion_app(demo=True, hls={"webrtc_timeout_s": 3})
    await _go_live(running, browser)
    base = f"{running.url}/hls/{LIVE_BROADCAST}/"
    async with aiohttp.ClientSession() as http:
        async def master() -> str | None:
            async with http.get(base + "index.m3u8") as got:
                return await got.text() if got.status == 200 else None

        text = await until(master, "the packaged master playlist", tries=300)
        for uri in {a or b for a, b in URI.findall(text)}:
            async with http.get(base + uri) as named:
                assert named.status == 200, (uri, await named.text())
        async with http.get(base + "v0.m3u8") as got:
            media = await got.text()
        msn, part = (int(n) for n in PART.findall(media)[-1])
        async with http.get(f"{base}v0.m3u8?_HLS_msn={msn}&_HLS_part={part + 1}") as ahead:
            later = await ahead.text()
            assert ahead.status == 200, later
            assert ahead.headers["Cache-Control"] == "public, max-age=6"
        # part+1 of that segment, or the segment completed before it (RFC 8216bis §6.2.5.2)
        assert f"v0-{msn}.{part + 1}.m4s" in later or f"\nv0-{msn}.m4s" in later, later
    viewer = await browser.new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.add_init_script(SAVER)
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=en")
    await _mode(viewer, "hls")
    delay = await hls_plays(viewer)
    print(f"LL-HLS delay shown by the page (now - PROGRAM-DATE-TIME): {delay:.2f} s")
    assert 0 < delay < 30, delay
    assert not errors, errors
