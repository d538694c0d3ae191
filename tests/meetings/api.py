"""Helpers of the API tests: an app wired the way create_app wires it, tokens, JSON calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

import config
from rooms.clock import Clock
from rooms.factory import open_backend
from rooms.token import Grant, mint
from web import meetings_api
from web.keys import BACKEND_KEY, SETTINGS_KEY

SECRET = "meetings-secret-0123456789abcdef0123456789"
Client = TestClient[web.Request, web.Application]
PROFILE = {"name": {"zh": "长春汽车", "en": "Changchun Motors", "ja": "長春モーターズ",
                    "ko": "창춘 모터스", "ru": "Чанчунь Моторс", "mn": "Чанчунь Моторс"},
           "pavilion": "automobile", "products": ["electric trucks", "SUV"],
           "languages": ["zh", "en", "ru"], "team": ["faw-li"], "time_zone": "Asia/Shanghai"}


def settings(**overrides: Any) -> config.Settings:
    base: dict[str, Any] = {"node_id": "node-a", "secret": SECRET, "demo": False, "rtmp_port": 0}
    return config.load(env={}, overrides={**base, **overrides})


def app_for(cfg: config.Settings, clock: Clock | None = None) -> web.Application:
    app = web.Application()
    app[SETTINGS_KEY] = cfg
    if clock is not None:
        app[meetings_api.CLOCK_KEY] = clock

    async def backend_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_backend(cfg, clock=clock) as backend:
            app[BACKEND_KEY] = backend
            yield

    app.cleanup_ctx.append(backend_ctx)
    meetings_api.install(app, cfg)
    return app


# Who is who in these tests: exhibitors (and the team member faw-li) hold the organiser-issued
# ``exhibit`` grant; everyone else is a registered delegate with the ``delegate`` grant.
EXHIBITORS = frozenset({"faw", "faw-li", "jilin-herbs", "mallory"})


def grants_for(identity: str) -> tuple[Grant, ...]:
    extra = Grant.EXHIBIT if identity in EXHIBITORS else Grant.DELEGATE
    return (Grant.JOIN, extra)


def bearer(identity: str, *, name: str = "", room: str = "meetings",
           grants: tuple[Grant, ...] | None = None) -> dict[str, str]:
    token = mint(SECRET, identity=identity, room=room,
                 grants=grants_for(identity) if grants is None else grants, ttl_s=3600,
                 name=name or identity.title())
    return {"Authorization": f"Bearer {token}"}


async def call(client: Client, method: str, path: str, body: Any = None, *, who: str = "",
               status: int = 200, grants: tuple[Grant, ...] | None = None,
               room: str = "meetings", **query: str) -> Any:
    headers = bearer(who, grants=grants, room=room) if who else {}
    response = await client.request(method, "/api/meetings" + path, json=body,
                                    headers=headers, params=query or None)
    data = await response.json()
    assert response.status == status, data
    return data
