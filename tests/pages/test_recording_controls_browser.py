"""Issue 15 §5 in real Chromium: the studio's host presses Record and every viewer sees the red
REC indicator (one already watching through ``room.recording``, one arriving later through the
join ack) until Stop; in a trade meeting the host's Record asks the guest first (a consent
dialog), the recording starts only when the guest agrees, and a decline records nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM, MEETING
from rooms.recording import RecordingState
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import GUEST, STAFF, shoot, token, unlabeled, until, untranslated
from web.keys import BACKEND_KEY

pytestmark = pytest.mark.browser
Start = Callable[..., Awaitable[RunningApp]]
INDICATOR = "#rec-indicator .rec-text"


async def shows_recording(page: Any) -> bool:
    return bool(await page.locator(INDICATOR).count())


async def quiet(page: Any) -> bool:
    return not await shows_recording(page)


async def connected(page: Any) -> bool:
    return bool(await page.evaluate("Boolean(window.pavilion?.connection?.joined)"))


async def test_the_host_records_and_every_viewer_sees_it(
        pavilion_app: Start, browser: Any, tmp_path: Path) -> None:
    running = await pavilion_app(demo=True, recordings={"dir": str(tmp_path)})
    errors: list[str] = []
    studio, viewer = await browser.new_page(), await browser.new_page()
    for page in (studio, viewer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    host = token("changbai-foods", LIVE_BROADCAST, STAFF, "长白山食品")
    await studio.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token={host}&lang=zh")
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=ru")
    await until(lambda: connected(studio), "the studio's session")
    await until(lambda: connected(viewer), "the viewer's session")
    assert await viewer.locator("#rec-toggle").is_hidden()  # a viewer may not record
    assert await quiet(viewer)

    await studio.click("#rec-toggle")
    await until(lambda: shows_recording(viewer), "the indicator at the viewer")
    assert await viewer.locator(INDICATOR).inner_text() == "Идёт запись"
    assert await viewer.locator("#rec-indicator").get_attribute("aria-live") == "polite"
    assert await studio.locator("#rec-toggle").inner_text() == "停止录制"
    assert await untranslated(viewer) == [] and await untranslated(studio) == []
    late = await browser.new_page()  # arrives while recording: the join ack says so
    late.on("pageerror", lambda exc: errors.append(str(exc)))
    await late.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=mn")
    await until(lambda: shows_recording(late), "the indicator for a late viewer")
    assert await unlabeled(late) == [] and await untranslated(late) == []
    await shoot(viewer, "watch-recording-ru")

    await studio.click("#rec-toggle")
    await until(lambda: quiet(viewer), "the indicator to go at the viewer")
    await until(lambda: quiet(late), "the indicator to go for the late viewer")
    [recording] = await running.app[BACKEND_KEY].store.list_recordings(room=LIVE_BROADCAST)
    assert recording.state is RecordingState.DONE and recording.started_by == "changbai-foods"
    listed = studio.locator(f'#recordings li[data-recording="{recording.id}"]')
    await until(listed.count, "the recording in the studio's list")
    assert errors == []


async def _meeting(running: RunningApp, browser: Any, errors: list[str]) -> tuple[Any, Any]:
    host, guest = await browser.new_page(), await browser.new_page()
    for page in (host, guest):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(f"{running.url}/meeting/{MEETING}?lang=ko&token="
                    + token("gobi-cashmere", MEETING, STAFF, "Gobi Cashmere"))
    await until(lambda: host.locator("#door").is_visible(), "the host's door")
    await guest.goto(f"{running.url}/meeting/{MEETING}?lang=ja&token="
                     + token("buyer-9", MEETING, GUEST, "Sato"))
    knock = host.locator("#knocks li", has_text="Sato")
    await until(knock.count, "the guest's knock")
    await knock.locator("button.primary").click()
    await until(lambda: guest.locator("#meeting-controls").is_visible(), "the guest inside")
    return host, guest


async def test_a_meeting_records_only_when_everyone_agrees(
        pavilion_app: Start, browser: Any, tmp_path: Path) -> None:
    running = await pavilion_app(demo=True, recordings={"dir": str(tmp_path)})
    errors: list[str] = []
    host, guest = await _meeting(running, browser, errors)
    assert await guest.locator("#rec-toggle").is_hidden()  # a guest may not record

    await host.click("#rec-toggle")
    dialog = guest.locator("#rec-consent")
    await until(dialog.is_visible, "the consent dialog at the guest")
    # the asker named as everywhere else on the page: the exhibitor in the reader's language
    assert "ゴビ・カシミヤ" in await guest.locator("#rec-consent-text").inner_text()
    assert await untranslated(guest) == [] and await unlabeled(guest) == []
    await until(lambda: host.locator("#rec-consent-state", has_text="Sato").is_visible(),
                "the host to see who is still asked")
    assert await quiet(host) and await quiet(guest)  # nothing recorded before the answer
    await shoot(guest, "meeting-consent-ja")
    await guest.click("#rec-agree")
    await until(lambda: shows_recording(host), "the indicator at the host")
    await until(lambda: shows_recording(guest), "the indicator at the guest")
    await until(dialog.is_hidden, "the consent dialog to close")
    await host.click("#rec-toggle")
    await until(lambda: quiet(guest), "the recording to stop")

    await host.click("#rec-toggle")  # asked again: this time the guest declines
    await until(dialog.is_visible, "the second consent dialog")
    await guest.click("#rec-decline")
    await until(lambda: host.locator("#notice", has_text="거절").is_visible(),
                "the host to hear of the decline")
    assert await quiet(host) and await quiet(guest)
    recordings = await running.app[BACKEND_KEY].store.list_recordings(room=MEETING)
    assert len(recordings) == 1  # the declined round recorded nothing
    assert errors == []


async def test_a_forum_moderator_records_and_the_audience_sees_it(
        pavilion_app: Start, browser: Any, tmp_path: Path) -> None:
    running = await pavilion_app(demo=True, recordings={"dir": str(tmp_path)})
    errors: list[str] = []
    moderator, audience = await browser.new_page(), await browser.new_page()
    for page in (moderator, audience):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    staff = token("moderator-1", LIVE_FORUM, STAFF, "Wang Fang")  # a name, not a label
    await moderator.goto(f"{running.url}/forum/{LIVE_FORUM}?lang=en&token={staff}")
    await audience.goto(f"{running.url}/forum/{LIVE_FORUM}?lang=ko")
    await until(lambda: connected(moderator), "the moderator's session")
    await until(lambda: connected(audience), "the audience's session")
    assert await audience.locator("#rec-toggle").is_hidden()
    await moderator.click("#rec-toggle")
    await until(lambda: shows_recording(audience), "the indicator in the audience")
    assert await audience.locator(INDICATOR).inner_text() == "녹화 중"
    assert await untranslated(audience) == []
    await moderator.click("#rec-toggle")
    await until(lambda: quiet(audience), "the indicator to go")
    assert errors == []
