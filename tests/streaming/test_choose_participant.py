"""A viewer chooses WHOSE tracks it receives (forum stage, meeting tiles): real aiortc peers.

Two publishers in one room send different clips (different frame sizes, so different VP8
payloads). A viewer that asks for one participant must get exactly that participant's packets,
in both negotiation directions, and an unknown participant or track is refused before any peer
exists.
"""

from __future__ import annotations

import pytest

from streaming import MediaPlane, NothingPublished
from streaming.viewer import ViewerLeg
from tests.streaming.clients import Publisher, Viewer, publish, until, watch_offered


async def _watch_whep(plane: MediaPlane, room: str, source_ids: list[str] | None) -> Viewer:
    """The viewer offers (recvonly audio + video) and names what it wants."""
    viewer = Viewer()
    answer = await plane.subscribe_whep(room, "browser", await viewer.offer(), source_ids)
    await viewer.accept(answer.sdp)
    viewer.peer_id = answer.peer_id
    return viewer


def _watched(plane: MediaPlane, viewer: Viewer) -> set[str]:
    leg = plane.peer(viewer.peer_id)
    assert isinstance(leg, ViewerLeg)
    return {source.source_id for source, _ in leg.subscriptions}


def _only_from(viewer: Viewer, mine: Publisher, other: Publisher) -> None:
    got = {packet[3] for packet in viewer.received["video"].packets}
    assert got <= mine.video_payloads, "a payload the chosen publisher never sent"
    assert not got & (other.video_payloads - mine.video_payloads), "the other's packets leaked"
    assert got - other.video_payloads, "nothing distinguishes the chosen publisher"


async def test_each_viewer_gets_the_participant_it_named(plane: MediaPlane) -> None:
    alice = await publish(plane, "forum", participant="alice", size=(160, 120))
    bob = await publish(plane, "forum", participant="bob", size=(176, 144))
    assert plane.sources_of("forum", "alice") == ["alice/video0", "alice/audio0"]
    for_alice = await _watch_whep(plane, "forum", plane.sources_of("forum", "alice"))
    for_bob = await watch_offered(plane, "forum", plane.sources_of("forum", "bob"))
    await until(lambda: all(v.frames.get("video", 0) >= 10 and v.count("audio") >= 10
                            for v in (for_alice, for_bob)))
    assert _watched(plane, for_alice) == {"alice/video0", "alice/audio0"}
    assert _watched(plane, for_bob) == {"bob/video0", "bob/audio0"}
    _only_from(for_alice, alice, bob)
    _only_from(for_bob, bob, alice)
    assert for_alice.received["video"].packets[0][2]  # starts on a keyframe: instant start
    for peer in (for_alice, for_bob, alice, bob):
        await peer.close()


async def test_one_named_track_leaves_the_other_m_line_inactive(plane: MediaPlane) -> None:
    alice = await publish(plane, "forum", participant="alice")
    bob = await publish(plane, "forum", participant="bob", size=(176, 144))
    viewer = await _watch_whep(plane, "forum", ["alice/video0"])
    await until(lambda: viewer.frames.get("video", 0) >= 5)
    assert "audio" not in viewer.received
    assert _watched(plane, viewer) == {"alice/video0"}
    _only_from(viewer, alice, bob)
    for peer in (viewer, alice, bob):
        await peer.close()


async def test_unknown_or_ended_tracks_are_refused_before_a_peer_exists(plane: MediaPlane) -> None:
    alice = await publish(plane, "forum", participant="alice")
    refused = Viewer()
    offer = await refused.offer()
    with pytest.raises(NothingPublished, match="no live track 'carol/video0'"):
        await plane.subscribe_whep("forum", "browser", offer, ["carol/video0"])
    assert plane.sources_of("forum", "carol") == []
    assert plane.sources_of("forum", "ali") == []  # a prefix of an identity is not that identity
    await plane.close(alice.peer_id)
    assert plane.sources_of("forum", "alice") == []
    with pytest.raises(NothingPublished):
        await plane.subscribe_whep("forum", "browser", offer, ["alice/video0"])
    assert plane.peers == {}
    await refused.close()
    await alice.close()
