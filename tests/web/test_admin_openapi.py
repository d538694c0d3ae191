"""Issue 18 §7: docs/admin-api.openapi.json describes the whole admin API.

(a) every admin route of the app's router is in the document and every documented operation is
a route (methods too; HEAD follows GET); (b) real answers of every route, on the memory backend
and on a real redis-server, validate against the documented schema of their status (a refusal
against ``Error``), and ``GET /api/admin/openapi.json`` serves the document itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator

from rooms.cluster.health import LinkHealth, RoomDetail, RoomHealth
from rooms.room import RoomKind
from rooms.token import verify
from tests.fixtures.pavilion import TEST_SECRET
from tests.signaling.rtc_client import make_room
from web.keys import BACKEND_KEY

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "admin-api.openapi.json"
DOC: dict[str, Any] = json.loads(DOC_PATH.read_text(encoding="utf-8"))
API_KEY = "admin-key-0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
METHODS = {"get", "post", "put", "patch", "delete"}


def router_operations(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or ""
        if path.startswith("/api/admin") and route.method.lower() in METHODS:
            found.add((route.method.lower(), path))
    return found


def documented_operations() -> set[tuple[str, str]]:
    return {(method, path) for path, ops in DOC["paths"].items() for method in ops
            if method in METHODS}


def test_the_document_is_openapi_3_1_and_names_every_route() -> None:
    from tests.fixtures.pavilion import make_settings
    from web.app import create_app
    app = create_app(make_settings(api_key=API_KEY, demo=False))
    assert DOC["openapi"].startswith("3.1")
    routes, documented = router_operations(app), documented_operations()
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations the router lacks"


def _operation(method: str, path: str) -> dict[str, Any]:
    """The documented operation whose path template matches the concrete ``path``."""
    for template, ops in DOC["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path.split("?")[0]) and method in ops:
            return dict(ops[method])
    raise AssertionError(f"{method.upper()} {path} is not documented")


def validate(method: str, path: str, status: int, data: Any) -> None:
    responses = _operation(method, path)["responses"]
    answer = responses.get(str(status)) or responses["default"]
    schema = answer["content"]["application/json"]["schema"]
    root = {**schema, "components": DOC["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(data), key=str)
    assert errors == [], f"{method.upper()} {path} {status}: {[e.message for e in errors]}"


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.seen = http, base, set()

    async def __call__(self, method: str, path: str, body: Any = None,
                       status: int = 200) -> Any:
        async with self.http.request(method, self.base + path, json=body,
                                     headers=AUTH) as response:
            data = await response.json()
            assert response.status == status, data
        validate(method.lower(), "/api/admin" + path, status, data)
        self.seen.add((method.lower(), _template("/api/admin" + path)))
        return data


def _template(path: str) -> str:
    for template in DOC["paths"]:
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path.split("?")[0]):
            return str(template)
    return path


# a receiver nobody listens on: the node queues and retries, the admin routes list it
HOOK = {"url": "http://127.0.0.1:9/hook", "secret": "a-webhook-secret-for-openapi"}

ROOM = {"id": "ev-launch", "kind": "broadcast", "pavilion": "automobile", "exhibitor": "ev",
        "title": {"en": "Launch", "zh": "发布"}, "state": "live"}


async def exercise(running: Any) -> set[tuple[str, str]]:
    """Call every admin route once (a refusal where success would end the node or needs
    media), validating each answer; returns the operations called."""
    app = running.app
    async with aiohttp.ClientSession() as http:
        api = Api(http, running.url + "/api/admin")
        await api("POST", "/rooms", ROOM, status=201)
        await make_room(running, "forum-1", RoomKind.FORUM)
        await api("GET", "/rooms?state=live")
        await api("GET", "/rooms/ev-launch")
        minted = await api("POST", "/tokens", {"identity": "fan", "room": "ev-launch",
                                               "grants": ["join", "chat"], "ttl_s": 600},
                           status=201)
        backend = app[BACKEND_KEY]
        await backend.service.join(verify(TEST_SECRET, minted["token"]), "ev-launch")
        await api("GET", "/rooms/ev-launch/participants")
        await api("POST", "/rooms/ev-launch/participants/fan/mute", {"muted": True})
        await api("PUT", "/rooms/ev-launch/products/y1", {"name": {"en": "Y1"}, "price": "10",
                                                           "currency": "CNY"})
        await api("POST", "/rooms/ev-launch/products/y1/pin", {"pinned": True})
        await api("DELETE", "/rooms/ev-launch/products/y1")
        cluster = backend.cluster
        await cluster.report_health([RoomDetail(
            RoomHealth("ev-launch", cluster.node_id, publishers=1, viewers=1, loss=0.3,
                       quiet_s=0.5, reported_at=1.0),
            (LinkHealth("fan", "peer-1", "view", 400_000, 0.0, False, 1, {"ev/v": "h"}, 42.5),))])
        view = await api("GET", "/overview?limit=10")
        assert view["rooms"][0]["id"] == "ev-launch" and view["alerts"][0]["kind"] == "loss_high"
        health = await api("GET", "/rooms/ev-launch/health")
        assert [p["identity"] for p in health["participants"]] == ["fan"]
        await api("GET", "/rooms/forum-1/health")  # no media: health null
        await api("GET", "/nodes")
        await api("POST", "/nodes/nobody/drain", status=404)
        await api("GET", "/overview?limit=ten", status=400)
        await api("POST", "/rooms/ev-launch/participants/fan/kick")
        await api("POST", "/rooms/ev-launch/recordings", status=201)
        listed = await api("GET", "/recordings?room=ev-launch")
        rec = listed["recordings"][0]["id"]
        await api("GET", f"/recordings/{rec}")
        await api("PATCH", f"/recordings/{rec}", {"title": "Launch"})
        await api("POST", f"/recordings/{rec}/stop")
        await api("POST", f"/recordings/{rec}/finalise", status=400)
        await api("GET", f"/recordings/{rec}/files/nothing.webm", status=404)
        await api("DELETE", f"/recordings/{rec}")
        await api("POST", "/rooms/ev-launch/lock", {"locked": True})
        await api("POST", "/rooms/ev-launch/close")
        targets = await api("GET", "/webhooks")
        assert [t["url"] for t in targets["targets"]] == [HOOK["url"]]
        await api("GET", "/webhooks/dead?limit=5")
        await api("GET", "/webhooks/dead?limit=0", status=400)
        await api("POST", "/webhooks/dead/replay", status=202)
        await api("POST", "/webhooks/dead/nothing.0123456789ab/replay", status=404)
        await api("DELETE", "/webhooks/dead/nothing.0123456789ab", status=404)
        spec = await api("GET", "/openapi.json")
        assert spec == DOC
    return api.seen


async def test_real_answers_validate_on_the_memory_backend(pavilion_app: Any) -> None:
    running = await pavilion_app(api_key=API_KEY, demo=False, webhooks=[HOOK])
    seen = await exercise(running)
    assert seen == documented_operations()


@pytest.mark.redis
async def test_real_answers_validate_on_redis(pavilion_app: Any, redis_url: str) -> None:
    running = await pavilion_app(api_key=API_KEY, demo=False, redis_url=redis_url,
                                  webhooks=[HOOK])
    await exercise(running)


def test_a_wrong_answer_fails_validation() -> None:
    with pytest.raises(AssertionError):
        validate("get", "/api/admin/overview", 200, {"rooms": [{"id": 1}], "total": 1})
