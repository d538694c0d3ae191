"""Issue 15 §6 in real Chromium: the studio's "Recordings" panel lists the room's recording, and
its host renames it, publishes it (the lobby then lists it), downloads its file (the bytes on
disk) and deletes it, in Russian with no English shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.demo import LIVE_BROADCAST
from tests.pages.helpers import STAFF, shoot, token, unlabeled, until, untranslated
from tests.pages.replay_media import FILE, HOST, Start, make_webm, recorded, start
from web.keys import BACKEND_KEY

pytestmark = pytest.mark.browser
REC = "rec_studiopanel1"


async def lobby_lists(url: str, rec_id: str) -> bool:
    async with aiohttp.ClientSession() as http, http.get(url + "/?lang=ru") as response:
        return f'data-recording="{rec_id}"' in await response.text()


async def test_the_host_renames_publishes_downloads_and_deletes_a_recording(
        pavilion_app: Start, browser: Any, tmp_path: Path) -> None:
    webm = await asyncio.to_thread(make_webm, tmp_path)
    running = await start(pavilion_app, tmp_path)
    await recorded(running, webm, REC, published=False)
    store = running.app[BACKEND_KEY].store
    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    answers = iter(["Открытие выставки", True])  # the prompt's new title, then the confirm

    async def answer(dialog: Any) -> None:
        value = next(answers)
        await (dialog.accept(value) if isinstance(value, str) else dialog.accept())

    page.on("dialog", lambda dialog: asyncio.ensure_future(answer(dialog)))
    host = token(HOST, LIVE_BROADCAST, STAFF)
    await page.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token={host}&lang=ru")
    item = page.locator(f'#recordings li[data-recording="{REC}"]')
    await until(item.count, "the recording in the studio")
    assert "Не опубликована" in await item.inner_text()
    assert "2026" in await item.locator("time").inner_text()  # in the host's zone, labelled
    assert "(UTC" in await item.locator("time").inner_text()
    assert await page.locator("#rec-toggle").is_visible()  # the host may record
    assert await untranslated(page) == [] and await unlabeled(page) == []

    await item.locator("button.rename").click()
    await until(lambda: item.locator(".title", has_text="Открытие выставки").count(),
                "the new title")
    assert (await store.get_recording(REC)).title == "Открытие выставки"
    assert not await lobby_lists(running.url, REC)
    await item.locator("button.publish").click()
    await until(lambda: item.locator(".badge.published").count(), "the published badge")
    assert (await store.get_recording(REC)).published
    assert await lobby_lists(running.url, REC)
    await shoot(page, "studio-recordings-ru")

    async with page.expect_download() as download_info:
        await item.locator("button.download").click()
    download = await download_info.value
    assert download.suggested_filename == FILE
    saved = await download.path()
    assert saved is not None
    assert await asyncio.to_thread(Path(saved).read_bytes) == await asyncio.to_thread(
        webm.read_bytes)

    await item.locator("button.delete").click()

    async def gone() -> bool:
        return await item.count() == 0 and await store.get_recording(REC) is None

    await until(gone, "the deleted recording")
    assert await page.locator("#no-recordings").is_visible()
    assert errors == []
