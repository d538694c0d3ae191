"""Private stays private (issue 11): a booked trade meeting's room is never listed in the lobby,
found by its search, or counted in a pavilion; neither is the demo expo's sample meeting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from rooms.demo import MEETING
from tests.meetings.api import PROFILE
from tests.meetings.flow import link_token

BUYER = "Batbold Dorj"


async def _api(http: aiohttp.ClientSession, method: str, url: str, token: str,
               body: Any = None) -> Any:
    async with http.request(method, url, json=body,
                            headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status < 300, await response.text()
        return await response.json()


async def _book(url: str, http: aiohttp.ClientSession) -> dict[str, Any]:
    """faw's host publishes a slot tomorrow, a delegate requests it, faw accepts: a meeting."""
    seller = link_token("faw", exhibitor=True)
    base = f"{url}/api/meetings"
    await _api(http, "PUT", f"{base}/exhibitors/faw", seller, PROFILE)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=7, minute=45, second=0,
                                                            microsecond=0)
    made = await _api(http, "POST", f"{base}/exhibitors/faw/slots", seller, {"slots": [
        {"starts_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "length_min": 30,
         "languages": ["en"]}]})
    buyer = link_token("batbold", BUYER)
    request = await _api(http, "POST", f"{base}/requests", buyer,
                         {"slot_id": made["slots"][0]["id"]})
    return await _api(http, "POST", f"{base}/requests/{request['id']}/accept",  # type: ignore[no-any-return]
                      seller)


async def test_a_booked_meeting_is_nowhere_in_the_lobby_or_its_search(meetings_node: Any) -> None:
    node = await meetings_node(demo=True)
    async with aiohttp.ClientSession() as http:
        meeting = await _book(node.url, http)
        room = await node.bookings.rooms.store.get_room(meeting["room_id"])
        assert room is not None and BUYER in room.title.get("en"), "the room really exists"
        starts = datetime.fromisoformat(meeting["starts_at"].replace("Z", "+00:00"))
        secrets = [BUYER, "batbold", meeting["room_id"], MEETING, "Changchun Motors",
                   starts.strftime("%Y-%m-%d %H:%M UTC"), starts.isoformat()]
        pages = []
        for query in ("", BUYER, "Batbold", "faw", "Changchun", "mtg-", "cashmere", "meeting"):
            async with http.get(f"{node.url}/", params={"lang": "en", "q": query}) as response:
                assert response.status == 200
                pages.append((await response.text()).replace(query, "") if query else
                             await response.text())  # a search echoes its own query
    assert 'data-room="jilin-ginseng-live"' in pages[0], "the lobby lists public rooms"
    for page in pages:
        assert 'class="card kind-meeting' not in page and "Private: by invitation" not in page
        assert [s for s in secrets if s in page] == []
    assert pages[1].count("data-room=") == 0 and "No rooms match" in pages[1]
    public = [r for r in await node.bookings.rooms.store.list_rooms()
              if r.pavilion.value == "automobile" and r.kind.value != "meeting"
              and r.state.value != "ended"]
    tile = re.search(r'data-pavilion="automobile">.*?class="pavilion-count">(\d+) ', pages[0], re.S)
    assert tile is not None and int(tile.group(1)) == len(public), "meetings are not counted"
