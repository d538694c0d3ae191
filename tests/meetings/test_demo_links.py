"""Demo mode still lets a newcomer try trade docking (issue 11): the meetings pages hand out a demo
delegate's link and the demo exhibitor's dashboard link, and with them the whole booking works."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from rooms.demo import MEETING
from rooms.trade.demo import DEMO_EXHIBITOR


async def _get(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as response:
        assert response.status == 200, url
        return await response.text()


async def _api(http: aiohttp.ClientSession, method: str, url: str, token: str,
               body: Any = None, status: int = 200) -> Any:
    async with http.request(method, url, json=body,
                            headers={"Authorization": f"Bearer {token}"}) as response:
        data = await response.json()
        assert response.status == status, data
        return data


def demo_links(page: str) -> list[str]:
    panel = re.search(r'<aside class="panel demo meetings-demo".*?</aside>', page, re.S)
    assert panel is not None, "the demo panel"
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', panel.group(0))]


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_demo_links_book_and_accept_a_meeting(meetings_node: Any) -> None:
    node = await meetings_node(demo=True)
    api = f"{node.url}/api/meetings"
    async with aiohttp.ClientSession() as http:
        page = await _get(http, f"{node.url}/meetings?lang=mn")
        assert "Худалдааны уулзалтыг туршиж үзэх" in page
        delegate_link, dashboard_link, room_link = demo_links(page)
        assert delegate_link.startswith(f"/meetings?exhibitor={DEMO_EXHIBITOR}&lang=mn&")
        assert dashboard_link.startswith(f"/meetings/dashboard/{DEMO_EXHIBITOR}?lang=mn&")
        assert room_link == f"/meeting/{MEETING}?lang=mn"
        for link in (delegate_link, dashboard_link):
            await _get(http, node.url + link)
        async with http.get(node.url + room_link) as response:  # by invitation: 403, and the
            room_page = await response.text()                     # room's own demo links
        assert response.status == 403 and f'href="/meeting/{MEETING}?token=' in room_page
        delegate, seller = token_of(delegate_link), token_of(dashboard_link)

        free = (await _api(http, "GET", f"{api}/exhibitors/{DEMO_EXHIBITOR}", delegate))["slots"]
        assert len(free) >= 3, "the demo exhibitor has free slots to book"
        made = await _api(http, "POST", f"{api}/requests", delegate,
                          {"slot_id": free[0]["id"], "message": "Сайн байна уу"}, status=201)
        board = await _api(http, "GET", f"{api}/exhibitors/{DEMO_EXHIBITOR}/dashboard", seller)
        assert [r["id"] for r in board["awaiting_requests"]] == [made["id"]]
        accepted = await _api(http, "POST", f"{api}/requests/{made['id']}/accept", seller)
        assert accepted["state"] == "accepted"

        # Each is only what it says: the delegate is no exhibitor, the exhibitor no delegate.
        refused = await _api(http, "PUT", f"{api}/exhibitors/{DEMO_EXHIBITOR}", delegate,
                             {"name": {"en": "Fake"}, "pavilion": "jilin"}, status=403)
        assert refused["error"]["code"] == "not_exhibitor"
        refused = await _api(http, "POST", f"{api}/requests", seller,
                             {"slot_id": free[1]["id"]}, status=403)
        assert refused["error"]["code"] == "not_delegate"


async def test_no_demo_links_outside_demo_mode(meetings_node: Any) -> None:
    node = await meetings_node()
    async with aiohttp.ClientSession() as http:
        for path in ("/meetings", "/meetings/mine", f"/meetings/dashboard/{DEMO_EXHIBITOR}"):
            page = await _get(http, f"{node.url}{path}?lang=en")
            assert "meetings-demo" not in page and "token=" not in page, path
        async with http.get(f"{node.url}/api/meetings/exhibitors") as response:
            assert (await response.json())["exhibitors"] == [], "no demo exhibitor either"
