"""Liveness and readiness for orchestrators and load balancers.

``/healthz`` says the process answers. ``/readyz`` says this node should get traffic: not while
it drains (web/drain.py; its listener stays open for the clients it still serves) or shuts
down, and not while its configured Redis is unreachable (DESIGN.md §5: local rooms keep
working, but a load balancer should send new clients to a node that can coordinate).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from rooms.errors import StoreUnavailable
from web.keys import BACKEND_KEY, SHUTTING_DOWN_KEY

READY_TIMEOUT_S = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    if request.app[SHUTTING_DOWN_KEY][0]:
        return _not_ready("shutting down")
    if request.app[BACKEND_KEY].cluster.draining:  # issue 13: send new clients elsewhere
        return _not_ready("draining")
    try:
        await asyncio.wait_for(request.app[BACKEND_KEY].store.ping(), READY_TIMEOUT_S)
    except StoreUnavailable as exc:
        return _not_ready(f"state store unavailable: {exc}")
    except TimeoutError:
        return _not_ready(f"state store did not answer within {READY_TIMEOUT_S:g} s")
    return web.json_response({"ready": True})


def _not_ready(reason: str) -> web.Response:
    return web.json_response({"ready": False, "reason": reason}, status=503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
