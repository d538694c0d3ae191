"""The running app, black-box over HTTP: health, readiness, metrics, lobby in six languages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from config import LANGUAGES
from tests.fixtures.pavilion import RunningApp
from tests.fixtures.redis_server import RedisServer

StartApp = Callable[..., Awaitable[RunningApp]]
LIVE_NOW = {
    "zh": "正在直播",
    "en": "Live now",
    "ja": "ライブ配信中",
    "ko": "지금 라이브",
    "ru": "Сейчас в эфире",
    "mn": "Одоо шууд",
}
NEW_MEDIA = {
    "zh": "新媒体直播馆",
    "en": "New Media Live Broadcast Pavilion",
    "ja": "ニューメディア・ライブ配信館",
    "ko": "뉴미디어 라이브방송관",
    "ru": "Павильон новых медиа и прямых трансляций",
    "mn": "Шинэ медиа, шууд дамжуулалтын павильон",
}


async def get(url: str, **kw: Any) -> tuple[int, str, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http, http.get(url, **kw) as response:
        return response.status, await response.text(), response


async def test_health_ready_metrics(pavilion_app: StartApp) -> None:
    running = await pavilion_app()
    status, body, _ = await get(running.url + "/healthz")
    assert status == 200
    status, body, _ = await get(running.url + "/readyz")
    assert (status, body) == (200, '{"ready": true}')
    await get(running.url + "/")
    status, body, response = await get(running.url + "/metrics")
    assert status == 200 and response.content_type == "text/plain"
    assert 'pavilion_http_requests_total{method="GET",route="/",status="200"} 1.0' in body
    assert "process_cpu_seconds_total" in body


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_lobby_in_each_language(pavilion_app: StartApp, lang: str) -> None:
    running = await pavilion_app(demo=True)
    status, body, response = await get(running.url + f"/?lang={lang}")
    assert status == 200
    assert f'<html lang="{lang}"' in body
    assert LIVE_NOW[lang] in body and NEW_MEDIA[lang] in body
    assert response.headers["Content-Language"] == lang
    assert response.cookies["pavilion_lang"].value == lang


async def test_language_from_cookie_then_header(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=True, default_language="ru")
    _, body, _ = await get(running.url + "/", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="ko"' in body
    _, body, _ = await get(
        running.url + "/", headers={"Cookie": "pavilion_lang=ja", "Accept-Language": "ko"}
    )
    assert '<html lang="ja"' in body
    _, body, _ = await get(running.url + "/", headers={"Accept-Language": "de"})
    assert '<html lang="ru"' in body


async def test_demo_expo_shows_the_seven_pavilions_and_sample_rooms(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=True)
    _, body, _ = await get(running.url + "/?lang=en")
    assert body.count('class="pavilion"') == 7
    for kind in ("kind-broadcast", "kind-forum"):
        assert kind in body
    assert "kind-meeting" not in body, "trade meetings are private"


async def test_no_demo_means_an_empty_lobby(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=False)
    _, body, _ = await get(running.url + "/?lang=en")
    assert "Nothing is live right now." in body and 'class="card' not in body


async def test_search_filters_and_escapes(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=True)
    _, body, _ = await get(running.url + "/", params={"lang": "en", "q": "<script>x</script>"})
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert 'class="card' not in body


async def test_not_found_page_is_translated_for_people(pavilion_app: StartApp) -> None:
    running = await pavilion_app()
    status, body, _ = await get(running.url + "/nope?lang=ko", headers={"Accept": "text/html"})
    assert status == 404 and "페이지를 찾을 수 없습니다" in body
    status, body, _ = await get(running.url + "/nope", headers={"Accept": "application/json"})
    assert status == 404 and "<html" not in body


@pytest.mark.redis
async def test_readiness_follows_redis(
    pavilion_app: StartApp, redis_factory: Callable[[], RedisServer]
) -> None:
    server = redis_factory()
    running = await pavilion_app(redis_url=server.url, demo=True)
    assert (await get(running.url + "/readyz"))[0] == 200
    server.stop()
    status, body, _ = await get(running.url + "/readyz")
    assert status == 503 and '"reason"' in body
    assert (await get(running.url + "/healthz"))[0] == 200
    status, body, _ = await get(running.url + "/?lang=zh")
    assert status == 503 and "服务暂时不可用" in body
    server.start()
    for _ in range(100):
        if (await get(running.url + "/readyz"))[0] == 200:
            break
        await asyncio.sleep(0.1)
    assert (await get(running.url + "/readyz"))[0] == 200


async def test_search_finds_a_room_by_its_product_in_any_language(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=True)
    _, body, _ = await get(running.url + "/", params={"lang": "ko", "q": "подарочный НАБОР"})
    assert body.count('data-room=') == 1 and 'data-room="jilin-ginseng-live"' in body
    assert "판매 상품: 창바이산 인삼 선물 세트" in body
    _, body, _ = await get(running.url + "/", params={"lang": "en", "q": "no such product"})
    assert 'data-room=' not in body and "No rooms match" in body


async def test_every_page_links_to_trade_meetings_in_its_language(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=True)
    _, body, _ = await get(running.url + "/?lang=ja")
    assert '<a class="nav-meetings" href="/meetings?lang=ja">' in body
    status, _, _ = await get(running.url + "/meetings?lang=ja")
    assert status == 200


async def test_settle_freezes_what_start_up_left_alive():
    """web/heap.py: start-up objects leave the collector's walk (gc.freeze), and a cycle made
    afterwards is still collected."""
    import gc

    from aiohttp import web as aioweb

    from web import heap

    try:
        await heap.settle(aioweb.Application())
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # this process imported aiortc, PyAV, aiohttp, ...
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # later garbage is still found
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()  # the rest of the test session collects as before
