"""Issue 12 (points 5-6) without a browser: quote requests carry contact details, the buyer lists
and withdraws their own, staff reply (kept, and heard live by the buyer), CSV export is defused,
and every field and list a client can grow is capped."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from rooms.demo import LIVE_BROADCAST
from rooms.quote import MESSAGE_MAX, REPLIES_PER_QUOTE
from rooms.token import Grant, verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.pages.helpers import STAFF, token
from tests.signaling.rtc_client import RtcClient
from web.keys import BACKEND_KEY

VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
HOST = "changbai-foods"  # the demo broadcast's exhibitor
CARD = "jilin-rice-5kg"  # the demo card that takes quotes
Start = Callable[..., Awaitable[RunningApp]]


async def _call(method: str, url: str, tok: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers={"Authorization": f"Bearer {tok}"}) as response:
        return response.status, await response.json()


async def _joined(running: RunningApp, identity: str) -> str:
    tok = token(identity, LIVE_BROADCAST, VIEWER)
    await running.app[BACKEND_KEY].service.join(verify(TEST_SECRET, tok), LIVE_BROADCAST)
    return tok


def _base(running: RunningApp) -> str:
    return f"{running.url}/api/pages/rooms/{LIVE_BROADCAST}/quotes"


async def test_a_request_carries_contact_details_each_checked(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    viewer = await _joined(running, "visitor-c")
    cases = [({"email": "not-an-address"}, "bad_email"), ({"phone": "call me"}, "bad_phone"),
             ({"email": "a@b.cn", "company": "x" * 121}, "company_too_long"),
             ({"email": "a@b.cn", "name": "Li\u202eWei"}, "name_control_chars"),
             ({"email": "a@b.cn", "message": "m" * (MESSAGE_MAX + 1)}, "message_too_long"),
             ({"email": "a@b.cn", "message": 5}, "bad_field"), ({}, "contact_missing")]
    for extra, code in cases:
        status, body = await _call("POST", _base(running), viewer, {"product": CARD, **extra})
        assert (status, body["error"]["code"]) == (400, code), extra
    status, body = await _call("POST", _base(running), viewer, {
        "product": CARD, "language": "ja", "name": " Li Wei ", "company": "Jilin Trade",
        "email": "li@example.cn", "phone": "+86 431 1234 5678", "message": "500 kg?\nFOB"})
    assert status == 201, body
    asked = body["request"]
    assert (asked["name"], asked["company"], asked["email"], asked["phone"], asked["message"],
            asked["replies"]) == ("Li Wei", "Jilin Trade", "li@example.cn",
                                  "+86 431 1234 5678", "500 kg?\nFOB", [])


async def test_the_buyer_sees_and_withdraws_only_their_own(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    ann, bob = await _joined(running, "visitor-ann"), await _joined(running, "visitor-bob")
    host = token(HOST, LIVE_BROADCAST, STAFF)
    _, mine = await _call("POST", _base(running), ann, {"product": CARD, "email": "a@x.cn"})
    await _call("POST", _base(running), bob, {"product": CARD, "phone": "+7 999 123 45 67"})
    status, listed = await _call("GET", _base(running) + "/mine", ann)
    assert status == 200 and [q["id"] for q in listed["requests"]] == [mine["request"]["id"]]
    quote_url = f"{_base(running)}/{mine['request']['id']}"
    for tok, expected in ((bob, (403, "not_yours")), (host, (403, "not_in_room"))):
        status, body = await _call("DELETE", quote_url, tok)
        assert (status, body["error"]["code"]) == expected
    status, body = await _call("DELETE", quote_url, ann)
    assert (status, body["ok"]) == (200, True)
    status, body = await _call("DELETE", quote_url, ann)
    assert (status, body["error"]["code"]) == (404, "no_such_request")
    _, listed = await _call("GET", _base(running), host)
    assert [q["requester"] for q in listed["requests"]] == ["visitor-bob"]


async def test_a_reply_is_kept_and_reaches_the_buyer_live(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    buyer_tok = token("visitor-live", LIVE_BROADCAST, VIEWER)
    host_tok = token(HOST, LIVE_BROADCAST, STAFF)
    buyer, staff = (await RtcClient.connect(running, buyer_tok),
                    await RtcClient.connect(running, host_tok))
    try:
        await buyer.ok("join", {"room": LIVE_BROADCAST})
        await staff.ok("join", {"room": LIVE_BROADCAST})
        _, asked = await _call("POST", _base(running), buyer_tok,
                               {"product": CARD, "email": "buyer@example.kr"})
        quote_id = asked["request"]["id"]
        heard = await staff.wait_for("quote.requested", lambda q: q["id"] == quote_id)
        assert heard["email"] == "buyer@example.kr"
        status, body = await _call("POST", _base(running) + f"/{quote_id}/replies", buyer_tok,
                                   {"text": "me too"})
        assert (status, body["error"]["code"]) == (403, "not_host")
        status, body = await _call("POST", _base(running) + f"/{quote_id}/replies", host_tok,
                                   {"text": "¥3,200 per tonne, FOB Dalian"})
        assert status == 201, body
        live = await buyer.wait_for("quote.replied", lambda q: q["id"] == quote_id)
        assert [r["text"] for r in live["replies"]] == ["¥3,200 per tonne, FOB Dalian"]
        _, mine = await _call("GET", _base(running) + "/mine", buyer_tok)
        assert mine["requests"][0]["replies"][0]["author"] == HOST
        await _call("DELETE", _base(running) + f"/{quote_id}", buyer_tok)
        gone = await staff.wait_for("quote.withdrawn")
        assert gone == {"room_id": LIVE_BROADCAST, "id": quote_id}
    finally:
        await buyer.close()
        await staff.close()


async def test_replies_are_capped_and_checked(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    viewer, host = await _joined(running, "visitor-cap"), token(HOST, LIVE_BROADCAST, STAFF)
    _, asked = await _call("POST", _base(running), viewer, {"product": CARD, "email": "c@x.cn"})
    url = _base(running) + f"/{asked['request']['id']}/replies"
    for body, code in (({"text": "  "}, "message_empty"),
                       ({"text": "r" * (MESSAGE_MAX + 1)}, "message_too_long"),
                       ({}, "message_empty"), ({"meeting": "yes"}, "bad_field")):
        status, answer = await _call("POST", url, host, body)
        assert (status, answer["error"]["code"]) == (400, code)
    for n in range(REPLIES_PER_QUOTE):
        assert (await _call("POST", url, host, {"text": f"reply {n}"}))[0] == 201
    status, answer = await _call("POST", url, host, {"text": "one more"})
    assert (status, answer["error"]["code"]) == (409, "replies_full")
    _, asked = await _call("POST", _base(running), viewer, {"product": CARD, "phone": "12345"})
    url = _base(running) + f"/{asked['request']['id']}/replies"
    status, answer = await _call("POST", url, host, {"meeting": True})  # a proposal needs no text
    assert status == 201 and answer["reply"] == {**answer["reply"], "meeting": True, "text": ""}
    status, answer = await _call("POST", _base(running) + "/q-nope/replies", host, {"text": "x"})
    assert (status, answer["error"]["code"]) == (404, "no_such_request")


async def test_csv_export_quotes_every_cell_and_defuses_formulas(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    viewer, host = await _joined(running, "visitor-csv"), token(HOST, LIVE_BROADCAST, STAFF)
    await _call("POST", _base(running), viewer, {"product": CARD, "email": "d@x.cn",
                                                 "company": "=HYPERLINK(\"http://x\")",
                                                 "message": "ok;=1+1"})
    async with aiohttp.ClientSession() as http:
        async with http.get(_base(running) + ".csv",
                            headers={"Authorization": f"Bearer {viewer}"}) as refused:
            assert refused.status == 403
        async with http.get(_base(running) + ".csv",
                            headers={"Authorization": f"Bearer {host}"}) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            assert response.headers["Content-Disposition"].startswith("attachment")
            text = await response.text()
    lines = text.split("\r\n")
    assert all(line.startswith('"') for line in lines if line)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["company"] == "'=HYPERLINK(\"http://x\")" and rows[0]["message"] == "ok;'=1+1"
