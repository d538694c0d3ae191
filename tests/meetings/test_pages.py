"""The meeting pages render in every language, with their strings and config for the script."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from config import LANGUAGES

PAGES = ["/meetings", "/meetings/mine", "/meetings/dashboard/faw"]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_pages_render_translated(pavilion_app, lang: str) -> None:  # type: ignore[no-untyped-def]
    app = await pavilion_app(demo=False)
    async with aiohttp.ClientSession() as http:
        for path in PAGES:
            async with http.get(f"{app.url}{path}?lang={lang}&exhibitor=<b>x") as response:
                assert response.status == 200
                page = await response.text()
            assert f'<html lang="{lang}"' in page
            strings = json.loads(re.search(
                r'id="meetings-i18n">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
            config = json.loads(re.search(
                r'id="meetings-config">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
            assert config["api"] == "/api/meetings" and config["lang"] == lang
            assert "<b>" not in page, "query text never reaches the page unescaped"
            if lang != "en":
                assert strings["words"]["join"] != "Join the meeting"
                assert strings["errors"]["slot_taken"].startswith("Someone") is False
