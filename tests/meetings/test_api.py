"""The meetings REST API over HTTP, on memory and a real redis-server, with a shifted clock."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rooms.clock import FakeClock
from rooms.token import Grant
from tests.meetings.api import PROFILE, Client, app_for, bearer, call, settings
from tests.meetings.builders import NOW
from web.meetings_api import BOOKINGS_KEY

MakeClient = Any
TOMORROW = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(days=1)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def client(request: pytest.FixtureRequest, aiohttp_client: MakeClient) -> Client:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    clock = FakeClock(NOW)
    made: Client = await aiohttp_client(app_for(settings(redis_url=url), clock))
    made.clock = clock  # type: ignore[attr-defined]
    return made


async def exhibitor_with_slots(client: Client, *starts: str,
                               exhibitor: str = "faw") -> list[dict[str, Any]]:
    profile = PROFILE if exhibitor == "faw" else {**PROFILE, "team": []}
    await call(client, "PUT", f"/exhibitors/{exhibitor}", profile, who=exhibitor)
    slots = [{"date": TOMORROW.date().isoformat(), "start": s, "length_min": 30,
              "time_zone": "Asia/Tokyo", "languages": ["en", "ja"]} for s in starts]
    made = await call(client, "POST", f"/exhibitors/{exhibitor}/slots", {"slots": slots},
                      who=exhibitor, status=201, tz="Asia/Tokyo")
    return list(made["slots"])


async def test_slots_are_stored_in_utc_and_shown_in_the_viewers_zone(client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    assert slot["starts_at"] == TOMORROW.strftime("%Y-%m-%dT01:00:00Z")  # 10:00 in UTC+9
    assert slot["starts_local"].endswith("T10:00:00+09:00")
    for tz, local in (("Asia/Shanghai", "09:00:00+08:00"), ("Europe/Moscow", "04:00:00+03:00"),
                      ("Asia/Bangkok", "08:00:00+07:00")):
        shown = await call(client, "GET", "/exhibitors/faw/slots", tz=tz)
        assert shown["slots"][0]["starts_local"].endswith(local)
    bad = await call(client, "GET", "/exhibitors/faw/slots", tz="Mars/Olympus", status=400)
    assert bad["error"]["code"] == "bad_time_zone"


@pytest.mark.parametrize(("slot", "code"), [
    ({"date": "2023-11-01", "start": "10:00", "length_min": 30, "languages": ["en"]},
     "slot_in_past"),
    ({"starts_at": "2027-02-01T10:00:00", "length_min": 30, "languages": ["en"]},
     "naive_datetime"),
    ({"starts_at": "2027-02-01T10:00:00Z", "length_min": 20, "languages": ["en"]},
     "bad_length"),
    ({"date": "2027-02-01", "start": "10:00", "length_min": 30, "time_zone": "Asia/Nowhere",
      "languages": ["en"]}, "bad_time_zone"),
    ({"starts_at": "2027-02-01T10:00:00Z", "length_min": 30, "languages": ["English"]},
     "bad_languages"),
])
async def test_bad_slots_are_refused_and_nothing_is_written(client: Client, slot: Any,
                                                            code: str) -> None:
    await call(client, "PUT", "/exhibitors/faw", PROFILE, who="faw")
    good = {"starts_at": "2027-03-01T10:00:00Z", "length_min": 30, "languages": ["en"]}
    refused = await call(client, "POST", "/exhibitors/faw/slots", {"slots": [good, slot]},
                         who="faw", status=400)
    assert refused["error"]["code"] == code
    assert (await call(client, "GET", "/exhibitors/faw/slots"))["slots"] == []


async def test_overlapping_slots_are_refused(client: Client) -> None:
    await exhibitor_with_slots(client, "10:00")
    again = await call(client, "POST", "/exhibitors/faw/slots", {"slots": [
        {"starts_at": TOMORROW.strftime("%Y-%m-%dT01:15:00Z"), "length_min": 15,
         "languages": ["en"]}]}, who="faw", status=409)
    assert again["error"]["code"] == "slot_overlap"
    pair = await call(client, "POST", "/exhibitors/faw/slots", {"slots": [
        {"starts_at": "2027-03-01T10:00:00Z", "length_min": 60, "languages": ["en"]},
        {"starts_at": "2027-03-01T10:30:00Z", "length_min": 15, "languages": ["en"]}]},
        who="faw", status=400)
    assert pair["error"]["code"] == "overlapping_slots"


async def test_someone_elses_exhibitor_slots_and_requests_are_refused(client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    body = {"slots": [{"starts_at": "2027-03-01T10:00:00Z", "length_min": 30,
                       "languages": ["en"]}]}
    stranger = await call(client, "POST", "/exhibitors/faw/slots", body, who="mallory",
                          status=403)
    assert stranger["error"]["code"] == "not_your_exhibitor"
    hijack = await call(client, "PUT", "/exhibitors/faw", PROFILE, who="mallory", status=403)
    assert hijack["error"]["code"] == "not_your_exhibitor"
    own = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="faw-li",
                     grants=(Grant.EXHIBIT, Grant.DELEGATE), status=403)
    assert own["error"]["code"] == "own_slot"
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="kim",
                      status=201)
    for path, code in ((f"/requests/{made['id']}/accept", "not_your_request"),
                       ("/requests/r-zzz/accept", "bad_request_id"),
                       ("/requests/r-000000000000/accept", "no_such_request")):
        refused = await call(client, "POST", path, {}, who="mallory",
                             status=403 if code == "not_your_request" else
                             400 if code.startswith("bad") else 404)
        assert refused["error"]["code"] == code
    removed = await call(client, "DELETE", f"/slots/{slot['id']}", who="mallory", status=403)
    assert removed["error"]["code"] == "not_your_exhibitor"
    tampered = await call(client, "POST", "/requests", {"slot_id": "s-../../x"}, who="kim",
                          status=400)
    assert tampered["error"]["code"] == "bad_slot_id"
    no_token = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, status=401)
    assert no_token["error"]["code"] == "token_missing"


async def test_request_accept_join_link_ics_and_dashboard(client: Client) -> None:
    [slot, other] = await exhibitor_with_slots(client, "10:00", "11:00")
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"], "message": "Price?",
                                                    "time_zone": "Asia/Seoul"},
                      who="kim", status=201)
    assert made["state"] == "pending" and made["starts_local"].endswith("T10:00:00+09:00")
    taken = await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="ivanov",
                       status=409)
    assert taken["error"]["code"] == "slot_taken"
    free = await call(client, "GET", "/exhibitors/faw/slots")
    assert [s["id"] for s in free["slots"]] == [other["id"]], "a held slot is not offered"
    declined = await call(client, "POST", f"/requests/{made['id']}/decline", {}, who="faw",
                          status=400)
    assert declined["error"]["code"] == "reason_empty"
    accepted = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw-li")
    assert accepted["state"] == "accepted" and accepted["room_id"] == f"mtg-{made['id']}"
    again = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="faw",
                       status=403)
    assert again["error"]["code"] == "bad_transition"
    link = await call(client, "GET", f"/requests/{made['id']}/join", who="kim")
    assert link["url"].endswith(f"/meeting/mtg-{made['id']}?token={link['token']}")
    assert link["valid_from"] == TOMORROW.strftime("%Y-%m-%dT00:55:00Z")
    assert link["valid_until"] == TOMORROW.strftime("%Y-%m-%dT01:35:00Z")
    feed = await call(client, "GET", "/notifications", who="kim")
    assert [n["kind"] for n in feed["notifications"]] == ["request.accepted"]
    board = await call(client, "GET", "/exhibitors/faw/dashboard", who="faw")
    assert board["upcoming"] == 1 and board["no_show_rate"] is None
    assert (await call(client, "GET", "/exhibitors/faw/dashboard", who="kim",
                       status=403))["error"]["code"] == "not_exhibitor"
    response = await client.get(f"/api/meetings/requests/{made['id']}/invite.ics",
                                headers=bearer("kim"))
    assert response.status == 200 and response.content_type == "text/calendar"
    assert "BEGIN:VEVENT" in await response.text()


async def test_propose_another_slot_and_the_buyer_accepts(client: Client) -> None:
    [slot, other] = await exhibitor_with_slots(client, "10:00", "14:00")
    made = await call(client, "POST", "/exhibitors/faw/requests", {"message": "Quote for SUV"},
                      who="kim", status=201)
    assert made["slot_id"] == slot["id"], "without slot_id: the earliest free slot"
    proposed = await call(client, "POST", f"/requests/{made['id']}/propose",
                          {"slot_id": other["id"], "reason": "10:00 is gone"}, who="faw")
    assert proposed["state"] == "proposed" and proposed["slot_id"] == other["id"]
    free = await call(client, "GET", "/exhibitors/faw/slots")
    assert [s["id"] for s in free["slots"]] == [slot["id"]], "the hold moved"
    exhibitor_accepts = await call(client, "POST", f"/requests/{made['id']}/accept", {},
                                   who="faw", status=403)
    assert exhibitor_accepts["error"]["code"] == "bad_transition"
    accepted = await call(client, "POST", f"/requests/{made['id']}/accept", {}, who="kim")
    assert accepted["state"] == "accepted"
    cancelled = await call(client, "POST", f"/requests/{made['id']}/cancel",
                           {"reason": "travel"}, who="kim")
    assert cancelled["state"] == "cancelled"
    free = await call(client, "GET", "/exhibitors/faw/slots")
    assert len(free["slots"]) == 2, "a cancelled meeting frees its slot"


async def test_quotas_per_exhibitor_per_buyer_and_expiry(client: Client) -> None:
    faw = await exhibitor_with_slots(client, "09:00", "10:00", "11:00")
    herbs = await exhibitor_with_slots(client, "12:00", "13:00", exhibitor="jilin-herbs")
    other = await exhibitor_with_slots(client, "14:00", "15:00", exhibitor="mallory")
    for slot in faw[:2]:
        await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="kim", status=201)
    third = await call(client, "POST", "/requests", {"slot_id": faw[2]["id"]}, who="kim",
                       status=409)
    assert third["error"]["code"] == "exhibitor_quota_reached", "two open requests per exhibitor"
    for slot in [*herbs, other[0]]:
        await call(client, "POST", "/requests", {"slot_id": slot["id"]}, who="kim", status=201)
    over = await call(client, "POST", "/requests", {"slot_id": other[1]["id"]}, who="kim",
                      status=409)
    assert over["error"]["code"] == "quota_reached", "five open requests in all"
    assert len((await call(client, "GET", "/exhibitors/faw/slots"))["slots"]) == 1
    client.clock.advance(48 * 3600 + 1)  # type: ignore[attr-defined]
    await client.app[BOOKINGS_KEY].agenda.tick()
    mine = await call(client, "GET", "/mine", who="kim")
    assert {r["state"] for r in mine["requests"]} == {"expired"}


async def test_directory_filters(client: Client) -> None:
    await exhibitor_with_slots(client, "10:00")
    other = {**PROFILE, "pavilion": "jilin", "products": ["ginseng"], "languages": ["ko", "zh"],
             "team": []}
    await call(client, "PUT", "/exhibitors/jilin-herbs", other, who="jilin-herbs")
    everyone = await call(client, "GET", "/exhibitors")
    assert [(e["id"], e["free_slots"]) for e in everyone["exhibitors"]] == [
        ("faw", 1), ("jilin-herbs", 0)]
    for query, ids in (({"pavilion": "jilin"}, ["jilin-herbs"]), ({"product": "suv"}, ["faw"]),
                       ({"language": "ko"}, ["jilin-herbs"]), ({"language": "mn"}, [])):
        found = await call(client, "GET", "/exhibitors", **query)
        assert [e["id"] for e in found["exhibitors"]] == ids
    bad = await call(client, "GET", "/exhibitors", pavilion="moon", status=400)
    assert bad["error"]["code"] == "bad_pavilion"


async def test_csv_export_is_the_exhibitors_and_defuses_formulas(client: Client) -> None:
    [slot] = await exhibitor_with_slots(client, "10:00")
    made = await call(client, "POST", "/requests", {"slot_id": slot["id"],
                                                    "message": "=HYPERLINK(\"http://x\")"},
                      who="kim", status=201)
    response = await client.get("/api/meetings/exhibitors/faw/meetings.csv",
                                params={"tz": "Asia/Tokyo", "access_token":
                                        bearer("faw")["Authorization"].split()[1]})
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["request_id"] for r in rows] == [made["id"]]
    assert rows[0]["message"].startswith("'=") and rows[0]["starts_local"].endswith("10:00")
    refused = await client.get("/api/meetings/exhibitors/faw/meetings.csv",
                               headers=bearer("kim"))
    assert refused.status == 403
