"""Exhibitor profile, demo booking and times with their zones, in real Chromium (issue 12, points
3 and 4). Desktop and a 390×844 phone; Chinese, Russian, Korean and Mongolian pages.

- An exhibitor without a profile opens the dashboard: a translated sentence and "create your
  profile" (it was "Something went wrong"); the profile page creates it (names in six
  languages, description, languages as boxes, a zone from the IANA list) and the dashboard then
  publishes a slot from the same pickers; the slot shows its zone label.
- A newcomer on a demo node follows the meetings page's demo delegate link, sees several seeded
  exhibitors, books a slot, and the demo exhibitor's dashboard link accepts it; times carry the
  zone label, and Mongolian dates follow Mongolian rules, not English.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.meetings.flow import link_token
from tests.pages.helpers import shoot, unlabeled, until, untranslated

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SOMETHING_WRONG = {"zh": "出了点问题", "ru": "Что-то пошло не так"}


@pytest.mark.parametrize(("lang", "zone", "label", "device", "shot"), [
    ("zh", "Asia/Shanghai", "(UTC+8)", {}, "meetings-profile-zh"),
    ("ru", "Europe/Moscow", "(UTC+3)", PHONE, "meetings-profile-ru-phone"),
])
async def test_a_new_exhibitor_creates_a_profile_then_publishes(
        meetings_node: Any, browser: Any, lang: str, zone: str, label: str,
        device: dict[str, Any], shot: str) -> None:
    node = await meetings_node()
    context = await browser.new_context(timezone_id=zone, **device)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    seller = link_token("faw", "王", exhibitor=True)
    await page.goto(f"{node.url}/meetings/dashboard/faw?lang={lang}&token={seller}")
    create = page.locator("#meetings-create-profile")
    await create.wait_for(timeout=15_000)
    status = await page.locator("#meetings-status").inner_text()
    assert SOMETHING_WRONG[lang] not in status and len(status) > len(await create.inner_text())
    assert await untranslated(page) == []
    await create.click()

    form = page.locator("#meetings-profile")
    await page.wait_for_url("**/meetings/profile/faw**")
    await until(lambda: form.locator("select[name=time_zone]").input_value(), "the zone")
    assert await form.locator("select[name=time_zone]").input_value() == zone  # the browser's
    await form.locator("input[name=name_en]").fill("Changchun Motors")
    await form.locator("input[name=name_zh]").fill("长春汽车")
    await form.locator("input[name=name_ru]").fill("Чанчунь Моторс")
    await form.locator("textarea[name=description_en]").fill("Electric trucks for export.")
    await form.locator("select[name=pavilion]").select_option("automobile")
    await form.locator("input[name=products]").fill("electric trucks, SUV")
    await form.locator("input[name=languages][value=ru]").check()
    await form.locator("input[name=languages][value=en]").check()
    await form.locator("select[name=time_zone]").select_option("Asia/Shanghai")
    assert await untranslated(page) == [] and await unlabeled(page) == []
    await shoot(page, shot)
    await form.locator("button[type=submit]").click()
    dashboard = page.locator("#meetings-dashboard-link")
    await dashboard.wait_for(timeout=15_000)
    saved = await node.bookings.profile("faw")
    assert saved.name.as_dict() == {"en": "Changchun Motors", "zh": "长春汽车",
                                    "ru": "Чанчунь Моторс"}
    assert saved.description.as_dict() == {"en": "Electric trucks for export."}
    assert set(saved.languages) == {lang, "ru", "en"} and saved.time_zone == "Asia/Shanghai"
    assert saved.products == ("electric trucks", "SUV")

    await dashboard.click()
    publish = page.locator("#meetings-publish")
    await publish.wait_for(timeout=15_000)
    await publish.locator("input[name=date]").fill("2030-03-04")
    await publish.locator("input[name=start]").fill("10:00")
    await publish.locator("select[name=time_zone]").select_option("Asia/Seoul")
    await publish.locator("input[name=languages][value=ko]").check()
    await publish.locator("button[type=submit]").click()
    slot = page.locator("#meetings-own-slots li[data-slot]")
    await until(slot.count, "the published slot")
    [published] = [s for s, _ in await node.bookings.slots("faw")]
    assert published.starts_at.isoformat() == "2030-03-04T01:00:00+00:00"  # 10:00 in Seoul
    assert label in await slot.first.inner_text()
    assert await page.locator("#meetings-create-profile").count() == 0
    assert errors == []
    await context.close()


def _demo_link(page_html: str, which: str) -> str:
    panel = re.search(r'<aside class="panel demo meetings-demo".*?</aside>', page_html, re.S)
    assert panel is not None
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', panel.group(0))]
    return next(link for link in links if link.startswith(which))


async def test_a_newcomer_books_on_a_demo_node_with_zones_and_mongolian_dates(
        meetings_node: Any, browser: Any) -> None:
    node = await meetings_node(demo=True)
    buyer_ctx = await browser.new_context(timezone_id="Asia/Ulaanbaatar", **PHONE)
    seller_ctx = await browser.new_context(timezone_id="Asia/Seoul")
    buyer, seller = await buyer_ctx.new_page(), await seller_ctx.new_page()
    errors: list[str] = []
    for page in (buyer, seller):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    await buyer.goto(f"{node.url}/meetings?lang=mn")
    await buyer.get_by_role("link", name=re.compile("төлөөлөгч")).first.click()  # demo delegate
    slots = buyer.locator("#meetings-slots input[name=slot]")
    await until(slots.count, "the demo exhibitor's free slots")
    cards = buyer.locator("#meetings-exhibitors li.card")
    await until(lambda: _at_least(cards, 4), "several demo exhibitors")
    text = await buyer.locator("#meetings-slots li").first.inner_text()
    assert re.search(r"\d{4} оны \d{1,2}-р сарын \d{1,2} \d\d:\d\d \(UTC\+8\)", text), text
    assert not re.search(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec", text)
    assert await untranslated(buyer) == []
    await slots.first.check()
    await buyer.click("#meetings-send")
    await until(lambda: buyer.locator("#meetings-status").inner_text(), "the confirmation")

    page_html = await buyer.content()
    dashboard = _demo_link(page_html, "/meetings/dashboard/")
    await seller.goto(node.url + dashboard.replace("lang=mn", "lang=ko"))
    accept = seller.locator("#meetings-awaiting li[data-state=pending] button[data-action=accept]")
    await until(accept.count, "the request at the demo exhibitor")
    assert "(UTC+9)" in await seller.locator("#meetings-awaiting li").first.inner_text()
    await accept.click()
    await until(seller.locator("#meetings-upcoming li[data-state=accepted]").count, "booked")
    assert await untranslated(seller) == [] and await unlabeled(seller) == []

    await buyer.goto(f"{node.url}/meetings/mine?lang=mn")
    booked = buyer.locator("#meetings-mine li[data-state=accepted]")
    await until(booked.count, "the buyer's booked meeting")
    assert "(UTC+8)" in await booked.first.inner_text()
    assert errors == []
    await buyer_ctx.close()
    await seller_ctx.close()


async def _at_least(locator: Any, n: int) -> bool:
    return bool(await locator.count() >= n)
