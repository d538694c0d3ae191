"""Issue 15 §6 in real Chromium: a replay page plays a real WebM (VP8 + Opus, made by ffmpeg) and
shows the chat and the pinned product card as they were at the video's current time, after
playing on and after seeking back and forth; an unpublished replay is the translated not-found
page without a token and plays with the host's; the lobby lists a published replay, and its
pavilion links to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM
from rooms.recording import FileKind
from rooms.room import RoomKind
from tests.pages.helpers import STAFF, shoot, token, unlabeled, until, untranslated
from tests.pages.replay_media import HOST, SECONDS, Start, make_webm, recorded, start

pytestmark = pytest.mark.browser
ENDED_ROOM = "jilin-ice-snow"  # the demo's ended broadcast
SOURCE = "document.getElementById('video').currentSrc"
PLAY = "(v => { v.muted = true; return v.play(); })(document.getElementById('video'))"


@pytest.fixture(scope="module")
def webm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_webm(tmp_path_factory.mktemp("media"))


async def chat(page: Any) -> list[str]:
    return await page.locator("#chat-log li .text").all_inner_texts()  # type: ignore[no-any-return]


async def seek(page: Any, seconds: float) -> None:
    """Seek the paused video and wait for its ``seeked``: what is shown is then that moment's."""
    await page.evaluate("""(t) => new Promise((done) => {
        const video = document.getElementById("video");
        video.addEventListener("seeked", () => setTimeout(done, 50), { once: true });
        video.currentTime = t;
    })""", seconds)


async def test_replay_plays_and_the_chat_and_card_follow_the_time(
        pavilion_app: Start, browser: Any, tmp_path: Path, webm: Path) -> None:
    running = await start(pavilion_app, tmp_path)
    await recorded(running, webm, "rec_published01", published=True)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = await page.goto(f"{running.url}/replay/rec_published01?lang=ja")
    assert response.status == 200
    await until(lambda: page.evaluate("document.getElementById('video').readyState >= 1"),
                "the replay's metadata")
    duration = await page.evaluate("document.getElementById('video').duration")
    assert abs(duration - SECONDS) < 0.5, duration
    assert await chat(page) == [] and await page.locator("#no-chat").is_visible()
    assert await page.locator("#products li").count() == 0
    assert await untranslated(page) == [] and await unlabeled(page) == []

    await page.evaluate(PLAY)

    async def past(seconds: float) -> bool:
        return bool(await page.evaluate("document.getElementById('video').currentTime") > seconds)

    await until(lambda: past(0.8), "playback past the first message")
    await until(lambda: chat(page), "the first message while playing")
    assert (await chat(page))[0] == "最初の質問です"
    await until(lambda: past(1.7), "playback past the pin")  # currentTime advances
    await until(lambda: page.locator("#products li").count(), "the pinned card while playing")
    await page.evaluate("document.getElementById('video').pause()")

    await seek(page, 4.5)
    assert await chat(page) == ["最初の質問です", "ありがとうございます"]  # newest at the bottom
    assert await page.locator("#products li").count() == 0  # unpinned at 3.0
    assert await page.locator("#no-products").is_visible()
    await seek(page, 2.0)
    assert await chat(page) == ["最初の質問です"]  # a later message is hidden again
    card = page.locator("#products li")
    assert await card.count() == 1
    assert await card.locator(".name").inner_text() == "高麗人参茶"
    assert "120" in await card.locator(".price").inner_text()
    await seek(page, 0.2)
    assert await chat(page) == [] and await page.locator("#products li").count() == 0
    assert await untranslated(page) == []
    await seek(page, 2.0)
    await shoot(page, "replay-ja")
    assert errors == []


async def test_an_unpublished_replay_needs_the_hosts_link(
        pavilion_app: Start, browser: Any, tmp_path: Path, webm: Path) -> None:
    running = await start(pavilion_app, tmp_path)
    await recorded(running, webm, "rec_unpublished", published=False)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    viewer = token("visitor-b", LIVE_BROADCAST, STAFF[:1])
    for path in ("/replay/rec_unpublished", f"/replay/rec_unpublished?token={viewer}",
                 "/replay/rec_unpublished?token=not-a-token", "/replay/rec_nothing_here0",
                 "/replay/..%2Fetc"):
        response = await page.goto(f"{running.url}{path}{'&' if '?' in path else '?'}lang=ru")
        assert response.status == 404, path
        assert await page.locator("h1").inner_text() == "Страница не найдена", path
        assert await untranslated(page) == [], path
    host = token(HOST, LIVE_BROADCAST, STAFF)
    response = await page.goto(f"{running.url}/replay/rec_unpublished?token={host}&lang=ru")
    assert response.status == 200
    await until(lambda: page.evaluate("document.getElementById('video').readyState >= 1"),
                "the host's replay to load")
    src = await page.evaluate("document.getElementById('video').currentSrc")
    assert "/recordings/rec_unpublished/files/" in src and "sig=" in src, src
    # the language switcher keeps the host's link
    href = await page.locator('nav.languages a[hreflang="ko"]').get_attribute("href")
    assert "token=" in href and "lang=ko" in href
    assert await untranslated(page) == []
    assert errors == []


