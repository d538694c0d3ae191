"""A booked meeting lives for its slot in real Chromium (issue 12, points 1 and 2).

1. The host leaves (the Leave button, a closed tab) before and during the slot, and comes back;
   the buyer can still join, in any order. Only the host's "End meeting for everyone" ends it.
2. A join link opened early says when the room opens, in the visitor's zone with its label, and
   the page opens the meeting by itself at that time.

Desktop and a 390×844 phone, Korean, Russian and Mongolian pages. Tokens are checked against the
real time, so the slot is booked in real time; the meetings' clock (the agenda) is moved instead
of waiting for the slot's end.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rooms.room import RoomState
from rooms.trade.request import Action, MeetingRequest
from rooms.trade.service import Caller
from tests.meetings.api import PROFILE
from tests.meetings.flow import link_token
from tests.pages.helpers import shoot, unlabeled, until, untranslated

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ORGANISER = Caller("org", "Organiser", organiser=True)
SELLER = Caller("faw", "王", exhibits=True)
BUYER = Caller("ivanov", "Иван Иванов", delegate=True)


async def book(node: Any, starts_in_s: float) -> MeetingRequest:
    """Profile, one 15-minute slot ``starts_in_s`` from now (real time), booked and accepted."""
    service = node.bookings
    await service.put_profile(ORGANISER, {"id": "faw", **PROFILE})
    start = datetime.fromtimestamp(time.time() + starts_in_s, tz=UTC)
    [slot] = await service.publish(ORGANISER, "faw", [
        {"starts_at": start.isoformat(), "length_min": 15, "languages": ["ru", "en"]}])
    request = await service.request(BUYER, slot.id, time_zone="Europe/Moscow")
    return await service.act(SELLER, request.id, Action.ACCEPT)


async def join_url(node: Any, who: Caller, meeting: MeetingRequest, lang: str) -> str:
    link = await node.bookings.join_link(who, meeting.id)
    return link.url.replace(node.bookings._base_url, node.url) + f"&lang={lang}"


async def test_host_leaves_and_returns_before_and_during_the_slot(
        meetings_node: Any, browser: Any) -> None:
    node = await meetings_node(signaling={"reconnect_grace_s": 1.0})
    meeting = await book(node, starts_in_s=120)  # the meetings' clock is 10 minutes behind
    host_url = await join_url(node, SELLER, meeting, "ko")
    buyer_url = await join_url(node, BUYER, meeting, "ru")
    errors: list[str] = []
    desktop = await browser.new_context(timezone_id="Asia/Seoul")
    phone = await browser.new_context(timezone_id="Europe/Moscow", **PHONE)
    host, buyer = await desktop.new_page(), await phone.new_page()
    for page in (host, buyer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Before the slot: the host looks in and leaves (the Leave button), then closes the tab.
    await host.goto(host_url)
    await until(lambda: host.locator("#door").is_visible(), "the host's door")
    assert await host.locator("#end-meeting").is_visible()
    await host.click("#leave")
    await host.close()
    await _gone(node, meeting, "faw")
    room = await node.bookings.rooms.store.get_room(meeting.room_id)
    assert room is not None and room.state is not RoomState.ENDED

    # The buyer (phone, Russian) comes while the host is away: the waiting room, not "ended".
    await buyer.goto(buyer_url)
    await until(lambda: buyer.locator("#waiting").is_visible(), "the buyer in the waiting room")
    assert await buyer.locator("#end-meeting").is_hidden()
    assert await untranslated(buyer) == [] and await unlabeled(buyer) == []

    # The host comes back and lets them in.
    host = await desktop.new_page()
    host.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(host_url)
    knock = host.locator("#knocks li", has_text="Иван Иванов")
    await until(knock.count, "the buyer's knock")
    await knock.locator("button.primary").click()
    await until(lambda: buyer.locator("#meeting-controls").is_visible(), "the buyer inside")

    # During the slot the host's tab drops; the agenda ticks; the meeting goes on.
    node.clock.jump_to(meeting.starts_at.timestamp() + 60)
    await host.close()
    await _gone(node, meeting, "faw")
    await node.tick()
    room = await node.bookings.rooms.store.get_room(meeting.room_id)
    assert room is not None and room.state is not RoomState.ENDED
    assert await buyer.locator("#meeting-controls").is_visible()
    view = await node.bookings.view(BUYER, meeting.id)
    assert view.request.state.value == "accepted"

    # The buyer reloads (rejoins) while the host is away, and the host returns once more.
    await buyer.reload()
    await until(lambda: buyer.locator("#meeting-controls").is_visible(), "the buyer back in")
    host = await desktop.new_page()
    host.on("pageerror", lambda exc: errors.append(str(exc)))
    await host.goto(host_url)
    await until(lambda: host.locator("#meeting-controls").is_visible(), "the host back in")
    assert await untranslated(host) == [] and await unlabeled(host) == []

    # Only the host's explicit "End meeting for everyone" ends it.
    await host.click("#end-meeting")
    await buyer.locator("#notice").filter(has_text="закрыта").wait_for(timeout=15_000)
    room = await node.bookings.rooms.store.get_room(meeting.room_id)
    assert room is not None and room.state is RoomState.ENDED
    await node.tick()  # the agenda sees it ended: held, over, to be rated
    assert (await node.bookings.view(BUYER, meeting.id)).request.state.value == "completed"
    await buyer.goto(f"{node.url}/meetings/mine?lang=ru&token="
                     + link_token("ivanov", "Иван Иванов"))
    held = buyer.locator(f"li[data-request='{meeting.id}'][data-state=completed]")
    await until(held.count, "the meeting held in the buyer's list")
    assert await held.locator("button[data-action=join]").count() == 0
    assert errors == []
    await desktop.close()
    await phone.close()


async def _gone(node: Any, meeting: MeetingRequest, identity: str) -> None:
    store = node.bookings.rooms.store

    async def left() -> bool:
        return await store.get_participant(meeting.room_id, identity) is None

    # a closed tab's socket may only be noticed at the ping timeout (python-socketio: ~45 s)
    await until(left, f"{identity} out of the room", tries=900)


@pytest.mark.parametrize(("lang", "zone", "device", "shot"), [
    ("ko", "Asia/Seoul", {}, "meeting-opens-ko"),
    ("mn", "Asia/Ulaanbaatar", PHONE, "meeting-opens-mn-phone"),
])
async def test_an_early_link_says_when_and_opens_by_itself(
        meetings_node: Any, browser: Any, lang: str, zone: str, device: dict[str, Any],
        shot: str) -> None:
    node = await meetings_node()
    policy = node.bookings.policy
    # opens in ~15 s: time to load the page, read it and take its picture first (a few
    # seconds), then the page's own countdown (opening.js) reloads it when the link works
    meeting = await book(node, starts_in_s=policy.join_early_s + 15)
    url = await join_url(node, BUYER, meeting, lang)
    context = await browser.new_context(timezone_id=zone, **device)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = await page.goto(url)
    assert response is not None and response.status == 403
    opens = page.locator("#opens-at")
    await until(lambda: opens.get_attribute("title"), "the opening time in the visitor's zone")
    text = await page.locator("#notice").inner_text()
    local = datetime.fromtimestamp(
        meeting.starts_at.timestamp() - policy.join_early_s, tz=ZoneInfo(zone))
    label = {"Asia/Seoul": "(UTC+9)", "Asia/Ulaanbaatar": "(UTC+8)"}[zone]
    assert local.strftime("%H:%M") in text and label in text, text
    assert re.search(r"\d", await page.locator("#opens-in").inner_text())
    if lang == "mn":
        assert "оны" in text and "сарын" in text, text  # Mongolian date rules, not English
    else:
        assert "이 회의는" in text, text
    assert "not valid" not in text and await untranslated(page) == []
    await shoot(page, shot)
    # The page opens the meeting by itself once the link works: the waiting room.
    await page.locator("#waiting").wait_for(state="visible", timeout=90_000)
    assert errors == []
    await context.close()
