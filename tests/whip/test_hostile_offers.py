"""Hostile offers and bodies over WHIP and WHEP, against the whole app (issue 11, finding 8).

Each hostile kind (tests/streaming/hostile_sdp.py) is a 400 with a plain-text reason, never a
201 that fails later inside aiortc and never a 5xx; a content coding is 415; random damage to
the real captured offers never gives a 5xx; and the node goes on serving a real publisher.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings

from rooms.token import Grant
from tests.streaming.clients import Publisher, Viewer, until
from tests.streaming.hostile_sdp import (
    CHROMIUM,
    CHROMIUM_WHEP,
    GSTREAMER,
    HOSTILE,
    OFFERS,
    mutations,
    sweeps,
)
from tests.streaming.test_candidate_screening import remote_hosts
from tests.whip.test_whip_http import SDP, auth, node, token, whep_watch, whip_publish
from web.media import MEDIA_KEY

__all__ = ["node"]  # the fixture, shared with test_whip_http.py

PLAYER = auth(token("expo", Grant.SUBSCRIBE, identity="player"))


async def post(node: Any, kind: str, offer: str, who: str = "obs",
               **headers: str) -> tuple[int, str, Any]:
    grant = auth(token(identity=who)) if kind == "whip" else PLAYER
    response = await node.http.post(f"/{kind}/expo", data=offer.encode(),
                                    headers={**SDP, **grant, **headers})
    return response.status, await response.text(), response


async def end(node: Any, kind: str, response: Any, who: str = "obs") -> None:
    grant = auth(token(identity=who)) if kind == "whip" else PLAYER
    await node.http.delete(response.headers["Location"], headers=grant)


async def refuse_every_hostile_kind(node: Any, kind: str, offers: tuple[str, ...]) -> None:
    for offer in offers:
        for hostile in HOSTILE:
            status, reason, _ = await post(node, kind, hostile.damage(offer))
            assert status == 400, (kind, hostile.name, status, reason)
            assert hostile.reason in reason, (kind, hostile.name, reason)


async def serves_a_real_publisher(node: Any) -> None:
    publisher, viewer = Publisher("vp8"), Viewer()
    try:
        await whip_publish(node, publisher)
        await whep_watch(node, viewer)
        await until(lambda: viewer.frames.get("video", 0) >= 5)
    finally:
        await viewer.close()
        await publisher.close()


async def test_whip_refuses_each_hostile_offer_with_400_and_still_serves(node: Any) -> None:
    await refuse_every_hostile_kind(node, "whip", (CHROMIUM, GSTREAMER))
    assert node.app[MEDIA_KEY].peers == {}  # refused before any peer existed
    await serves_a_real_publisher(node)


async def test_whep_refuses_each_hostile_offer_with_400(node: Any) -> None:
    status, _, published = await post(node, "whip", GSTREAMER)
    assert status == 201
    await refuse_every_hostile_kind(node, "whep", (CHROMIUM_WHEP,))
    status, _, played = await post(node, "whep", CHROMIUM_WHEP)
    assert status == 201
    await end(node, "whep", played)
    await end(node, "whip", published)


async def test_a_content_coding_is_415_on_post_and_patch(node: Any) -> None:
    for kind, offer in (("whip", GSTREAMER), ("whep", CHROMIUM_WHEP)):
        status, reason, response = await post(node, kind, offer, **{"Content-Encoding": "gzip"})
        assert (status, response.headers.get("Accept-Encoding")) == (415, "identity"), reason
        assert "content-encoded" in reason
    status, _, created = await post(node, "whip", GSTREAMER, **{"Content-Encoding": "identity"})
    assert status == 201
    frag = "a=candidate:2 1 UDP 2015363327 198.51.100.7 46490 typ host\r\n"
    patched = await node.http.patch(
        created.headers["Location"], data=frag.encode(),
        headers={"Content-Type": "application/trickle-ice-sdpfrag", "Content-Encoding": "br",
                 **auth(token())})
    assert patched.status == 415, await patched.text()
    await end(node, "whip", created)


async def test_a_trickled_candidate_the_node_must_not_check_is_acknowledged_and_unused(
    node: Any,
) -> None:
    status, _, created = await post(node, "whip", GSTREAMER)
    assert status == 201
    hostile = ("ff02::1 9", "255.255.255.255 9", "0.0.0.0 9", "198.51.100.8 0")
    frag = "".join(f"a=candidate:{k} 1 UDP 2015363327 {host} typ host\r\n"
                   for k, host in enumerate(hostile))
    frag += "a=candidate:9 1 UDP 2015363327 198.51.100.9 40000 typ host\r\n"
    patched = await node.http.patch(
        created.headers["Location"], data=frag.encode(),
        headers={"Content-Type": "application/trickle-ice-sdpfrag", **auth(token())})
    assert patched.status == 204, await patched.text()
    peer_id = created.headers["Location"].rsplit("/", 1)[1]
    assert remote_hosts(node.app[MEDIA_KEY], peer_id) == {"127.0.0.1", "198.51.100.9"}
    await end(node, "whip", created)


def draw(count: int) -> list[str]:
    drawn: list[str] = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutations())
    def collect(offer: str) -> None:
        drawn.append(offer)

    collect()
    return drawn


async def test_damaged_real_offers_never_get_a_5xx(node: Any) -> None:
    """Each capture without each kind of line, then a mutation fuzz of them (fixed draw)."""
    offers = [damaged for offer in OFFERS for damaged in sweeps(offer)]
    offers += await asyncio.to_thread(draw, 40)
    # so WHEP has something to play; another identity, so no damaged WHIP offer replaces it
    status, _, published = await post(node, "whip", GSTREAMER, who="anchor")
    assert status == 201
    for offer in offers:
        kind = "whep" if "a=recvonly" in offer else "whip"
        status, reason, response = await post(node, kind, offer)
        assert status < 500, (kind, status, reason, offer)
        if status == 201:
            await end(node, kind, response)
    await end(node, "whip", published, who="anchor")
    await serves_a_real_publisher(node)