async def test_the_lobby_lists_a_published_replay_and_its_pavilion(
        pavilion_app: Start, browser: Any, tmp_path: Path, webm: Path) -> None:
    running = await start(pavilion_app, tmp_path)
    await recorded(running, webm, "rec_published02", published=True)
    await recorded(running, webm, "rec_unpublish02", published=False, started_at=1_767_300_000)
    await recorded(running, webm, "rec_icesnow001", published=True, started_at=1_767_000_000,
                   room=ENDED_ROOM)
    page = await browser.new_page(timezone_id="Asia/Seoul")
    await page.goto(f"{running.url}/?lang=ko")
    cards = page.locator("#replays .replay-card")
    assert [await c.get_attribute("data-recording") for c in await cards.all()] == [
        "rec_published02", "rec_icesnow001"]  # newest first; never the unpublished one
    ended = page.locator(f'.card[data-room="{ENDED_ROOM}"] .replay a')  # the ended room's card
    assert "/replay/rec_icesnow001" in (await ended.get_attribute("href") or "")
    card = page.locator('.replay-card[data-recording="rec_published02"]')
    assert "0:06" in await card.inner_text()
    assert "2026" in await card.locator("time").inner_text()  # in the visitor's zone (localtime.js)
    assert await untranslated(page) == [] and await unlabeled(page) == []
    tile = page.locator('.pavilion[data-pavilion="new-media"] .pavilion-replays')
    assert await tile.inner_text() == "다시보기 1개"
    await tile.click()
    await page.wait_for_url("**pavilion=new-media#replays")
    assert await page.locator("#replays .replay-card").count() == 1
    await shoot(page, "lobby-replays-ko")
    await card.locator("h3 a").click()
    await page.wait_for_url("**/replay/rec_published02?lang=ko")
    await until(lambda: page.evaluate("document.getElementById('video').readyState >= 1"),
                "the replay opened from the lobby")
    await page.goto(f"{running.url}/?lang=ko&pavilion=jilin")
    assert [await c.get_attribute("data-recording")
            for c in await page.locator("#replays .replay-card").all()] == ["rec_icesnow001"]
    await page.goto(f"{running.url}/?lang=ko&pavilion=automobile")
    assert await page.locator("#replays .replay-card").count() == 0
    assert await page.locator("#replays .empty").is_visible()


async def test_a_forum_replay_opens_the_program_and_offers_each_camera(
        pavilion_app: Start, browser: Any, tmp_path: Path, webm: Path) -> None:
    running = await start(pavilion_app, tmp_path)
    files = (("speaker-li.webm", FileKind.PARTICIPANT, "speaker-li"),
             ("program.webm", FileKind.PROGRAM, ""))
    await recorded(running, webm, "rec_forum000001", published=True, room=LIVE_FORUM,
                   kind=RoomKind.FORUM, files=files)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{running.url}/replay/rec_forum000001?lang=zh")
    await until(lambda: page.evaluate("document.getElementById('video').readyState >= 1"),
                "the program's metadata")
    assert "/files/program.webm" in await page.evaluate(SOURCE)  # the program comes first
    assert await page.locator("#file-picker").is_visible()
    assert await page.locator("#file option").all_inner_texts() == [
        "speaker-li 的摄像头", "节目画面：正在发言的人"]
    await seek(page, 3.0)
    await page.select_option("#file", index=0)

    async def switched() -> bool:
        at = await page.evaluate("document.getElementById('video').currentTime")
        return "/files/speaker-li.webm" in await page.evaluate(SOURCE) and abs(at - 3.0) < 0.5

    await until(switched, "the speaker's camera at the same moment")
    assert await untranslated(page) == [] and await unlabeled(page) == []
    assert errors == []
