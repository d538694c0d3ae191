"""This node among the others, wired to the app: its load reporter, dead-node sweeper and drain.

One ``cleanup_ctx`` (after the media plane and the hub, whose figures the reporter reads) owns
the :class:`~rooms.cluster.Reporter` and the :class:`~web.drain.Drain`, and stops both first
on shutdown; the node id claim itself belongs to the rooms backend (rooms/factory.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from rooms.cluster import Gauges, Reporter
from rooms.cluster.report import NodeReport
from rooms.cluster.sweeper import Sweeper, Swept
from signaling.media_link import unpublished
from signaling.wire import room_channel
from web.console_health import reader
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


async def announce_swept(app: web.Application, swept: Swept) -> None:
    """Tell every room a dead node served: ``participant.left`` for its members and
    ``track.unpublished`` for its tracks (to members on every node, through the outbox)."""
    hub = app.get(HUB_KEY)
    if hub is None:
        return
    await hub.announce(swept.left)
    for track in swept.tracks:
        room = str(track.get("room_id", ""))
        await hub.outbox.send(room_channel(room), "track.unpublished", unpublished(track))


async def tell_live(app: web.Application, live: list[NodeReport]) -> None:
    """The other live nodes, as the sweeper just saw them, to the hub: its sessions' failover
    list (``session`` and ``nodes`` events; a draining node is no place to go), and the rooms'
    tracks a stalled node's return brings back (signaling/media_return.py)."""
    hub = app.get(HUB_KEY)
    if hub is not None:
        await hub.see_nodes([{"id": n.node_id, "url": n.url} for n in live if not n.draining])
        await hub.see_media_nodes(n.node_id for n in live)


REPORTER_KEY: web.AppKey[Reporter] = web.AppKey("reporter", Reporter)


async def cluster_ctx(app: web.Application) -> AsyncIterator[None]:
    backend = app[BACKEND_KEY]
    health = reader(app.get(MEDIA_KEY), backend.cluster.node_id)  # issue 18 §2: the console's
    reporter = Reporter(backend.cluster, lambda: gauges(app), health)
    sweeper = Sweeper(backend.cluster, backend.service, lambda swept: announce_swept(app, swept),
                      on_live=lambda live: tell_live(app, live))
    drain = Drain(app, reporter)
    app[DRAIN_KEY] = drain
    app[REPORTER_KEY] = reporter  # the console reports at once when a room changes here
    reporter.start()
    sweeper.start()
    try:
        yield
    finally:
        await drain.aclose()
        await sweeper.aclose()
        await reporter.aclose()
