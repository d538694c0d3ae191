"""Who may do what in trade docking (issue 11), over HTTP on memory and a real redis-server.

Exhibitor work (profile, slots, requests list, dashboard, CSV) needs the organiser-issued
``exhibit`` grant for the exhibitor's own identity; requesting a meeting needs ``delegate``; the
organiser (``*`` + ``moderate``) may do both. A page-minted visitor token may do neither, and one
client address cannot make more than ``requests_per_client_per_hour`` requests.
"""

from __future__ import annotations

from typing import Any

import pytest

from rooms.clock import FakeClock
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind
from rooms.text import LocalizedText
from rooms.token import Grant
from tests.meetings.api import PROFILE, Client, app_for, call, settings
from tests.meetings.builders import NOW
from tests.meetings.test_api import exhibitor_with_slots
from web.page_access import visitor_for

MakeClient = Any
ORGANISER = (Grant.JOIN, Grant.MODERATE)
SLOT = {"starts_at": "2027-03-01T10:00:00Z", "length_min": 30, "languages": ["en"]}


async def _client(request: pytest.FixtureRequest, aiohttp_client: MakeClient,
                  **overrides: Any) -> Client:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    made: Client = await aiohttp_client(app_for(settings(redis_url=url, **overrides),
                                                FakeClock(NOW)))
    return made


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def client(request: pytest.FixtureRequest, aiohttp_client: MakeClient) -> Client:
    return await _client(request, aiohttp_client)


def visitor_token() -> tuple[str, str]:
    """A token exactly as a public room page mints one for an anonymous visitor."""
    room = Room(id="expo-stage", kind=RoomKind.BROADCAST, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": "Stage"}))
    visitor = visitor_for(settings(), room, None, visitor_name="Visitor")
    assert visitor.minted and visitor.token is not None and visitor.identity is not None
    return visitor.identity, visitor.token


async def as_visitor(client: Client, method: str, path: str, body: Any = None) -> Any:
    _, token = visitor_token()
    response = await client.request(method, "/api/meetings" + path, json=body,
                                    headers={"Authorization": f"Bearer {token}"})
    return response.status, (await response.json())["error"]["code"]


async def test_a_page_minted_visitor_token_is_no_exhibitor_and_no_delegate(
        client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    identity, _ = visitor_token()
    refusals = [
        ("PUT", f"/exhibitors/{identity}", PROFILE, "not_exhibitor"),  # its own identity
        ("PUT", "/exhibitors/official-motors", PROFILE, "not_exhibitor"),
        ("POST", "/exhibitors/faw/slots", {"slots": [SLOT]}, "not_exhibitor"),
        ("GET", "/exhibitors/faw/requests", None, "not_exhibitor"),
        ("GET", "/exhibitors/faw/slots?all=1", None, "not_exhibitor"),
        ("GET", "/exhibitors/faw/dashboard", None, "not_exhibitor"),
        ("GET", "/exhibitors/faw/meetings.csv", None, "not_exhibitor"),
        ("DELETE", f"/slots/{slot['id']}", None, "not_exhibitor"),
        ("POST", "/requests", {"slot_id": slot["id"]}, "not_delegate"),
        ("POST", "/exhibitors/faw/requests", {"slot_id": slot["id"]}, "not_delegate"),
    ]
    for method, path, body, code in refusals:
        assert await as_visitor(client, method, path, body) == (403, code), (method, path)
    assert len((await call(client, "GET", "/exhibitors"))["exhibitors"]) == 1, "no fake exhibitor"
    free = await call(client, "GET", "/exhibitors/faw/slots")
    assert [s["id"] for s in free["slots"]] == [slot["id"]], "public, and still free"


async def test_an_exhibit_token_acts_for_its_own_exhibitor_only(client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    await call(client, "PUT", "/exhibitors/mallory", {**PROFILE, "team": []}, who="mallory")
    for method, path, body in (("PUT", "/exhibitors/faw", PROFILE),
                               ("POST", "/exhibitors/faw/slots", {"slots": [SLOT]}),
                               ("GET", "/exhibitors/faw/requests", None),
                               ("GET", "/exhibitors/faw/dashboard", None),
                               ("GET", "/exhibitors/faw/meetings.csv", None),
                               ("DELETE", f"/slots/{slot['id']}", None)):
        refused = await call(client, method, path, body, who="mallory", status=403)
        assert refused["error"]["code"] == "not_your_exhibitor", (method, path)
    no_booking = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="mallory",
                            status=403)
    assert no_booking["error"]["code"] == "not_delegate", "exhibiting is not being a delegate"
    board = await call(client, "GET", "/exhibitors/mallory/dashboard", who="mallory")
    assert board["upcoming"] == 0


async def test_a_delegate_requests_and_a_team_member_needs_its_own_exhibit_grant(
        client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="kim",
                      status=201)
    assert made["buyer"] == "kim" and made["state"] == "pending"
    bare = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw-li",
                      grants=(Grant.JOIN,), status=403)
    assert bare["error"]["code"] == "not_exhibitor", "named in the team is not enough"
    accepted = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw-li")
    assert accepted["state"] == "accepted"


async def test_the_organiser_may_create_exhibitors_and_request(client: Client) -> None:
    made = await call(client, "PUT", "/exhibitors/changbai", {**PROFILE, "team": []},
                      who="expo-office", grants=ORGANISER, room="*")
    assert made["id"] == "changbai"
    published = await call(client, "POST", "/exhibitors/changbai/slots", {"slots": [SLOT]},
                           who="expo-office", grants=ORGANISER, room="*", status=201)
    [slot] = published["slots"]
    booked = await call(client, "POST", "/requests", {"slot_id": slot["id"]},
                        who="expo-office", grants=ORGANISER, room="*", status=201)
    assert booked["buyer"] == "expo-office"
    not_everywhere = await call(client, "PUT", "/exhibitors/faw", PROFILE, who="expo-office",
                                grants=ORGANISER, room="hall-1", status=403)
    assert not_everywhere["error"]["code"] == "not_exhibitor", "moderate on one room only"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def strict(request: pytest.FixtureRequest, aiohttp_client: MakeClient) -> Client:
    return await _client(request, aiohttp_client,
                         meetings={"requests_per_client_per_hour": 3})


async def test_one_client_address_cannot_hold_every_slot(strict: Client) -> None:
    slots = await exhibitor_with_slots(strict, "09:00", "10:00", "11:00", "12:00")
    for n, slot in enumerate(slots[:3]):
        await call(strict, "POST", "/requests", {"slot_id": slot["id"]}, who=f"buyer-{n}",
                   status=201)
    over = await call(strict, "POST", "/requests", {"slot_id": slots[3]["id"]}, who="buyer-9",
                      status=429)
    assert over["error"]["code"] == "rate_limited", "fresh identities do not help"
    free = await call(strict, "GET", "/exhibitors/faw/slots")
    assert [s["id"] for s in free["slots"]] == [slots[3]["id"]]
