"""``/metrics`` families read from the node's live state at scrape time (issue 3, issue 5).

Nothing here runs per packet or per message: the media plane, the signalling hub and the
Socket.IO manager keep the integer counters they need anyway, and :class:`NodeCollector` reads
them when Prometheus scrapes. Gauges say what is live now; counters are totals since start
(the media plane keeps the counters of peers that are gone, streaming/stats.py). Garbage
collection pauses are timed through ``gc.callbacks`` (:class:`GcPauses`), because they were the
signalling tail latency's largest cause before ``web/heap.py``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)

from streaming.mux_table import Drop
from web.keys import METRICS_KEY
from web.media import MEDIA_KEY
from web.rtc import HUB_KEY, SIO_KEY

PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
RTT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0)


class NodeCollector:
    """A Prometheus collector over one app's media plane, hub and Socket.IO manager."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        return []  # families depend on what the node runs; collected at scrape time only

    def collect(self) -> Iterator[Metric]:
        yield from self._media()
        yield from self._signalling()
        yield _gauge("pavilion_asyncio_tasks", "Tasks alive on the node's event loop.",
                     _tasks())

    def _media(self) -> Iterator[Metric]:
        plane = self._app.get(MEDIA_KEY)
        if plane is None:
            return
        stats = plane.stats()
        yield _gauge("pavilion_media_publishers", "Publishing peer connections.", stats.publishers)
        yield _gauge("pavilion_media_viewers", "Viewing peer connections.", stats.viewers)
        yield _gauge("pavilion_media_sources", "Live published tracks.", stats.sources)
        yield _gauge("pavilion_media_peers", "Peer connections held, of every kind.",
                     len(plane.peers))
        yield _gauge("pavilion_media_layers_paused",
                     "Simulcast layers no viewer gets, paused at their publisher.",
                     plane.allocator.paused_layers)
        backend = GaugeMetricFamily("pavilion_media_send_backend",
                                    "How the fan-out sends: sendmmsg (compiled) or sendto.",
                                    labels=["backend"])
        backend.add_metric([plane.send_backend], 1)
        yield backend
        srtp = GaugeMetricFamily("pavilion_media_srtp_backend",
                                 "Who protects viewers' RTP on AES-GCM connections: aes-gcm "
                                 "(compiled) or libsrtp.", labels=["backend"])
        srtp.add_metric([plane.srtp_backend], 1)
        yield srtp
        totals = stats.totals
        for name, text in (
            ("received_packets", "Publisher RTP packets taken in."),
            ("sent_packets", "RTP and RTCP packets sent to viewers."),
            ("sent_bytes", "Protected RTP and RTCP bytes sent to viewers."),
            ("dropped_packets", "Packets dropped for viewers whose queue was full."),
            ("send_errors", "Packets that could not be protected or sent."),
            ("nacks_answered", "Packets resent to viewers from the NACK cache."),
            ("keyframe_requests", "PLI/FIR received from viewers, before merging."),
            ("path_changes", "Viewers moved to a newly nominated ICE pair."),
            ("dropped_candidates", "Remote ICE candidates refused (mDNS, private, multicast...)."),
            ("layer_switches", "Viewers moved from one simulcast layer to another."),
            ("probe_bytes", "RTP padding bytes sent to probe viewers' links."),
        ):
            yield _counter(f"pavilion_media_{name}", text, getattr(totals, name))
        yield from _udp_mux(plane)
        foreign = CounterMetricFamily(
            "pavilion_media_foreign_datagrams",
            "Datagrams dropped for not coming from a peer's valid ICE pair, by RFC 7983 kind.",
            labels=["kind"])
        for kind, count in plane.foreign.by_kind.items():
            foreign.add_metric([kind], count)
        yield foreign
        yield peer_rtt([p.rtt_ms for p in plane.peers.values()])

    def _signalling(self) -> Iterator[Metric]:
        hub = self._app.get(HUB_KEY)
        if hub is not None:
            yield _gauge("pavilion_rtc_sessions", "Socket.IO sessions (connected or resumable).",
                         len(hub.by_id))
            yield _gauge("pavilion_rtc_rooms", "Rooms with members on this node.",
                         sum(1 for n in hub.audience.values() if n > 0))
            yield _counter("pavilion_rtc_batch_frames", "Room batch frames made on this node.",
                           hub.batcher.frames_sent)
        manager: Any = getattr(self._app.get(SIO_KEY), "manager", None)
        if manager is not None and hasattr(manager, "direct"):
            yield _counter("pavilion_rtc_direct_writes",
                           "Frame copies written straight to a client's websocket.",
                           manager.direct)
            yield _counter("pavilion_rtc_clients_cut_off",
                           "Clients disconnected for not reading their socket.", manager.lagging)


