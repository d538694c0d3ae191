"""Issue 17 §8: who may open the interpreter console (``/interpret/{room}?token=``). The route
asks the one gate (rooms.gate.decide_console); a refusal is the page with a translated
sentence, never a raw code (the matrix row is ``page.interpret`` in tests/security)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.pages.helpers import STAFF

CONFIG = re.compile(r'<script type="application/json" id="config">(.*?)</script>', re.S)


def interpreter(room: str, languages: tuple[str, ...] = ("ko", "zh")) -> str:
    return mint(TEST_SECRET, identity="interp-kim", room=room, ttl_s=600, name="Kim",
                grants=(Grant.JOIN, Grant.SUBSCRIBE, Grant.INTERPRET), languages=languages)


async def get(app: RunningApp, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(app.url + path) as response:
        return response.status, await response.text()


async def test_an_interpreter_opens_the_console_in_their_language(
    pavilion_app: Callable[..., Awaitable[RunningApp]]
) -> None:
    app = await pavilion_app(demo=True)
    status, body = await get(app, f"/interpret/{LIVE_FORUM}?lang=ko&token="
                                  + interpreter(LIVE_FORUM))
    assert status == 200
    config = json.loads(CONFIG.search(body).group(1))  # type: ignore[union-attr]
    assert config["role"] == "interpreter" and config["identity"] == "interp-kim"
    assert 'id="on-air"' in body and 'id="relay"' in body and 'id="cough"' in body
    assert "부스" in body and "rooms/interpret.js" in body  # "Booth" in Korean, the module


@pytest.mark.parametrize("who", ["nobody", "staff", "viewer", "other_room", "broadcast"])
async def test_everyone_else_is_refused_with_a_sentence(
    pavilion_app: Callable[..., Awaitable[RunningApp]], who: str
) -> None:
    app = await pavilion_app(demo=True)
    room = LIVE_BROADCAST if who == "broadcast" else LIVE_FORUM
    tokens = {
        "nobody": "",
        "staff": mint(TEST_SECRET, identity="mod", room=room, grants=STAFF, ttl_s=600),
        "viewer": mint(TEST_SECRET, identity="v", room=room, ttl_s=600,
                       grants=(Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)),
        "other_room": interpreter("another-forum"),
        "broadcast": interpreter(LIVE_BROADCAST),
    }
    status, body = await get(app, f"/interpret/{room}?lang=en&token={tokens[who]}")
    assert status == 403
    assert "rooms/interpret.js" not in body  # no console, no connection
    assert re.search(r"not allowed|access link|another room", body), body[-600:]
    assert not re.search(r"\b(missing_grant|not_allowed|wrong_room|token_missing)\b",
                         body.split('id="i18n"')[0])
