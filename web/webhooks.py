"""The webhook delivery worker (issue 18 §1; docs/webhooks.md): one owned task per node.

For each configured target the worker takes events from the durable queue (rooms/webhooks:
one node holds a target at a time), keeps them in per-room lanes (rooms/webhooks/lanes.py: a
room's events in order, other rooms not held up), and POSTs each with a fresh
``Pavilion-Signature`` and its ``Pavilion-Webhook-Id``; at most ``concurrency`` attempts at
once, each bounded by ``timeout_s``. A 2xx acknowledges; anything else, a timeout or a
connection error is retried with backoff until the event is ``give_up_s`` old, then it is
dead-lettered. The response body is never read (a huge one costs nothing), and neither the
secret nor the signature is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from config import Settings, WebhookTarget
from rooms.lifecycle import cancel_and_wait
from rooms.webhooks import signature
from rooms.webhooks.lanes import Backoff, Lanes
from rooms.webhooks.queue import Taken, WebhookQueue, target_key
from web.keys import BACKEND_KEY, METRICS_KEY, SETTINGS_KEY

log = logging.getLogger(__name__)
STATS_EVERY_S = 5.0
TAKE_MAX = 256  # entries read per target per round: bounds the parsing one read does on the loop
USER_AGENT = "Pavilion-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    url: str
    secret: str = field(repr=False)  # never in a log line or a traceback

    @classmethod
    def of(cls, target: WebhookTarget) -> Target:
        return cls(target_key(target.url), target.url, target.secret.get_secret_value())


@dataclass(frozen=True, slots=True)
class Settled:
    taken: Taken
    outcome: str  # "ok" | "dead"
    reason: str
    attempts: int
    at: float


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter("pavilion_webhook_deliveries",
                                  "Webhook delivery attempts by result (ok, retry, dead).",
                                  ["result"], registry=registry)
        self.pending = Gauge("pavilion_webhook_pending",
                             "Webhook events queued and not yet delivered or dead.",
                             registry=registry)
        self.dead = Gauge("pavilion_webhook_dead_letters",
                          "Webhook events given up on and kept in the dead-letter list.",
                          registry=registry)
        self.seconds = Histogram("pavilion_webhook_delivery_seconds",
                                 "Time of one webhook delivery attempt.", registry=registry)
        for result in ("ok", "retry", "dead"):  # each series from the start, at 0: rate() and
            self.deliveries.labels(result=result)  # the dashboard see a first failure at once


class Deliverer:
    def __init__(self, queue: WebhookQueue, settings: Settings, metrics: WebhookMetrics) -> None:
        self.queue = queue
        self.rules = settings.webhooks_delivery
        self.consumer = settings.node_id
        self.targets = [Target.of(t) for t in settings.webhooks]
        self.metrics = metrics
        backoff = Backoff(self.rules.backoff_s, self.rules.backoff_max_s, self.rules.give_up_s)
        self.lanes = {t.key: Lanes(backoff) for t in self.targets}
        self._wake = asyncio.Event()
        self._attempts: set[asyncio.Task[None]] = set()
        self._unsettled: deque[Settled] = deque()  # delivered or dead, not yet so in the queue
        self._task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._stats_at = 0.0
        self._next_take: dict[str, float] = {}  # target -> when to read its queue again

    def start(self) -> None:
        if not self.targets:
            return
        timeout = aiohttp.ClientTimeout(total=self.rules.timeout_s)
        self._http = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT},
                                           auto_decompress=False)
        self._task = asyncio.create_task(self._run(), name="webhook-deliverer")

    async def aclose(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        for task in list(self._attempts):
            await cancel_and_wait(task)
        for target in self.targets:
            with contextlib.suppress(Exception):
                await self.queue.release(target.key, self.consumer)
        if self._http is not None:
            await self._http.close()

    async def _run(self) -> None:
        while True:
            await self._resettle()
            for target in self.targets:
                try:
                    await self._pump(target)
                except Exception as exc:  # Redis down: try again next round
                    log.warning("webhooks to target %s: queue unavailable: %s", target.key, exc)
            await self._refresh_stats()
            await self._sleep()

    async def _pump(self, target: Target) -> None:
        """Take new events (each poll, or at once when this node holds none of the target's:
        a burst drains without waiting), then start the attempts that are due."""
        lanes, now = self.lanes[target.key], time.monotonic()
        if lanes.held == 0 or now >= self._next_take.get(target.key, 0.0):
            self._next_take[target.key] = now + self.rules.poll_s
            room = min(TAKE_MAX, max(0, self.rules.held_max - lanes.held))
            for taken in await self.queue.take(target.key, self.consumer, room):
                lanes.add(taken)
        free = self.rules.concurrency - len(self._attempts)
        for taken in lanes.ready(time.time(), max(0, free)):
            task = asyncio.create_task(self._attempt(target, taken), name="webhook-attempt")
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)

    async def _sleep(self) -> None:
        """Until the next poll, a lane's retry time, or a finished attempt (it wakes us); with
        every slot busy, only a finished attempt can free one, so due lanes do not spin."""
        wait = self.rules.poll_s
        dues = [d for lanes in self.lanes.values() if (d := lanes.next_due()) is not None]
        if dues and len(self._attempts) < self.rules.concurrency:
            wait = min(wait, max(0.0, min(dues) - time.time()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()
        self._wake.clear()

    async def _attempt(self, target: Target, taken: Taken) -> None:
        started = time.perf_counter()
        reason = await self._post(target, taken)
        self.metrics.seconds.observe(time.perf_counter() - started)
        lanes = self.lanes[target.key]
        attempts = lanes.attempts(taken) + 1
        outcome = lanes.settle(taken, reason == "", time.time())
        self.metrics.deliveries.labels(result=outcome).inc()
        if outcome == "dead":
            log.warning("webhook %s to %s dead after %d attempts: %s", taken.event.id,
                        target.key, attempts, reason)
        if outcome != "retry":
            await self._settle(Settled(taken, outcome, reason, attempts, time.time()))
        self._wake.set()

    async def _settle(self, done: Settled) -> None:
        """Ack or dead-letter in the queue; if Redis fails, kept (bounded) and tried again each
        round, so an entry delivered during an outage does not stay pending."""
        try:
            if done.outcome == "ok":
                await self.queue.ack(done.taken)
            else:
                await self.queue.bury(done.taken, reason=done.reason, attempts=done.attempts,
                                      now=done.at)
        except Exception as exc:
            log.warning("webhook %s not settled yet: %s", done.taken.event.id, exc)
            if len(self._unsettled) < self.rules.held_max:
                self._unsettled.append(done)

    async def _resettle(self) -> None:
        for _ in range(len(self._unsettled)):
            await self._settle(self._unsettled.popleft())

    async def _post(self, target: Target, taken: Taken) -> str:
        """One attempt: ``""`` when acknowledged, else why not (``http_500``, ``timeout``...)."""
        assert self._http is not None
        body = taken.event.body.encode()
        headers = {"Content-Type": "application/json",
                   signature.HEADER: signature.sign(target.secret, body, now=int(time.time())),
                   signature.ID_HEADER: taken.event.id,
                   signature.EVENT_HEADER: taken.event.name}
        try:
            async with self._http.post(target.url, data=body, headers=headers,
                                       allow_redirects=False) as response:
                return "" if 200 <= response.status < 300 else f"http_{response.status}"
        except TimeoutError:
            return "timeout"
        except (aiohttp.ClientError, OSError) as exc:
            return "connection_error" if not isinstance(exc, aiohttp.InvalidURL) else "bad_url"

    async def _refresh_stats(self) -> None:
        if time.monotonic() - self._stats_at < STATS_EVERY_S:
            return
        self._stats_at = time.monotonic()
        try:
            stats = [await self.queue.stats(t.key) for t in self.targets]
        except Exception:  # Redis down: the gauges keep their last values
            return
        self.metrics.pending.set(sum(s.pending for s in stats))
        self.metrics.dead.set(sum(s.failed for s in stats))


DELIVERER_KEY: web.AppKey[Deliverer] = web.AppKey("webhook_deliverer")


async def webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    """The node's delivery worker, started after the backend and closed before it."""
    settings = app[SETTINGS_KEY]
    deliverer = Deliverer(app[BACKEND_KEY].webhooks, settings,
                          WebhookMetrics(app[METRICS_KEY].registry))
    app[DELIVERER_KEY] = deliverer
    deliverer.start()
    yield
    await deliverer.aclose()
