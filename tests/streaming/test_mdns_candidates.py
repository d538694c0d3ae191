"""Clients whose every candidate is an mDNS name connect, through every door (issue 14 §7).

Chromium hides a page's addresses behind ``<uuid>.local`` names unless it has camera
permission, so every viewer offers only such names. aioice resolved each by multicast query with
a 1 s timeout before aiortc returned the answer. The node now never resolves them: it learns
the client's address from the client's first check (a peer-reflexive candidate, RFC 8445
§7.3.1.3). Real aiortc clients here offer only mDNS names *and* ``a=end-of-candidates`` (aiortc
and Firefox send it; Chromium does not), the harder case: an ICE agent told the candidates ended
with none left fails before the first check arrives, unless the screen drops that line too. Each
door is covered: a WHEP-style viewer, a publisher (WHIP, Socket.IO ``publish``), a viewer the
server offers to (its *answer* carries the names), and a trickled mDNS candidate.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from aiortc import RTCSessionDescription

from streaming import MediaPlane
from tests.streaming.clients import Publisher, Viewer, until


def mdns_only(sdp: str) -> str:
    """``sdp`` with each candidate's address replaced by an mDNS name, as Chromium hides it."""
    names: dict[str, str] = {}
    lines = []
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            fields = line.split(" ")
            fields[4] = names.setdefault(fields[4], f"{uuid.uuid4()}.local")
            line = " ".join(fields)
        lines.append(line)
    return "\r\n".join(lines)


def candidate_hosts(sdp: str) -> list[str]:
    return [line.split(" ")[4] for line in sdp.split("\r\n") if line.startswith("a=candidate:")]


def learned(plane: MediaPlane, peer_id: str) -> list[str]:
    """The types of the remote candidates the node's ICE agent knows for ``peer_id``."""
    return [c.type for c in _remote(plane, peer_id)]


def _remote(plane: MediaPlane, peer_id: str) -> list[Any]:
    transport = plane.peer(peer_id).pc.getTransceivers()[0].receiver.transport
    assert transport is not None
    return transport.transport.getRemoteCandidates()


def hidden(sdp: str) -> str:
    """The offer as Chromium would send it without camera permission, checked as such."""
    offer = mdns_only(sdp)
    hosts = candidate_hosts(offer)
    assert hosts and all(h.endswith(".local") for h in hosts), hosts
    assert "a=end-of-candidates" in offer
    return offer


async def test_a_whep_viewer_offering_only_mdns_names_is_learned_from_its_checks(
    plane: MediaPlane,
) -> None:
    publisher = Publisher()
    answer = await plane.publish("expo", "alice", await publisher.offer())
    await publisher.accept(answer.sdp)
    await until(lambda: any(s.keyframes for s in plane.live_sources("expo").values()))
    viewer = Viewer()
    offer = hidden(await viewer.offer())
    started = time.monotonic()
    reply = await plane.subscribe_whep("expo", "browser", offer)
    answered = time.monotonic() - started
    await viewer.accept(reply.sdp)
    await until(lambda: viewer.frames.get("video", 0) > 0, step=0.002)
    first_frame = time.monotonic() - started
    print(f"aiortc WHEP viewer, mDNS only: answer {answered * 1000:.0f} ms,"
          f" first decoded frame {first_frame * 1000:.0f} ms")
    # never handed to aioice (which resolved them inside setRemoteDescription, 1 s timeout):
    # timing is the browser test's; here, where the address came from
    assert plane.stats().totals.dropped_candidates == len(candidate_hosts(offer))
    assert learned(plane, reply.peer_id) == ["prflx"]  # from its check, not from its offer
    await viewer.close()
    await publisher.close()


async def test_a_publisher_offering_only_mdns_names_publishes(plane: MediaPlane) -> None:
    publisher = Publisher()
    answer = await plane.publish("expo", "alice", hidden(await publisher.offer()))
    await publisher.accept(answer.sdp)
    await until(lambda: any(s.packets > 0 for s in plane.live_sources("expo").values()))
    assert learned(plane, answer.peer_id) == ["prflx"]
    await publisher.close()


async def test_a_viewer_answering_with_only_mdns_names_receives(plane: MediaPlane) -> None:
    """The server offers (Socket.IO viewers before ``subscribe {sdp}``); the answer is hidden."""
    publisher = Publisher()
    answer = await plane.publish("expo", "alice", await publisher.offer())
    await publisher.accept(answer.sdp)
    viewer = Viewer()
    offer = await plane.offer_to_viewer("expo", "browser")
    await viewer.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type="offer"))
    await viewer.pc.setLocalDescription(await viewer.pc.createAnswer())
    await viewer.take_answer_side()
    await plane.accept_answer(offer.peer_id, hidden(viewer.pc.localDescription.sdp))
    await until(lambda: viewer.frames.get("video", 0) > 0)
    assert learned(plane, offer.peer_id) == ["prflx"]  # the node checked back, as controller
    await viewer.close()
    await publisher.close()


async def test_a_trickled_mdns_candidate_is_acknowledged_and_never_resolved(
    plane: MediaPlane,
) -> None:
    publisher = Publisher()
    answer = await plane.publish("expo", "alice", await publisher.offer())
    before = plane.stats().totals.dropped_candidates
    name = f"{uuid.uuid4()}.local"
    # aioice would hold this call for its 1 s resolver timeout (and the session's mailbox with
    # it); dropped, it never reaches the agent
    await plane.add_candidate(answer.peer_id, "0",
                              f"candidate:9 1 udp 2113937151 {name} 50000 typ host")
    assert plane.stats().totals.dropped_candidates == before + 1
    await publisher.accept(answer.sdp)
    await until(lambda: any(s.packets > 0 for s in plane.live_sources("expo").values()))
    assert not any(c.ip.endswith(".local") for c in _remote(plane, answer.peer_id))
    await publisher.close()
