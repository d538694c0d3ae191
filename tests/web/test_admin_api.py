"""The admin API over HTTP (aiohttp_client), against memory and a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import config
from rooms.factory import open_backend
from rooms.room import RoomKind
from rooms.token import Grant, verify
from tests.signaling.rtc_client import GUEST, HOST, VIEWER, RtcClient, make_room, token
from web import admin_api
from web.keys import BACKEND_KEY

API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
SECRET = "token-secret-0123456789abcdef0123456789abcdef"
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
ROOM = {
    "id": "ev-launch", "kind": "broadcast", "pavilion": "automobile", "exhibitor": "ev-works",
    "title": {"zh": "新车发布", "en": "New car launch", "ja": "新車発表", "ko": "신차 발표",
              "ru": "Презентация автомобиля", "mn": "Шинэ машины нээлт"},
    "starts_at": "2026-09-01T10:00:00+08:00", "ends_at": "2026-09-01T11:00:00+08:00",
    "state": "live", "max_pinned": 1,
}


def app_for(settings: config.Settings) -> web.Application:
    """The way create_app wires it: the backend under BACKEND_KEY, then install()."""
    app = web.Application()

    async def backend_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_backend(settings) as backend:
            app[BACKEND_KEY] = backend
            yield

    app.cleanup_ctx.append(backend_ctx)
    admin_api.install(app, settings, BACKEND_KEY)
    return app


def settings(**overrides: Any) -> config.Settings:
    base: dict[str, Any] = {"node_id": "node-a", "secret": SECRET, "api_key": API_KEY,
                            "demo": False, "rtmp_port": 0}
    return config.load(overrides={**base, **overrides})


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def client(request: pytest.FixtureRequest, aiohttp_client: MakeClient) -> Client:
    url = None if request.param == "memory" else request.getfixturevalue("redis_url")
    return await aiohttp_client(app_for(settings(redis_url=url)))


AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def call(client: Client, method: str, path: str, body: Any = None,
               status: int = 200) -> Any:
    response = await client.request(method, "/api/admin" + path, json=body, headers=AUTH)
    data = await response.json()
    assert response.status == status, data
    return data


async def test_rooms_create_list_get_close(client: Client) -> None:
    created = await call(client, "POST", "/rooms", ROOM, status=201)
    assert created["id"] == "ev-launch" and created["title"]["mn"] == "Шинэ машины нээлт"
    duplicate = await call(client, "POST", "/rooms", ROOM, status=409)
    assert duplicate["error"]["code"] == "room_exists"
    await call(client, "POST", "/rooms", {**ROOM, "id": "forum-1", "kind": "forum",
                                          "pavilion": "regions", "state": "scheduled"},
               status=201)
    listed = await call(client, "GET", "/rooms")
    assert [r["id"] for r in listed["rooms"]] == ["ev-launch", "forum-1"]
    assert listed["rooms"][0]["present"] == 0
    only = await call(client, "GET", "/rooms?pavilion=regions&state=scheduled")
    assert [r["id"] for r in only["rooms"]] == ["forum-1"]
    bad = await call(client, "GET", "/rooms?pavilion=moon", status=400)
    assert bad["error"]["code"] == "bad_pavilion"
    one = await call(client, "GET", "/rooms/ev-launch")
    assert (one["kind"], one["present"], one["node"], one["products"]) == (
        "broadcast", 0, None, [])
    missing = await call(client, "GET", "/rooms/nowhere", status=404)
    assert missing["error"] == {"code": "no_such_room", "message": "no room 'nowhere'"}
    assert (await call(client, "POST", "/rooms/ev-launch/lock", {"locked": True}))["locked"]
    assert (await call(client, "POST", "/rooms/ev-launch/close"))["state"] == "ended"
    again = await call(client, "POST", "/rooms/ev-launch/close", status=403)
    assert again["error"]["code"] == "room_ended"


@pytest.mark.parametrize(("body", "code"), [
    ({**ROOM, "id": "Not Valid"}, "bad_room_id"),
    ({**ROOM, "kind": "party"}, "bad_field"),
    ({**ROOM, "starts_at": "2026-09-01T10:00:00"}, "naive_datetime"),
    ({"id": "x"}, "missing_field"),
    (["a", "list"], "bad_json"),
    ({**ROOM, "title": {"fr": "Lancement"}}, "bad_language"),
])
async def test_bad_rooms_are_refused_clearly(client: Client, body: Any, code: str) -> None:
    refused = await call(client, "POST", "/rooms", body, status=400)
    assert refused["error"]["code"] == code
    assert (await call(client, "GET", "/rooms"))["rooms"] == [], "nothing was written"


@pytest.mark.parametrize("body", [
    {**ROOM, "title": "New car launch"}, {**ROOM, "invitees": "buyer"}, {**ROOM, "locked": 1},
    {**ROOM, "capacity": [4]}, {**ROOM, "stage_size": "big"}, {**ROOM, "starts_at": 5},
    {**ROOM, "id": 7}, {**ROOM, "title": {"en": ["x"]}}, "just a string", 42, None,
])
async def test_garbage_rooms_get_400_never_500(client: Client, body: Any) -> None:
    refused = await call(client, "POST", "/rooms", body, status=400)
    assert refused["error"]["code"] in {"bad_field", "bad_json", "bad_room_id", "bad_text",
                                        "missing_field"}


async def test_tokens_participants_mute_kick(client: Client) -> None:
    await call(client, "POST", "/rooms", ROOM, status=201)
    minted = await call(client, "POST", "/tokens", {
        "identity": "fan-1", "room": "ev-launch", "name": "Fan", "grants": ["join", "chat"],
        "ttl_s": 600}, status=201)
    access = verify(SECRET, minted["token"], room="ev-launch")
    assert access.grants == {Grant.JOIN, Grant.CHAT} and access.name == "Fan"
    assert minted["expires_at"] == access.expires_at
    backend = client.app[BACKEND_KEY]
    await backend.service.join(access, "ev-launch")
    people = await call(client, "GET", "/rooms/ev-launch/participants")
    assert [(p["identity"], p["role"]) for p in people["participants"]] == [("fan-1", "viewer")]
    muted = await call(client, "POST", "/rooms/ev-launch/participants/fan-1/mute",
                       {"muted": True})
    assert muted["participant"]["muted"] and muted["change"] == "muted"
    kicked = await call(client, "POST", "/rooms/ev-launch/participants/fan-1/kick")
    assert kicked["banned_until"] == access.expires_at
    assert (await call(client, "GET", "/rooms/ev-launch/participants"))["participants"] == []
    gone = await call(client, "POST", "/rooms/ev-launch/participants/fan-1/kick", status=404)
    assert gone["error"]["code"] == "no_such_participant"


@pytest.mark.parametrize(("body", "code"), [
    ({"identity": "", "room": "r1"}, "bad_identity"),
    ({"identity": "u", "room": "Bad Room"}, "bad_room_id"),
    ({"identity": "u", "room": "r1", "ttl_s": 0}, "bad_ttl"),
    ({"identity": "u", "room": "r1", "ttl_s": "1h"}, "bad_ttl"),
    ({"identity": "u", "room": "r1", "grants": ["root"]}, "bad_grants"),
    ({"identity": "u", "room": "r1", "name": "\u202eevil"}, "name_control_chars"),
    ({"identity": "u", "room": "r1", "grants": ["interpret"], "languages": ["xx"]},
     "bad_language"),
])
async def test_bad_token_requests(client: Client, body: Any, code: str) -> None:
    assert (await call(client, "POST", "/tokens", body, status=400))["error"]["code"] == code


async def test_interpreter_token(client: Client) -> None:
    """Issue 17: the admin API mints ``interpret`` with the interpreter's languages."""
    minted = await call(client, "POST", "/tokens", {
        "identity": "booth-ko", "room": "forum-1", "grants": ["join", "subscribe", "interpret"],
        "languages": ["ko", "zh"]}, status=201)
    access = verify(SECRET, minted["token"], room="forum-1")
    assert access.languages == ("ko", "zh") and access.allows(Grant.INTERPRET)
    assert minted["languages"] == ["ko", "zh"] and "interpret" in minted["grants"]


