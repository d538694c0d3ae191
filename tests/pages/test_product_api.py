"""Issue 12 (point 7) without a browser: the host edits and deletes cards, gives them a
description and a picture; pictures are checked by their bytes, capped, and served safely."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from rooms.picture import MAX_BYTES, PICTURES_PER_ROOM
from rooms.token import Grant, verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.pages import pictures
from tests.pages.helpers import STAFF, token
from tests.signaling.rtc_client import RtcClient
from web.keys import BACKEND_KEY

VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
HOST = token("changbai-foods", LIVE_BROADCAST, STAFF)
CARD = "jilin-rice-5kg"
Start = Callable[..., Awaitable[RunningApp]]


def _products(running: RunningApp) -> str:
    return f"{running.url}/api/pages/rooms/{LIVE_BROADCAST}/products"


async def _call(method: str, url: str, tok: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {tok}"}) as response:
        return response.status, await response.json()


async def _upload(url: str, tok: str, data: bytes,
                  content_type: str = "image/png") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {tok}", "Content-Type": content_type}
    async with aiohttp.ClientSession() as http, http.put(url, data=io.BytesIO(data),
                                                         headers=headers) as response:
        return response.status, await response.json()


async def test_a_chunked_upload_is_cut_off_past_the_cap(pavilion_app: Start) -> None:
    """No Content-Length to trust: the node stops reading once the body passes the cap."""
    running = await pavilion_app(demo=True)

    async def chunks() -> AsyncIterator[bytes]:
        yield pictures.png()
        for _ in range(MAX_BYTES // 65536 + 2):
            yield b"\x00" * 65536

    headers = {"Authorization": f"Bearer {HOST}", "Content-Type": "image/png"}
    async with aiohttp.ClientSession() as http, http.put(
            f"{_products(running)}/{CARD}/picture", data=chunks(), headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "picture_too_large"


async def test_edit_keeps_other_languages_and_the_room_hears_it(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    viewer_tok = token("visitor-e", LIVE_BROADCAST, VIEWER)
    viewer = await RtcClient.connect(running, viewer_tok)
    try:
        await viewer.ok("join", {"room": LIVE_BROADCAST})
        url = f"{_products(running)}/{CARD}"
        status, body = await _call("PATCH", url, viewer_tok, {"name": "x"})
        assert (status, body["error"]["code"]) == (403, "not_host")
        status, body = await _call("PATCH", url, HOST, {
            "language": "ru", "name": "Рис, 5 кг", "description": "Урожай 2026.\nВакуум.",
            "price": "79.5", "request_quote": False})
        assert status == 200, body
        card = body["product"]
        assert card["name"]["ru"] == "Рис, 5 кг" and card["name"]["zh"].startswith("吉林大米")
        assert card["description"] == {"ru": "Урожай 2026.\nВакуум."}
        assert (card["price"], card["request_quote"], card["pinned"]) == ("79.5", False, False)
        heard = await viewer.wait_for("product.updated")
        assert heard["product"] == card
        for change, code in (({"name": "  "}, "product_name"), ({"price": "-1"}, "bad_price"),
                             ({"description": "d" * 1001}, "bad_field"),
                             ({"description": "a\x07b"}, "description_control_chars"),
                             ({"language": "xx", "name": "n"}, "bad_language")):
            status, body = await _call("PATCH", url, HOST, change)
            assert (status, body["error"]["code"]) == (400, code), change
        status, body = await _call("DELETE", url, HOST)
        assert (status, body["product_id"]) == (200, CARD)
        assert (await viewer.wait_for("product.deleted"))["product_id"] == CARD
        status, body = await _call("DELETE", url, HOST)
        assert (status, body["error"]["code"]) == (404, "no_such_product")
        status, body = await _call("PATCH", url, HOST, {"name": "x"})
        assert (status, body["error"]["code"]) == (404, "no_such_product")
    finally:
        await viewer.close()


async def test_a_picture_is_served_by_its_bytes_with_safe_headers(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    url = f"{_products(running)}/{CARD}/picture"
    status, body = await _upload(url, HOST, pictures.png(3, 2), content_type="text/html")
    assert status == 200, body
    path = body["product"]["picture_url"]
    assert path.startswith(f"/pictures/{LIVE_BROADCAST}/") and path.endswith(".png")
    async with aiohttp.ClientSession() as http, http.get(running.url + path) as response:
        assert response.status == 200 and await response.read() == pictures.png(3, 2)
        headers = response.headers
        assert headers["Content-Type"] == "image/png"  # from the bytes, not the upload's header
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"] == "inline"
        assert "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers[
            "Cache-Control"]
        assert "sandbox" in headers["Content-Security-Policy"]
    status, body = await _upload(url, HOST, pictures.jpeg())
    assert status == 200 and body["product"]["picture_url"].endswith(".jpeg")
    async with aiohttp.ClientSession() as http:
        async with http.get(running.url + path) as gone:  # the replaced picture is forgotten
            assert gone.status == 404
        async with http.get(f"{running.url}/pictures/{LIVE_BROADCAST}/../../etc.png") as bad:
            assert bad.status == 404
        async with http.get(f"{running.url}/pictures/nowhere/{'0' * 64}.png") as bad:
            assert bad.status == 404


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    (pictures.SVG, "image/svg+xml", 400, "bad_picture"),
    (pictures.HTML, "image/png", 400, "bad_picture"),
    (pictures.GIF, "image/gif", 400, "bad_picture"),
    (pictures.FAKE_PNG, "image/png", 400, "bad_picture"),
    (pictures.FAKE_JPEG, "image/jpeg", 400, "bad_picture"),
    (pictures.FAKE_WEBP, "image/webp", 400, "bad_picture"),
    (pictures.png_header(8000, 8000), "image/png", 400, "picture_too_big"),
    (pictures.png() + b"\x00" * MAX_BYTES, "image/png", 400, "picture_too_large"),
    (b"", "image/png", 400, "picture_empty"),
    (b'{"picture": "x"}', "application/json", 400, "bad_picture"),
])
async def test_bad_uploads_are_refused_4xx(pavilion_app: Start, data: bytes, content_type: str,
                                           status: int, code: str) -> None:
    running = await pavilion_app(demo=True)
    got, body = await _upload(f"{_products(running)}/{CARD}/picture", HOST, data, content_type)
    assert (got, body["error"]["code"]) == (status, code)
    _, listed = await _call("GET", _products(running), HOST)
    assert all(not c["picture_url"].startswith("/pictures/") for c in listed["products"])


async def test_pictures_are_capped_per_room_and_need_the_host(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    viewer = token("visitor-p", LIVE_BROADCAST, VIEWER)
    await running.app[BACKEND_KEY].service.join(verify(TEST_SECRET, viewer), LIVE_BROADCAST)
    status, body = await _upload(f"{_products(running)}/{CARD}/picture", viewer, pictures.png())
    assert (status, body["error"]["code"]) == (403, "not_host")
    for n in range(PICTURES_PER_ROOM + 1):
        status, made = await _call("POST", _products(running), HOST,
                                   {"name": f"Card {n}", "currency": "CNY"})
        assert status == 201
        status, body = await _upload(f"{_products(running)}/{made['product']['id']}/picture",
                                     HOST, pictures.png(n + 1, 1))
        if n < PICTURES_PER_ROOM:
            assert status == 200, body
    assert (status, body["error"]["code"]) == (409, "pictures_full")
    status, body = await _call("DELETE", f"{_products(running)}/{made['product']['id']}", HOST)
    assert status == 200
    first = f"{_products(running)}/{CARD}/picture"
    status, body = await _upload(first, HOST, pictures.png(99, 1))
    assert status == 409, "deleting a card without a picture frees no place"


@pytest.mark.redis
async def test_a_picture_uploaded_on_one_node_is_served_by_another(pavilion_app: Start,
                                                                    redis_url: str) -> None:
    node_a = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-a")
    node_b = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-b")
    status, body = await _upload(f"{_products(node_a)}/{CARD}/picture", HOST,
                                 pictures.webp_lossless(30, 20), content_type="image/png")
    assert status == 200, body
    path = body["product"]["picture_url"]
    async with aiohttp.ClientSession() as http, http.get(node_b.url + path) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "image/webp"
        assert await response.read() == pictures.webp_lossless(30, 20)
