"""The composition root: ``create_app(settings)`` builds the whole node and nothing else does.

Every long-lived resource (the rooms backend with its Store and Bus, the media plane) is opened
and closed in one ``cleanup_ctx`` generator each, so start-up order and shutdown are explicit and
a failed start unwinds what was already opened.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from config import Settings
from rooms.demo import seed_demo
from rooms.factory import Backend, open_backend
from web import (
    admin_api,
    console,
    console_page,
    health,
    hls,
    media,
    meetings_api,
    pages,
    recordings,
    replay_page,
    request_log,
    room_pages,
    rtc,
    webhook_admin,
)
from web.cascade import EDGES_KEY, Edges
from web.catalog import Catalogs, load_catalogs
from web.cluster import cluster_ctx
from web.errors import error_pages
from web.keys import (
    BACKEND_KEY,
    HUB_KEY,
    METRICS_KEY,
    RENDERER_KEY,
    SETTINGS_KEY,
    SHUTTING_DOWN_KEY,
)
from web.live_metrics import live_metrics_ctx
from web.metrics import Metrics
from web.ops_metrics import ops_metrics_ctx
from web.rtmp_ingest import rtmp_ctx
from web.templates import Renderer
from web.version import package_version
from web.webhooks import webhooks_ctx

log = logging.getLogger("pavilion")
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings, *, catalogs: Catalogs | None = None) -> web.Application:
    """Build the aiohttp application for one node; nothing is opened until it starts.

    ``catalogs`` (read-only once built) are read and compiled from ``web/locale`` when not given,
    ~0.1 s of CPU; a process that builds many apps (the test suite, ~500) reads them once.
    """
    metrics = Metrics()
    app = web.Application(middlewares=[metrics.middleware(), error_pages], client_max_size=1 << 20,
                          handler_args={"auto_decompress": False})  # no decompression bombs
    request_log.install(app, settings.node_id)  # first: request id and node on every line
    app[SETTINGS_KEY] = settings
    app[METRICS_KEY] = metrics
    app[SHUTTING_DOWN_KEY] = [False]
    app[RENDERER_KEY] = Renderer(
        catalogs if catalogs is not None else load_catalogs(),
        {"version": package_version(), "node_id": settings.node_id, "demo_mode": settings.demo},
    )
    app.cleanup_ctx.append(_backend_ctx)
    app.on_shutdown.append(_mark_shutting_down)
    health.add_routes(app)
    pages.add_routes(app)
    room_pages.add_routes(app)
    replay_page.add_routes(app)
    console_page.add_routes(app)  # issue 18 §2: the organiser's console
    app.router.add_get("/metrics", metrics.handle, name="metrics")
    app.router.add_static("/static/", STATIC_DIR, name="static")
    media.install(app, settings)
    rtc.install(app, settings)
    console.install(app)  # the console's namespace, on the same Socket.IO server
    hls.install(app, lambda app: app[media.MEDIA_KEY])  # the plane's live HLS (issue 16)
    app.cleanup_ctx.append(_edges_ctx)  # after the plane and the hub it uses
    app.cleanup_ctx.append(rtmp_ctx)  # after the hub: its door; closed before them
    app.cleanup_ctx.append(live_metrics_ctx)  # after the plane and the hub it reads
    app.cleanup_ctx.append(cluster_ctx)  # likewise: load reports and the drain
    app.cleanup_ctx.append(ops_metrics_ctx)  # after the cluster's: its load and drain
    admin_api.install(app, settings, BACKEND_KEY)
    webhook_admin.add_routes(app)  # issue 18 §1, behind the admin API's guard
    app.cleanup_ctx.append(webhooks_ctx)  # after the backend whose queue it delivers
    recordings.install(app)  # after the hub and the admin API's guard
    meetings_api.install(app, settings)
    return app


async def _backend_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    async with open_backend(settings) as backend:
        app[BACKEND_KEY] = backend
        if settings.demo:
            await _seed(backend)
        yield


async def _seed(backend: Backend) -> None:
    try:
        await seed_demo(backend, now=datetime.now(UTC))
    except Exception as exc:  # a Redis outage at start must not stop the node (DESIGN.md §5)
        log.warning("demo expo not seeded: %s", exc)


async def _mark_shutting_down(app: web.Application) -> None:
    app[SHUTTING_DOWN_KEY][0] = True


async def _edges_ctx(app: web.Application) -> AsyncIterator[None]:
    """This node's upstreams when it serves as an edge (web/cascade.py); closed first."""
    edges = Edges(app[SETTINGS_KEY], app[media.MEDIA_KEY], app[HUB_KEY].service,
                  app[BACKEND_KEY].cluster)
    app[EDGES_KEY] = edges
    if edges.settings.cluster.cascade:
        app[HUB_KEY].edge = edges
    yield
    await edges.aclose()