async def test_products_put_and_pin(client: Client) -> None:
    await call(client, "POST", "/rooms", ROOM, status=201)
    card = {"name": {"en": "Model Y1", "zh": "Y1 型"}, "price": "189900", "currency": "CNY",
            "link": "https://ev.example/y1", "request_quote": True,
            "description": {"en": "Long range.\n600 km", "ru": "Запас хода 600 км"}}
    put = await call(client, "PUT", "/rooms/ev-launch/products/y1", card)
    assert put["id"] == "y1" and put["price"] == "189900"
    assert put["description"] == card["description"]  # all six languages at once (issue 12)
    await call(client, "PUT", "/rooms/ev-launch/products/y2", card)
    pinned = await call(client, "POST", "/rooms/ev-launch/products/y1/pin", {"pinned": True})
    assert pinned == {"room_id": "ev-launch", "product_id": "y1", "pinned": True}
    full = await call(client, "POST", "/rooms/ev-launch/products/y2/pin", {}, status=409)
    assert full["error"]["code"] == "pins_full"
    one = await call(client, "GET", "/rooms/ev-launch")
    assert [(p["id"], p["pinned"]) for p in one["products"]] == [("y1", True), ("y2", False)]
    deleted = await call(client, "DELETE", "/rooms/ev-launch/products/y1")
    assert deleted["deleted"]
    again = await call(client, "DELETE", "/rooms/ev-launch/products/y1", status=404)
    assert again["error"]["code"] == "no_such_product"
    listed = (await call(client, "GET", "/rooms/ev-launch"))["products"]
    assert [(p["id"], p["pinned"]) for p in listed] == [("y2", False)]
    bad = await call(client, "PUT", "/rooms/ev-launch/products/y3", {**card, "currency": "$"},
                     status=400)
    assert bad["error"]["code"] == "bad_currency"
    no_room = await call(client, "PUT", "/rooms/nope/products/y3", card, status=404)
    assert no_room["error"]["code"] == "no_such_room"
    flag = await call(client, "POST", "/rooms/ev-launch/products/y1/pin", {"pinned": "yes"},
                      status=400)
    assert flag["error"]["code"] == "bad_field"


