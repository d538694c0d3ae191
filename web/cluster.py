"""This node among the others, wired to the app: its load reporter and its drain (issue 13).

One ``cleanup_ctx`` (after the media plane and the hub, whose figures the reporter reads) owns
the :class:`~rooms.cluster.Reporter` and the :class:`~web.drain.Drain`, and stops both first
on shutdown; the node id claim itself belongs to the rooms backend (rooms/factory.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from rooms.cluster import Gauges, Reporter
from web.drain import Drain
from web.keys import BACKEND_KEY, DRAIN_KEY, HUB_KEY
from web.media import MEDIA_KEY


def gauges(app: web.Application) -> Gauges:
    """What the reporter needs from the media plane, the hub and the service, read now."""
    plane, hub = app.get(MEDIA_KEY), app.get(HUB_KEY)
    rooms = len(app[BACKEND_KEY].service.leases)
    sessions = len(hub.by_id) if hub is not None else 0
    if plane is None:
        return Gauges(sessions=sessions, rooms=rooms)
    stats = plane.stats()
    return Gauges(publishers=stats.publishers, viewers=stats.viewers, sessions=sessions,
                  rooms=rooms, sent_packets=stats.totals.sent_packets,
                  sent_bytes=stats.totals.sent_bytes)


async def cluster_ctx(app: web.Application) -> AsyncIterator[None]:
    reporter = Reporter(app[BACKEND_KEY].cluster, lambda: gauges(app))
    drain = Drain(app, reporter)
    app[DRAIN_KEY] = drain
    reporter.start()
    try:
        yield
    finally:
        await drain.aclose()
        await reporter.aclose()
