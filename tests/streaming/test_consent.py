"""Consent freshness (issue 18 §6, RFC 7675): a peer that went away without a word is ended.

A real aiortc publisher and viewer through a real plane; the publisher's "process dies": its
sockets close without sending anything (no DTLS close_notify, no RTCP BYE). The plane runs with
a short consent window so the test is quick; the default is pinned at RFC 7675's 30 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from pydantic import ValidationError

from config import MediaLimits
from streaming import MediaPlane, PeerEnded, SourceEnded
from streaming.consent import ConsentWatch, next_wait
from tests.fixtures.ports import free_udp_port
from tests.streaming.clients import Publisher, publish, until, watch

INTERVAL_S = 0.3
TIMEOUT_S = 2.0


@pytest.fixture(params=["per_peer", "port"])
async def quick_plane(request: pytest.FixtureRequest) -> AsyncIterator[MediaPlane]:
    """Both media modes (issue 19): consent checks also run over the node's one UDP port."""
    media = MediaPlane(MediaLimits(
        allow_loopback_candidates=True, allow_private_candidates=True,
        consent_interval_s=INTERVAL_S, consent_timeout_s=TIMEOUT_S,
        udp_port=free_udp_port() if request.param == "port" else 0,
    ))
    yield media
    await media.aclose()


def _vanish(publisher: Publisher) -> None:
    """The publisher's process stops: every socket of its ICE agent closes, nothing is sent."""
    connection = publisher.pc.getTransceivers()[0].sender.transport.transport._connection
    for protocol in connection._protocols:
        protocol.transport.close()


async def test_a_publisher_that_went_away_is_ended_and_the_room_told(
    quick_plane: MediaPlane,
) -> None:
    plane = quick_plane
    events: list[object] = []
    plane.listen(events.append)
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") >= 30)
    leg: Any = plane.peer(publisher.peer_id)
    await until(lambda: leg.consent is not None and leg.consent.answered >= 2)  # it answers

    _vanish(publisher)
    await until(lambda: publisher.peer_id not in plane.peers, 4 * TIMEOUT_S)
    assert "consent_expired" in leg.states
    await until(lambda: leg.closed.is_set())
    ended = [e for e in events if isinstance(e, SourceEnded)]
    assert sorted(e.kind for e in ended) == ["audio", "video"]  # track unpublished
    assert any(isinstance(e, PeerEnded) and e.peer_id == publisher.peer_id for e in events)
    assert plane.live_sources("hall") == {}
    assert plane.stats().publishers == 0  # its seat is free
    await until(lambda: viewer.ended["video"].is_set(), 10)  # the player is told (RTCP BYE)
    assert plane.peer(viewer.peer_id).consent.answered >= 1  # the viewer, still there, stays
    await viewer.close()
    await publisher.close()


async def test_a_viewer_that_went_away_is_ended(quick_plane: MediaPlane) -> None:
    plane = quick_plane
    events: list[object] = []
    plane.listen(events.append)
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") >= 10)
    connection = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in connection._protocols:
        protocol.transport.close()
    await until(lambda: viewer.peer_id not in plane.peers, 4 * TIMEOUT_S)
    assert any(isinstance(e, PeerEnded) and e.peer_id == viewer.peer_id for e in events)
    assert plane.stats().viewers == 0
    assert "video" in plane.live_sources("hall")  # the publisher goes on
    await viewer.close()
    await publisher.close()


async def test_a_failed_peer_is_gone_ended_and_counted_in_one_step(
        quick_plane: MediaPlane) -> None:
    """When consent ends a viewer, the moment it leaves the registry PeerEnded has been told
    and its counters are in the plane's totals: no listener sees it gone but not ended, and no
    /metrics scrape sees a counter go back (it did for one loop turn)."""
    plane = quick_plane
    ended: list[str] = []
    plane.listen(lambda e: ended.append(e.peer_id) if isinstance(e, PeerEnded) else None)
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall")
    await until(lambda: viewer.count("video") >= 10)
    leg: Any = plane.peer(viewer.peer_id)
    seen: list[tuple[bool, bool, bool]] = []
    fail = leg.on_failed

    def checked(peer: Any) -> None:
        before = plane.stats().totals.sent_packets
        fail(peer)
        if peer.peer_id not in plane.peers and not seen:  # right after: nothing ran between
            seen.append((True, peer.peer_id in ended, plane.stats().totals.sent_packets >= before))

    leg.on_failed = checked
    connection = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in connection._protocols:
        protocol.transport.close()
    await until(lambda: bool(seen), 4 * TIMEOUT_S)
    assert seen == [(True, True, True)]
    await viewer.close()
    await publisher.close()


async def test_a_publisher_gone_before_connecting_is_ended_too(quick_plane: MediaPlane) -> None:
    """Its offer was answered, then nothing: no check ever succeeds, the window still ends it."""
    plane = quick_plane
    publisher = Publisher()
    answer = await plane.publish("hall", "alice", await publisher.offer())
    await publisher.close()  # never takes the answer
    leg: Any = plane.peer(answer.peer_id)
    await until(lambda: answer.peer_id not in plane.peers, 4 * TIMEOUT_S)
    assert "consent_expired" in leg.states and leg.consent.answered == 0
    assert plane.live_sources("hall") == {}


def test_the_default_consent_window_is_rfc_7675s_30_seconds_at_most() -> None:
    limits = MediaLimits()
    assert limits.consent_timeout_s <= 30
    assert 4 <= limits.consent_interval_s * 0.8 and limits.consent_interval_s * 1.2 <= 6
    with pytest.raises(ValidationError):
        MediaLimits(consent_timeout_s=31)
    with pytest.raises(ValidationError):
        MediaLimits(consent_interval_s=5, consent_timeout_s=5)


def test_the_next_check_never_waits_past_expiry() -> None:
    assert next_wait(now=10.0, last_ok=0.0, interval=5.0, timeout=30.0, factor=1.2) == 6.0
    assert next_wait(now=28.0, last_ok=0.0, interval=5.0, timeout=30.0, factor=1.2) == 2.0
    assert next_wait(now=31.0, last_ok=0.0, interval=5.0, timeout=30.0, factor=0.8) == 0.0


async def test_a_lost_transport_ends_consent_once_and_never_after_close() -> None:
    """``transport_lost`` (a closed ICE-TCP connection that carried the only working pair, RFC
    7675 §5.1) ends the peer through ``on_expired`` once; a second call, or one after the peer
    closed its watch, does nothing (the peer is already going)."""
    ended: list[str] = []
    watch = ConsentWatch(cast(Any, None), INTERVAL_S, TIMEOUT_S, lambda: ended.append("lost"))
    watch.transport_lost()
    watch.transport_lost()
    assert ended == ["lost"] and watch.expired and watch.transport_gone

    closed = ConsentWatch(cast(Any, None), INTERVAL_S, TIMEOUT_S, lambda: ended.append("late"))
    await closed.close()
    closed.transport_lost()
    assert ended == ["lost"] and not closed.expired
