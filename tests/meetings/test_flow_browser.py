"""The whole trade-meeting flow in real Chromium (issue 7): the exhibitor publishes a slot, the
buyer books it, the exhibitor accepts; at the (shifted) slot time both open their join links, the
exhibitor admits the buyer, both see each other's video; the room ends on time; both rate."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from rooms.room import RoomState
from rooms.trade.service import Caller
from tests.meetings.api import PROFILE
from tests.meetings.flow import link_token
from tests.pages.helpers import unlabeled, until, untranslated, video_flows

pytestmark = pytest.mark.browser
SELLER = link_token("faw", exhibitor=True)


async def put_profile(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.put(f"{url}/api/meetings/exhibitors/faw", json=PROFILE,
                            headers={"Authorization": "Bearer " + SELLER}) as r:
            assert r.status == 200, await r.text()


async def test_book_accept_meet_end_and_rate(meetings_node: Any, browser: Any) -> None:
    node = await meetings_node()
    await put_profile(node.url)
    errors: list[str] = []
    seller, buyer = await browser.new_page(), await browser.new_page()
    for page in (seller, buyer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The exhibitor publishes a 15-minute slot starting within two minutes (real time), in Tokyo.
    start = (math.floor(time.time() / 60) + 2) * 60
    local = datetime.fromtimestamp(start, tz=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    seller_link = link_token("faw", "王", exhibitor=True)
    await seller.goto(f"{node.url}/meetings/dashboard/faw?lang=zh&token={seller_link}")
    form = seller.locator("#meetings-publish")
    await form.locator("input[name=date]").fill(local.strftime("%Y-%m-%d"))
    await form.locator("input[name=start]").fill(local.strftime("%H:%M"))
    await form.locator("select[name=length_min]").select_option("15")
    await form.locator("select[name=time_zone]").select_option("Asia/Tokyo")
    await form.locator("input[name=languages][value=zh]").uncheck()
    await form.locator("input[name=languages][value=en]").check()
    await form.locator("input[name=languages][value=ru]").check()
    await form.locator("button[type=submit]").click()
    await until(seller.locator("#meetings-own-slots li[data-slot]").count, "the published slot")

    # The buyer finds it in the directory (Russian page), writes a message and requests it.
    await buyer.goto(f"{node.url}/meetings?lang=ru&exhibitor=faw&token="
                     + link_token("ivanov", "Иван Иванов"))
    await until(buyer.locator("#meetings-slots input[name=slot]").count, "the free slot")
    await buyer.locator("#meetings-slots input[name=slot]").first.check()
    await buyer.fill("#meetings-message", "Нужна цена на 20 грузовиков")
    await buyer.select_option("#meetings-interpreter", "zh")  # issue 17 §6: ask for one
    await buyer.click("#meetings-send")
    status = buyer.locator("#meetings-status")
    await until(lambda: status.inner_text(), "the request confirmation")
    assert "Запрос отправлен" in await status.inner_text()

    # The exhibitor sees the request and accepts it.
    await seller.reload()
    accept = seller.locator("#meetings-awaiting li[data-state=pending] button[data-action=accept]")
    await until(accept.count, "the request awaiting an answer")
    asked = seller.locator("#meetings-awaiting li[data-state=pending] .interpreter")
    assert "中文" in await asked.inner_text()  # the interpreter language the buyer asked for
    assert await untranslated(seller) == [] and await unlabeled(seller) == []
    await accept.click()
    await until(seller.locator("#meetings-upcoming li[data-state=accepted]").count,
                "the booked meeting")
    [meeting] = [r for r in await node.bookings.store.list_requests(exhibitor="faw")]
    assert meeting.message == "Нужна цена на 20 грузовиков"

    # The slot arrives: the meetings' clock moves to real time (the join window is open).
    node.clock.jump_to(time.time())
    await buyer.goto(f"{node.url}/meetings/mine?lang=ru")
    join = buyer.locator(f"li[data-request='{meeting.id}'] button[data-action=join]")
    await until(join.count, "the buyer's join button")
    assert await untranslated(buyer) == [] and await unlabeled(buyer) == []
    await join.click()
    await until(lambda: buyer.locator("#waiting").is_visible(), "the buyer in the waiting room")
    await seller.locator("#meetings-upcoming button[data-action=join]").click()
    await until(lambda: seller.locator("#door").is_visible(), "the exhibitor's door")
    knock = seller.locator("#knocks li", has_text="Иван Иванов")
    await until(knock.count, "the buyer's knock")
    await knock.locator("button.primary").click()
    await video_flows(buyer)
    await video_flows(seller)
    await node.tick()  # the agenda looks while both are in the room: attendance

    # The room ends at the slot's end plus the grace period.
    node.clock.jump_to(meeting.ends_at.timestamp() + node.bookings.policy.grace_s + 1)
    await node.tick()
    room = await node.bookings.rooms.store.get_room(meeting.room_id)
    assert room is not None and room.state is RoomState.ENDED
    view = await node.bookings.view(_caller("ivanov"), meeting.id)
    assert view.request.state.value == "completed" and view.attendance == "both_joined"

    # Both rate the meeting and keep a private note.
    await buyer.goto(f"{node.url}/meetings/mine?lang=ru")
    await _rate(buyer, meeting.id, "5", "Ждать прайс до пятницы")
    await seller.goto(f"{node.url}/meetings/dashboard/faw?lang=zh")
    await _rate(seller, meeting.id, "4", "周五前发报价")
    assert (await node.bookings.view(_caller("ivanov"), meeting.id)).mine.rating == 5
    seller_view = await node.bookings.view(_caller("faw"), meeting.id)
    assert (seller_view.mine.rating, seller_view.mine.note) == (4, "周五前发报价")
    assert errors == []


async def _rate(page: Any, request_id: str, stars: str, note: str) -> None:
    form = page.locator(f"li[data-request='{request_id}'] form.meetings-feedback")
    await until(form.count, "the feedback form")
    await form.locator("select[name=rating]").select_option(stars)
    await form.locator("textarea[name=note]").fill(note)
    await form.locator("button[type=submit]").click()
    await until(lambda: page.locator("#meetings-status").inner_text(), "the saved message")


def _caller(identity: str) -> Caller:
    return Caller(identity, exhibits=identity == "faw")