async def test_key_required(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"},
                    {"Authorization": f"Basic {API_KEY}"}):
        response = await client.get("/api/admin/rooms", headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_oversized_and_malformed_bodies(client: Client) -> None:
    response = await client.post("/api/admin/rooms", data=b"{" * 70_000, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "body_too_large"
    response = await client.post("/api/admin/rooms", data=b"\xff\xfe", headers=AUTH)
    assert (await response.json())["error"]["code"] == "bad_json"


async def test_disabled_without_api_key(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(app_for(settings(api_key=None)))
    response = await client.get("/api/admin/rooms", headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "admin_disabled"


async def test_demo_mode_accepts_the_token_secret(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(app_for(settings(api_key=None, demo=True)))
    ok = await client.get("/api/admin/rooms", headers={"Authorization": f"Bearer {SECRET}"})
    assert ok.status == 200
    assert (await client.get("/api/admin/rooms", headers=AUTH)).status == 401


async def test_redis_down_is_503(aiohttp_client: MakeClient) -> None:
    client = await aiohttp_client(app_for(settings(redis_url="redis://127.0.0.1:1/0")))
    response = await client.get("/api/admin/rooms", headers=AUTH)
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "store_unavailable"


async def test_admin_actions_reach_socket_clients_like_in_band_moderation(pavilion_app) -> None:
    """mute, lock, pin, kick and close over HTTP: the same Socket.IO events and effects as a
    moderator's (the kicked session leaves the room, a closed room empties)."""
    app = await pavilion_app(demo=False, api_key=API_KEY)
    await make_room(app, "show", RoomKind.BROADCAST, exhibitor="host", products=1)
    host = await RtcClient.connect(app, token("host", "show", HOST))
    fan = await RtcClient.connect(app, token("fan", "show", VIEWER))
    troll = await RtcClient.connect(app, token("troll", "show", GUEST))
    for client in (host, fan, troll):
        await client.ok("join", {"room": "show"})
    base = f"{app.url}/api/admin/rooms/show"
    async with aiohttp.ClientSession(headers=AUTH) as http:
        async def post(path: str, body: Any = None) -> None:
            async with http.post(base + path, json=body) as response:
                assert response.status == 200, await response.text()

        await post("/participants/troll/mute", {"muted": True})
        muted = await troll.wait_for("participant.muted")
        assert (muted["change"], muted["participant"]["identity"]) == ("muted", "troll")
        await fan.wait_for("participant.muted", lambda e: e["participant"]["identity"] == "troll")
        await post("/lock", {"locked": True})
        assert (await fan.wait_for("room.changed"))["change"] == "locked"
        await post("/products/p0/pin", {"pinned": True})
        card = await fan.wait_for("product.pinned")
        assert card["product"]["name"]["en"] == "Product 0"
        await post("/participants/troll/kick")
        removed = await troll.wait_for("participant.removed")
        assert removed["identity"] == "troll" and removed["banned_until"] > 0
        await fan.wait_for("participant.removed", lambda e: e["identity"] == "troll")
        gone = await troll.call("chat.send", {"room": "show", "text": "let me back"})
        assert gone["error"]["code"] == "not_joined"
        await post("/close")
        for client in (host, fan):
            assert (await client.wait_for("room.closed"))["change"] == "ended"
        after = await fan.call("chat.send", {"room": "show", "text": "anyone?"})
        assert after["error"]["code"] == "not_joined"
    store = app.app[BACKEND_KEY].store
    assert await store.count_present("show") == 0
    for client in (host, fan, troll):
        await client.close()
