"""The one HTTP API layer (web/http_api.py) under the page, meetings and admin APIs (issue 11):
one error table and body shape, bounded and depth-capped JSON, strict body models.

The whole app (create_app) runs under aiohttp_client, so every route of the three APIs is
reached exactly as a client reaches it; the fuzz test enumerates the router, so a route added
later is covered without editing this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from rooms.demo import LIVE_BROADCAST
from rooms.errors import (
    InvalidInput,
    NoSuchRoom,
    NotAllowed,
    RateLimited,
    RoomFull,
    RoomsError,
    StoreUnavailable,
)
from rooms.token import Grant, TokenError, mint
from rooms.trade.store import BookingConflict
from tests.fixtures.pavilion import TEST_SECRET, make_settings
from web import bodies
from web.app import create_app
from web.catalog import Catalogs
from web.http_api import Body, failure

API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
STAFF = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
DEEP = "[" * 30_000 + "]" * 30_000


def jwt(identity: str, room: str = "*", grants: tuple[Grant, ...] = STAFF) -> str:
    return mint(TEST_SECRET, identity=identity, room=room, grants=grants, ttl_s=6 * 3600,
                name=identity)


HOST = jwt("changbai-foods", LIVE_BROADCAST)  # the demo broadcast's exhibitor
ORGANISER = jwt("organiser")  # every room, moderator: the meetings API's organiser
AUTH = {"/api/pages": HOST, "/api/meetings": ORGANISER, "/api/admin": API_KEY}


@pytest.fixture
async def client(aiohttp_client: MakeClient, catalogs: Catalogs) -> Client:
    settings = make_settings(demo=True, api_key=API_KEY)
    return await aiohttp_client(create_app(settings, catalogs=catalogs))


def headers(path: str) -> dict[str, str]:
    prefix = next(p for p in AUTH if path.startswith(p))
    return {"Authorization": f"Bearer {AUTH[prefix]}", "Content-Type": "application/json"}


async def send(client: Client, method: str, path: str, text: str) -> tuple[int, Any]:
    response = await client.request(method, path, data=text.encode(), headers=headers(path))
    return response.status, await response.json(content_type=None)


# -- one error table, one body shape ---------------------------------------------------------------
@pytest.mark.parametrize(("exc", "status", "header"), [
    (InvalidInput("bad_field", "x"), 400, None),
    (NotAllowed("not_host", "x"), 403, None),
    (NoSuchRoom("r1"), 404, None),
    (BookingConflict("slot_taken", "x"), 409, None),
    (RoomFull("full", limit=3, code="questions_full"), 409, None),
    (RateLimited("requests", 2.2), 429, ("Retry-After", "3")),
    (StoreUnavailable("down"), 503, ("Retry-After", "5")),
    (TokenError("token_expired", "x"), 401, ("WWW-Authenticate", 'Bearer realm="pavilion", '
                                                               'error="invalid_token"')),
    (TokenError("wrong_room", "x"), 403, None),
    (TokenError("missing_grant", "x"), 403, None),
])
def test_one_table_from_domain_errors_to_statuses(exc: RoomsError | TokenError, status: int,
                                                   header: tuple[str, str] | None) -> None:
    response = failure(exc)
    assert response.status == status
    if header is not None:
        assert response.headers[header[0]] == header[1]
    assert response.text is not None and response.text.startswith('{"ok": false, "error": {')


# -- deep and malformed JSON ----------------------------------------------------------------------
ENTRY = [("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products"),
         ("PUT", "/api/meetings/exhibitors/faw"),
         ("POST", "/api/meetings/requests"),
         ("POST", "/api/admin/rooms"),
         ("POST", "/api/admin/tokens")]


@pytest.mark.parametrize(("method", "path"), ENTRY)
@pytest.mark.parametrize("text", [DEEP, '{"name": ' + DEEP + "}", "[" * 33 + "]" * 33,
                                  '{"name": ', "NaN", '{"price": Infinity}', "[1]]"])
async def test_deep_or_malformed_json_is_400_bad_json(client: Client, method: str, path: str,
                                                      text: str) -> None:
    status, body = await send(client, method, path, text)
    assert (status, body["ok"], body["error"]["code"]) == (400, False, "bad_json"), body
    assert "Traceback" not in body["error"]["message"]


# -- strict types: each wrong-typed field is named ----------------------------------------------
WRONG_TYPES = [
    ("PUT", "/api/meetings/exhibitors/faw", {"name": "x", "pavilion": "automobile"}, "bad_field",
     "name"),
    ("PUT", "/api/meetings/exhibitors/faw", {"products": "tea", "pavilion": "automobile"},
     "bad_field", "products"),
    ("POST", "/api/admin/tokens", {"identity": "u", "room": "r1", "grants": [1]}, "bad_grants",
     "grants.0"),
    ("POST", "/api/admin/tokens", {"identity": ["u"], "room": "r1"}, "bad_identity", "identity"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     {"name": "Tea", "price": "1e999999999", "currency": "CNY"}, "bad_price", "price"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     '{"name": "Tea", "price": 1e999999999, "currency": "CNY"}', "bad_price", "price"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     {"name": "Tea", "price": "0.000001", "currency": "CNY"}, "bad_price", "price"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     {"name": "Tea", "price": True, "currency": "CNY"}, "bad_price", "price"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     {"name": ["a"], "currency": "CNY"}, "bad_field", "name"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/products",
     {"name": "Tea", "currency": "CNY", "request_quote": "yes"}, "bad_field", "request_quote"),
    ("POST", f"/api/pages/rooms/{LIVE_BROADCAST}/quotes", {"product": 7}, "bad_field",
     "product"),
    ("POST", "/api/meetings/requests", {"slot_id": 12}, "bad_field", "slot_id"),
    ("POST", "/api/meetings/requests/r-1/feedback", {"rating": "5"}, "bad_field", "rating"),
    ("POST", "/api/admin/rooms", {"id": "r1", "kind": "forum", "pavilion": "automobile",
                                  "capacity": "4"}, "bad_field", "capacity"),
    ("POST", "/api/admin/rooms/r1/lock", {"locked": "yes"}, "bad_field", "locked"),
]


@pytest.mark.parametrize(("method", "path", "data", "code", "field"), WRONG_TYPES)
async def test_a_wrong_type_is_400_naming_the_field(client: Client, method: str, path: str,
                                                    data: dict[str, Any] | str, code: str,
                                                    field: str) -> None:
    text = data if isinstance(data, str) else json.dumps(data)  # a str: the JSON text itself
    status, body = await send(client, method, path, text)
    assert (status, body["error"]["code"]) == (400, code), body
    assert body["error"]["message"].startswith(f"{field}:"), body


async def test_a_list_name_is_refused_not_stringified(client: Client) -> None:
    path = f"/api/pages/rooms/{LIVE_BROADCAST}/products"
    await send(client, "POST", path, '{"name": ["a"], "currency": "CNY"}')
    _, listed = await send(client, "GET", path, "")
    assert all("['a']" not in str(card["name"]) for card in listed["products"])


# -- no body, of any JSON type, to any POST/PUT/PATCH route gives a 5xx ----------------------------
SAMPLES: list[Any] = [None, True, 0, -1, 10**30, 1.5, 1e308, "", "x", "=1", [], [1], ["a"],
                      [[[[1]]]], {}, {"a": 1}, {"en": "x"}, {"en": ["x"]}, [{"a": 1}]]
FIELDS = sorted({name for model in vars(bodies).values()
                 if isinstance(model, type) and issubclass(model, Body) and model is not Body
                 for name in model.model_fields})
PARAMS = {"room": LIVE_BROADCAST, "room_id": LIVE_BROADCAST, "exhibitor": "faw",
          "identity": "visitor-1", "product_id": "p1", "question": "1", "request": "r-1",
          "slot": "s-1", "action": "accept", "product": "jilin-rice-5kg", "quote": "q-1",
          "node_id": "node-elsewhere", "rec_id": "rec_fuzz00000000",
          "dead_id": "evt_fuzz.0123456789ab"}


def write_routes() -> list[tuple[str, str]]:
    app = create_app(make_settings(demo=True, api_key=API_KEY))
    found = {(r.method, r.resource.canonical) for r in app.router.routes()
             if r.method in ("POST", "PUT", "PATCH") and r.resource is not None
             and r.resource.canonical.startswith(("/api/pages", "/api/meetings", "/api/admin"))}
    return sorted((m, re.sub(r"\{(\w+)\}", lambda p: PARAMS[p.group(1)], path))
                  for m, path in found)


def test_the_route_list_covers_the_three_apis() -> None:
    paths = [p for _, p in write_routes()]
    for prefix in ("/api/pages/", "/api/meetings/", "/api/admin/"):
        assert sum(p.startswith(prefix) for p in paths) >= 2, prefix


@pytest.mark.parametrize(("method", "path"), write_routes())
async def test_no_json_body_gives_a_5xx(client: Client, method: str, path: str) -> None:
    shapes: list[Any] = [*SAMPLES, *({field: value} for field in FIELDS for value in SAMPLES)]
    for shape in shapes:
        status, body = await send(client, method, path, json.dumps(shape))
        assert status < 500, (shape, body)
        if status >= 400:
            assert body["ok"] is False and set(body["error"]) == {"code", "message"}, body
