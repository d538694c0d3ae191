"""Recordings in the composition root (issue 15): the admin routes and the node's sweep.

The page routes and the file route are added with the page API (web/page_api.py); the
recording control itself lives in the hub (signaling/recording_link.py). Here: the admin API's
recordings routes, and :class:`signaling.recording_sweep.RecordingSweep` opened after the hub
(it marks what a previous run left ``interrupted`` before any client can start a recording)
and closed before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from signaling.recording_sweep import RecordingSweep
from web import recording_admin
from web.keys import BACKEND_KEY, HUB_KEY

SWEEP_KEY: web.AppKey[RecordingSweep] = web.AppKey("recording_sweep", RecordingSweep)


async def _sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    sweep = RecordingSweep(app[HUB_KEY].recordings, app[BACKEND_KEY].cluster)
    app[SWEEP_KEY] = sweep
    await sweep.start()
    yield
    await sweep.aclose()


def install(app: web.Application) -> None:
    """After ``rtc.install`` (the sweep needs the hub) and ``admin_api.install`` (its guard)."""
    recording_admin.install(app)
    app.cleanup_ctx.append(_sweep_ctx)
