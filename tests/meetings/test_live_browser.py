"""Issue 12 (point 6) in real Chromium: the exhibitor's dashboard and the buyer's "my meetings"
redraw live when a trade-meeting notice arrives on the person's Socket.IO channel, with no reload
and no polling. Desktop (dashboard zh, my meetings ru) and a 390×844 phone (en, ja)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.meetings.api import PROFILE
from tests.meetings.flow import link_token
from tests.pages.helpers import until, untranslated

pytestmark = pytest.mark.browser
SELLER = link_token("faw", "王", exhibitor=True)
PHONE = {"width": 390, "height": 844}


async def _api(url: str, method: str, path: str, tok: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http, http.request(
            method, f"{url}/api/meetings{path}", json=body,
            headers={"Authorization": f"Bearer {tok}"}) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def _slot(url: str) -> str:
    await _api(url, "PUT", "/exhibitors/faw", SELLER, PROFILE)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    made = await _api(url, "POST", "/exhibitors/faw/slots", SELLER, {"slots": [{
        "date": tomorrow, "start": "10:00", "length_min": 30, "time_zone": "Asia/Shanghai",
        "languages": ["zh", "en", "ru"]}]})
    return str(made["slots"][0]["id"])


@pytest.mark.parametrize(("seller_lang", "buyer_lang", "viewport"), [
    ("zh", "ru", None), ("en", "ja", PHONE)])
async def test_dashboard_and_my_meetings_update_live(meetings_node: Any, browser: Any,
                                                     seller_lang: str, buyer_lang: str,
                                                     viewport: dict[str, int] | None) -> None:
    node = await meetings_node()
    slot_id = await _slot(node.url)
    errors: list[str] = []
    options = {"viewport": viewport, "is_mobile": True} if viewport else {}
    seller = await (await browser.new_context(**options)).new_page()
    buyer = await (await browser.new_context(**options)).new_page()
    for page in (seller, buyer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    buyer_token = link_token("ivanov", "Иван Иванов")
    await seller.goto(f"{node.url}/meetings/dashboard/faw?lang={seller_lang}&token={SELLER}")
    await buyer.goto(f"{node.url}/meetings/mine?lang={buyer_lang}&token={buyer_token}")
    for page in (seller, buyer):
        await until(lambda p=page: p.evaluate(
            "Boolean(window.pavilionMeetings?.socket?.connected)"), "the page's live socket")

    made = await _api(node.url, "POST", "/requests", buyer_token,
                      {"slot_id": slot_id, "message": "20 trucks", "time_zone": "Europe/Moscow"})
    accept = seller.locator(f"#meetings-awaiting li[data-request='{made['id']}'] "
                            "button[data-action=accept]")
    await until(accept.count, "the new request on the dashboard, without a reload")
    # (the buyer is not told of their own request: the page that sent it shows it)
    assert await buyer.locator(f"#meetings-mine li[data-request='{made['id']}']").count() == 0
    await accept.click()
    await until(lambda: buyer.locator(f"#meetings-mine li[data-request='{made['id']}']"
                                      "[data-state=accepted]").count(),
                "the acceptance in my meetings, live")
    if seller_lang != "en":
        assert await untranslated(seller) == []
    assert await untranslated(buyer) == []
    assert errors == []
