"""Issue 17 §5: the lobby's card of a forum (and the forum's page) says which interpretation
languages it offers (the room record's, each named in itself); a room without interpretation
says nothing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import aiohttp

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM
from tests.fixtures.pavilion import RunningApp


def card(html: str, room: str) -> str:
    found = re.search(rf'<li class="card[^"]*" data-room="{room}">(.*?)</li>', html, re.S)
    assert found, room
    return found.group(1)


async def test_the_forum_card_names_its_languages_in_the_visitors_language(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    app = await pavilion_app(demo=True)  # the demo forum announces the expo's six languages
    async with aiohttp.ClientSession() as http:
        for lang, words in (("en", ["Interpretation:", "中文", "Монгол"]),  # each in itself
                            ("ja", ["通訳：", "日本語", "English"]),
                            ("ru", ["Перевод:", "한국어", "Русский"])):
            async with http.get(f"{app.url}/?lang={lang}") as response:
                html = await response.text()
            forum = card(html, LIVE_FORUM)
            assert all(word in forum for word in words), (lang, forum)
            assert 'class="interpretation"' not in card(html, LIVE_BROADCAST)


async def test_the_forum_page_says_so_too(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    app = await pavilion_app(demo=True)
    async with aiohttp.ClientSession() as http, http.get(
            f"{app.url}/forum/{LIVE_FORUM}?lang=ko") as response:
        html = await response.text()
    offered = re.search(r'<p class="interpretation-offered">(.*?)</p>', html, re.S)
    assert offered and "통역" in offered.group(1) and "Монгол" in offered.group(1)