def _udp_mux(plane: Any) -> Iterator[Metric]:
    """Issue 19: whether the node's peers share one UDP port, and what the port dropped."""
    mux = plane.mux
    mode = GaugeMetricFamily("pavilion_media_udp_mux",
                             "1 for the media mode in use: port (one UDP port) or per_peer.",
                             labels=["mode", "port"])
    mode.add_metric(["port" if mux else "per_peer", str(mux.port if mux else 0)], 1)
    yield mode
    if mux is None:
        return
    yield _gauge("pavilion_media_udp_mux_agents", "ICE agents registered on the one UDP port.",
                 len(mux.table))
    yield _counter("pavilion_media_udp_mux_received", "Datagrams read from the one UDP port.",
                   mux.received)
    yield _counter("pavilion_media_udp_mux_send_errors",
                   "Datagrams the one UDP port could not send (buffer full, unreachable).",
                   mux.send_errors)
    dropped = CounterMetricFamily(
        "pavilion_media_udp_mux_dropped",
        "Datagrams dropped by the one UDP port: not WebRTC, malformed or unknown STUN, or"
        " DTLS/RTP/RTCP from an address ICE never validated; tcp_*: ICE-TCP connections"
        " closed, or frames not written.", labels=["reason"])
    for reason in Drop:
        dropped.add_metric([reason.value], mux.dropped[reason.value])
    yield dropped
    yield from _tcp_mux(mux.tcp)


def _tcp_mux(tcp: Any) -> Iterator[Metric]:
    """Issue 19: ICE-TCP on the node's TCP port (its drops are the UDP mux's tcp_* reasons)."""
    if tcp is None:
        return
    yield _gauge("pavilion_media_tcp_mux_connections", "Open ICE-TCP connections.", tcp.links)
    yield _gauge("pavilion_media_tcp_mux_pending",
                 "ICE-TCP connections ICE has not validated yet.", tcp.pending)
    yield _counter("pavilion_media_tcp_mux_accepted", "ICE-TCP connections accepted.",
                   tcp.accepted)
    yield _counter("pavilion_media_tcp_mux_received", "Frames read from ICE-TCP connections.",
                   tcp.received)
    yield _counter("pavilion_media_tcp_mux_send_errors",
                   "Messages for an address with no ICE-TCP connection.", tcp.send_errors)


def _tasks() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # scraped from outside a running loop (a test's registry)
        return 0


def peer_rtt(rtts_ms: list[float | None]) -> GaugeHistogramMetricFamily:
    """Issue 18 §2: the live peers' round-trip times now (their consent checks' smoothed RTT;
    peers not measured yet are left out), as a gauge histogram: no per-peer labels."""
    seconds = sorted(r / 1000 for r in rtts_ms if r is not None)
    buckets = [(str(le), float(sum(1 for x in seconds if x <= le))) for le in RTT_BUCKETS]
    buckets.append(("+Inf", float(len(seconds))))
    return GaugeHistogramMetricFamily(
        "pavilion_media_peer_rtt_seconds",
        "Live peers by round-trip time (STUN consent checks, smoothed), now.",
        buckets=buckets, gsum_value=sum(seconds))


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


class GcPauses:
    """Times every garbage collection into a histogram by generation, and counts what each
    found unreachable (``pavilion_gc_collected_objects``): objects only a collection frees
    are reference cycles, which a closed peer should not leave (bench/soak.py watches it)."""

    def __init__(self, registry: Any) -> None:
        self.histogram = Histogram("pavilion_gc_pause_seconds",
                                   "Garbage collection pauses, by generation.", ["generation"],
                                   buckets=PAUSE_BUCKETS, registry=registry)
        self.collected = Counter("pavilion_gc_collected_objects",
                                 "Unreachable objects garbage collections freed, by generation.",
                                 ["generation"], registry=registry)
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        """A gc callback runs wherever a collection starts, also at the bottom of a deep
        recursion (a JSON body nested 30,000 deep, refused as ``bad_json``): with no stack
        left to observe a pause, it skips this one rather than raise (an unraisable error)."""
        try:
            if phase == "start":
                self._started = time.perf_counter()
            elif self._started:
                generation = str(info["generation"])
                self.histogram.labels(generation).observe(time.perf_counter() - self._started)
                self.collected.labels(generation).inc(info.get("collected", 0))
        except RecursionError:
            self._started = 0.0


async def live_metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Register the collector and time GC pauses while the app runs (a ``cleanup_ctx``)."""
    registry = app[METRICS_KEY].registry
    collector = NodeCollector(app)
    registry.register(collector)
    pauses = GcPauses(registry)
    gc.callbacks.append(pauses)
    try:
        yield
    finally:
        gc.callbacks.remove(pauses)
        registry.unregister(collector)
