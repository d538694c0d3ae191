"""Consent freshness (RFC 7675): a peer that stopped answering is ended within the timeout.

A remote end whose process died or whose network went away sends no DTLS close_notify and no
RTCP BYE; only its silence to STUN Binding requests tells. aioice 0.13 checks consent every
4-6 s and gives up after six failed checks in a row, each waiting 0.5 s: 27-39 s, past RFC
7675's 30 s, and not configurable per connection. :class:`ConsentWatch` replaces that task for
the node's peers: a check every ``interval`` (randomised 0.8-1.2x, §5.1) on the nominated pair,
authenticated with the remote password and answered from the address it was sent to; consent
expires ``timeout`` seconds after the last check that was answered, or after the peer's
answer (or offer) went out if none ever was: a client gone before ICE or DTLS completed is
ended too (``[media] consent_interval_s`` / ``consent_timeout_s``, default 5 s and 30 s). Then
``on_expired`` runs once: the plane's failure path closes the peer, frees its seat and tells
the room. Consent is also lost when the transport is gone (§5.1): an ICE-TCP connection that
carried the only working pair closed (streaming/udp_mux.MuxPort.path_closed) calls
:meth:`ConsentWatch.transport_lost`, which ends the peer the same way, at once.

Each answered check is also a round-trip time sample, for free (issue 18 §2): the time from the
request to its answer. A check answered only after its retransmission is not a sample (the
wait for the retransmission is in it). :attr:`ConsentWatch.rtt_s` is the smoothed figure
(RFC 6298 §2: the first sample, then 7/8 of the old plus 1/8 of the new), None before any.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

from aiortc.rtcdtlstransport import RTCDtlsTransport

from streaming import aiortc_hooks

JITTER = (0.8, 1.2)  # RFC 7675 §5.1
logger = logging.getLogger(__name__)


def next_wait(now: float, last_ok: float, interval: float, timeout: float, factor: float
              ) -> float:
    """Seconds until the next check: the randomised interval, or less if consent expires
    sooner (never negative)."""
    return max(0.0, min(interval * factor, last_ok + timeout - now))


RTT_GAIN = 0.125  # RFC 6298 §2.3 (alpha)


def smoothed_rtt(before: float | None, sample: float) -> float:
    """The smoothed round-trip time after ``sample`` (seconds)."""
    if before is None:
        return sample
    return (1 - RTT_GAIN) * before + RTT_GAIN * sample


class ConsentWatch:
    """One peer's consent checks, owned by the peer (:meth:`close` cancels them)."""

    def __init__(self, dtls: RTCDtlsTransport, interval: float, timeout: float,
                 on_expired: Callable[[], None]) -> None:
        self.dtls = dtls
        self.interval = interval
        self.timeout = timeout
        self.on_expired = on_expired
        self.answered = 0
        self.unanswered = 0
        self.expired = False
        self.rtt_s: float | None = None  # smoothed over answered checks; None: none yet
        self.transport_gone = False  # expired because the transport went, not by the timeout
        self._closed = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin the window now (the peer's answer or offer is out); checks go out once ICE
        has nominated a pair, in place of aioice's own consent task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last_ok = loop.time()
        while True:
            factor = random.uniform(*JITTER)
            await asyncio.sleep(next_wait(loop.time(), last_ok, self.interval, self.timeout,
                                          factor))
            sent = loop.time()
            remaining = last_ok + self.timeout - sent
            if remaining <= 0:
                break
            aiortc_hooks.stop_ice_consent(self.dtls)  # aioice starts its own once connected
            try:
                ok = await asyncio.wait_for(aiortc_hooks.consent_check(self.dtls), remaining)
            except TimeoutError:
                ok = False
            if ok:
                self.answered += 1
                last_ok = sent
                self._sample(loop.time() - sent)
            else:
                self.unanswered += 1
        self.expired = True
        logger.info("consent expired: no answer to STUN checks for %.1f s", self.timeout)
        self.on_expired()

    def transport_lost(self) -> None:
        """The nominated pair's transport is gone and no other pair can carry data (an
        ICE-TCP connection closed by the client: streaming/udp_mux.MuxPort.path_closed).
        Consent is lost now (RFC 7675 §5.1), not after ``timeout``: the checks stop and
        ``on_expired`` runs once, the same end as a timeout. Nothing after :meth:`close`."""
        if self.expired or self._closed:
            return
        if self._task is not None:
            self._task.cancel()
        self.expired = True
        self.transport_gone = True
        logger.info("consent lost: the ICE-TCP connection of the selected pair closed")
        self.on_expired()

    def _sample(self, elapsed: float) -> None:
        if elapsed < aiortc_hooks.CONSENT_RETRANSMIT_S:  # answered to the first request
            self.rtt_s = smoothed_rtt(self.rtt_s, elapsed)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
