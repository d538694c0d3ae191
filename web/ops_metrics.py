"""``/metrics`` families the on-call dashboard and alert rules need (issue 18 §4), read at scrape
time like web/live_metrics.py: the node's load and whether it drains, the state store's
health and the chat kept through its outages, publishers gone quiet, viewers on lossy links,
recordings and their disk, HLS feeds.

``deploy/grafana/pavilion-dashboard.json`` and ``deploy/prometheus/pavilion-rules.yml`` use
them; a test checks that every name those files use is in a real node's scrape.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from rooms.chat_journal import ChatJournal
from streaming.plane import MediaPlane
from streaming.viewer import ViewerLeg
from web.keys import BACKEND_KEY, DRAIN_KEY, METRICS_KEY, SETTINGS_KEY
from web.media import MEDIA_KEY

LOSSY = 0.05  # a viewer whose last receiver report says more than 5 % lost
QUIET_S = 5.0  # a live video track with no packet for this long: its publisher went quiet


class OpsCollector:
    def __init__(self, app: web.Application) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield from self._node()
        plane = self._app.get(MEDIA_KEY)
        if plane is not None:
            yield from _plane(plane)
            yield from self._disk()

    def _node(self) -> Iterator[Metric]:
        backend = self._app.get(BACKEND_KEY)
        if backend is None:
            return
        settings = self._app[SETTINGS_KEY]
        last = backend.cluster.last
        yield _gauge("pavilion_node_load", "This node's load at its last report (1.0: full).",
                     last.load if last is not None else 0.0)
        yield _gauge("pavilion_node_max_load", "Load above which this node takes no new rooms.",
                     settings.cluster.max_load)
        drain = self._app.get(DRAIN_KEY)
        yield _gauge("pavilion_node_draining", "1 while this node drains (readyz says 503).",
                     1.0 if drain is not None and drain.active else 0.0)
        yield _gauge("pavilion_store_up", "1 while the state store (Redis) answers.",
                     1.0 if backend.keeper.healthy else 0.0)
        yield from _chat(backend.service.journal)

    def _disk(self) -> Iterator[Metric]:
        try:
            free = shutil.disk_usage(self._app[SETTINGS_KEY].recordings_dir).free
        except OSError:  # not made yet: nothing recorded here so far
            return
        yield _gauge("pavilion_recordings_free_bytes",
                     "Free bytes on the recordings' disk.", free)


def _plane(plane: MediaPlane) -> Iterator[Metric]:
    now = asyncio.get_running_loop().time()
    quiet = sum(1 for room in plane.sources.values() for source in room.values()
                if source.kind == "video" and not source.ended.is_set() and not source.relayed
                and now - max(layer.last_arrival for layer in source.layers) > QUIET_S)
    yield _gauge("pavilion_media_sources_quiet",
                 f"Live video tracks with no packet for {QUIET_S:g} s (publisher gone quiet).",
                 quiet)
    lossy = sum(1 for peer in plane.peers.values()
                if isinstance(peer, ViewerLeg) and peer.adaptation.loss > LOSSY)
    yield _gauge("pavilion_media_viewers_lossy",
                 f"Viewers whose last receiver report lost more than {LOSSY:.0%}.", lossy)
    yield _gauge("pavilion_recordings_active", "Recordings running on this node.",
                 len(plane.recordings))
    yield _gauge("pavilion_hls_feeds", "Rooms this node packages as live HLS.",
                 len(plane.packagers))
    yield _gauge("pavilion_hls_dropped_batches",
                 "Media batches live HLS feeds dropped because their packager fell behind "
                 "(summed over the feeds live now).",
                 sum(p.dropped_batches for p in plane.packagers.values()))


def _chat(journal: ChatJournal) -> Iterator[Metric]:
    """Chat kept through Redis outages (issue 13 §6; docs/deploy.md "Redis outages")."""
    yield _gauge("pavilion_chat_journal_waiting",
                 "Acknowledged chat messages this node keeps until Redis takes them.", len(journal))
    yield CounterMetricFamily(
        "pavilion_chat_journaled", "Chat messages accepted while Redis was unreachable.",
        value=journal.accepted)
    yield CounterMetricFamily(
        "pavilion_chat_rewritten",
        "Chat messages Redis acknowledged, then lost in a restart, written again by this node.",
        value=journal.restored)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


async def ops_metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the collector while the app runs (a ``cleanup_ctx`` after the cluster's)."""
    registry = app[METRICS_KEY].registry
    collector = OpsCollector(app)
    registry.register(collector)
    try:
        yield
    finally:
        registry.unregister(collector)
