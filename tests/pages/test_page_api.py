"""The pages' HTTP side without a browser: access decisions, the page API's refusals, escaping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from config import LANGUAGES
from rooms.demo import LIVE_BROADCAST, LIVE_FORUM, MEETING
from rooms.token import Grant, verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp, make_settings
from tests.pages.helpers import STAFF, token
from web.catalog import load_catalogs
from web.keys import BACKEND_KEY
from web.page_access import refused, visitor_for
from web.page_strings import ERRORS, client_strings
from web.quote_requests import QuoteLog, QuoteRequest
from web.room_pages import script_json

VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
Start = Callable[..., Awaitable[RunningApp]]


async def _call(method: str, url: str, tok: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


def test_script_json_cannot_close_its_script_element() -> None:
    text = str(script_json({"name": "</script><script>alert(1)</script>&"}))
    assert "</script>" not in text and "<" not in text and "&" not in text


async def test_visitor_tokens_only_for_public_rooms(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    store = running.app[BACKEND_KEY].store
    settings = make_settings()
    broadcast, meeting = await store.get_room(LIVE_BROADCAST), await store.get_room(MEETING)
    visitor = visitor_for(settings, broadcast, None, visitor_name="Visitor 0001")
    access = verify(TEST_SECRET, visitor.token or "", room=LIVE_BROADCAST)
    assert access.grants == frozenset(VIEWER) and visitor.minted and not visitor.moderates
    assert visitor_for(settings, meeting, None, visitor_name="v") == refused("not_invited")
    assert visitor_for(settings, broadcast, None, visitor_name="v", staff_only=True).error == \
        "token_missing"
    other = token("host", LIVE_FORUM, STAFF)
    assert visitor_for(settings, broadcast, other, visitor_name="v").error == "wrong_room"
    host = visitor_for(settings, broadcast, token("changbai-foods", LIVE_BROADCAST, STAFF),
                       visitor_name="v")
    assert (host.role, host.moderates, host.publishes, host.minted) == ("host", True, True, False)


async def test_products_and_quotes_need_the_right_token(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    base = f"{running.url}/api/pages/rooms/{LIVE_BROADCAST}"
    host = token("changbai-foods", LIVE_BROADCAST, STAFF)
    viewer = token("visitor-1", LIVE_BROADCAST, VIEWER)
    status, body = await _call("POST", base + "/products", None, {"name": "Tea"})
    assert (status, body["error"]["code"]) == (401, "token_missing")
    status, body = await _call("POST", base + "/products", viewer, {"name": "Tea"})
    assert (status, body["error"]["code"]) == (403, "not_host")
    status, body = await _call("POST", base + "/products", host,
                               {"name": "Tea", "price": "abc", "currency": "CNY"})
    assert (status, body["error"]["code"]) == (400, "bad_price")
    status, body = await _call("POST", base + "/products", host,
                               {"name": "Tea", "price": "12.5", "currency": "cny",
                                "language": "en"})
    assert status == 201 and body["product"]["currency"] == "CNY"
    product = body["product"]["id"]
    status, body = await _call("POST", base + "/quotes", viewer, {"product": "nope"})
    assert (status, body["error"]["code"]) == (404, "no_such_product")
    status, body = await _call("POST", base + "/quotes", viewer, {"product": product})
    assert status == 201 and body["request"]["requester"] == "visitor-1"
    status, body = await _call("GET", base + "/quotes", host)
    assert [q["product_id"] for q in body["requests"]] == [product]
    status, body = await _call("GET", base + "/quotes", viewer)
    assert status == 403
    status, body = await _call("GET", f"{running.url}/api/pages/live?lang=ru")
    assert body["rooms"][LIVE_BROADCAST]["text"] == "0 зрителей"


async def test_unknown_room_is_a_translated_404(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    async with aiohttp.ClientSession() as http, http.get(
            f"{running.url}/watch/no-such-room?lang=ja", headers={"Accept": "text/html"}) as r:
        assert r.status == 404 and "ページが見つかりません" in await r.text()
    async with aiohttp.ClientSession() as http, http.get(
            f"{running.url}/forum/{LIVE_BROADCAST}?lang=ja", allow_redirects=False) as r:
        assert (r.status, r.headers["Location"]) == (302, f"/watch/{LIVE_BROADCAST}?lang=ja")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_code_has_a_sentence_in_every_language(lang: str) -> None:
    strings = client_strings(load_catalogs(), lang)  # type: ignore[arg-type]
    assert set(strings["errors"]) == set(ERRORS)
    english = client_strings(load_catalogs(), "en")
    for code, text in strings["errors"].items():
        assert text and ("_" not in code or code not in text)
        if lang != "en":
            assert text != english["errors"][code], code
    for key, text in strings["words"].items():
        assert text and (lang == "en" or text != english["words"][key]), key


def test_quote_log_is_bounded_per_room_and_in_rooms() -> None:
    log = QuoteLog(per_room=2, rooms=2)
    for n in range(3):
        log.add(QuoteRequest("a", f"p{n}", "Tea", "v", "V", "en", float(n)))
    log.add(QuoteRequest("b", "p", "Tea", "v", "V", "en", 9.0))
    log.add(QuoteRequest("c", "p", "Tea", "v", "V", "en", 9.0))
    assert log.of_room("a") == []  # the least recently used room went first
    assert [q.room_id for q in log.of_room("b") + log.of_room("c")] == ["b", "c"]
    log = QuoteLog(per_room=2)
    for n in range(3):
        log.add(QuoteRequest("a", f"p{n}", "Tea", "v", "V", "en", float(n)))
    assert [q.product_id for q in log.of_room("a")] == ["p1", "p2"]
