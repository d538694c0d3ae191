"""A visitor keeps one identity across tabs and reloads (issue 12 gaps, docs/security.md
"Visitor cookie"): the public pages mint their token for the identity the browser's visitor
cookie names, so a visitor's name, quote requests and ban stay theirs until the cookie is
cleared."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

import aiohttp

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM
from rooms.token import verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.pages.helpers import STAFF, token
from tests.signaling.rtc_client import RtcClient
from web.page_access import VISITOR_COOKIE, VISITOR_TTL_S

Start = Callable[..., Awaitable[RunningApp]]
CONFIG = re.compile(r'<script type="application/json" id="config">(.*?)</script>', re.S)


async def _page(url: str, cookie: str | None = None) -> tuple[dict[str, Any], SimpleCookie]:
    """The page's config and the cookies it set."""
    headers = {"Cookie": f"{VISITOR_COOKIE}={cookie}"} if cookie else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        assert response.status == 200
        found = CONFIG.search(await response.text())
        assert found is not None
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            jar.load(header)
        return json.loads(found.group(1)), jar


async def test_the_cookie_keeps_one_visitor_across_pages_and_rooms(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    watch = f"{running.url}/watch/{LIVE_BROADCAST}"
    first, jar = await _page(watch)
    cookie = jar[VISITOR_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == VISITOR_TTL_S and not cookie["secure"]  # plain http here
    key = cookie.value
    assert re.fullmatch(r"[0-9a-f]{32}", key) and key not in first["identity"]
    again, _ = await _page(watch, key)  # a reload, a new tab
    forum, _ = await _page(f"{running.url}/forum/{LIVE_FORUM}", key)
    assert first["identity"] == again["identity"] == forum["identity"]
    names = {verify(TEST_SECRET, c["token"]).name for c in (first, again, forum)}
    assert len(names) == 1 and re.fullmatch(r"Visitor \d{4}", names.pop())  # one number too
    cleared, fresh = await _page(watch)  # a cleared cookie is a new visitor
    assert cleared["identity"] != first["identity"] and fresh[VISITOR_COOKIE].value != key
    forged, jar = await _page(watch, "visitor-" + first["identity"])  # not a key: a new one
    assert forged["identity"] != first["identity"] and jar[VISITOR_COOKIE].value != key


async def test_a_kicked_visitor_is_still_refused_after_a_reload(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    watch = f"{running.url}/watch/{LIVE_BROADCAST}"
    page, jar = await _page(watch)
    key = jar[VISITOR_COOKIE].value
    visitor = await RtcClient.connect(running, page["token"])
    await visitor.ok("join", {"room": LIVE_BROADCAST})
    host = await RtcClient.connect(running, token("changbai-foods", LIVE_BROADCAST, STAFF))
    await host.ok("join", {"room": LIVE_BROADCAST})
    await host.ok("participant.remove", {"room": LIVE_BROADCAST, "identity": page["identity"]})
    await visitor.wait_for("participant.removed")
    reloaded, _ = await _page(watch, key)  # the same browser reloads: the ban holds
    again = await RtcClient.connect(running, reloaded["token"])
    assert (await again.call("join", {"room": LIVE_BROADCAST}))["error"]["code"] == "banned"
    other, _ = await _page(watch)  # a cleared cookie is a new visitor (docs/security.md)
    newcomer = await RtcClient.connect(running, other["token"])
    await newcomer.ok("join", {"room": LIVE_BROADCAST})
    for client in (visitor, host, again, newcomer):
        await client.close()
