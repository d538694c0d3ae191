"""A layer paused by dynacast and then wanted again stays offered until it arrives (issue 14 §4).

The publisher's encoder needs a few hundred ms to send a resumed layer. Before, the viewer who
asked for it saw it inactive at the very next tick, went back down, the layer was unwanted
again and paused: on a slower machine a 700 kbit/s viewer never reached h (the shaped-link
browser test failed 3 runs of 4). A real simulcast Source and the Allocator, on the loop's
clock; which layers arrive is set on the Source's layers.
"""

from __future__ import annotations

import asyncio

from config import MediaLimits
from streaming.allocator import RESUME_S, Allocator
from streaming.negotiation import Codec
from streaming.source import Source
from streaming.subscription import Route, Subscription

RATES = {"q": 150_000, "h": 400_000, "f": 1_200_000}


def _arriving(source: Source, now: float, *rids: str) -> None:
    for layer in source.layers:
        layer.known_bps = RATES[layer.rid]
        layer.last_arrival = now if layer.rid in rids else now - 10


async def test_a_resumed_layer_stays_offered_until_it_arrives() -> None:
    now = asyncio.get_running_loop().time()
    source = Source("p/video0", "room", "video", Codec(96, "video/VP8", 90000), MediaLimits(),
                    ("q", "h", "f"))
    told: list[tuple[str, ...]] = []
    allocator = Allocator(list, lambda: [source], lambda leg, quality: None,
                          lambda src, rids: told.append(rids))
    sub = Subscription("viewer", "video", Route(96, 1234, bytes(256), 90000),
                       None)  # type: ignore[arg-type]
    source.attach(sub, 0)
    _arriving(source, now, "q", "f")
    allocator._paused[id(source)] = {1}  # h: paused by dynacast, nobody watched it
    allocator._told[id(source)] = ("q", "f")

    def offered(at: float) -> dict[str, bool]:
        return {source.layers[i].rid: option.active
                for i, option in allocator._options(source, at)}

    assert offered(now)["h"], "a paused layer is offered at the rate it had"
    source.set_target(sub, 1)  # a viewer's chooser took it: wanted again
    allocator._dynacast(source, now)
    assert told[-1] == ("q", "h", "f"), "the publisher is told to send it"
    assert offered(now + 0.1)["h"], "not arriving yet, still offered: the viewer stays on it"
    assert offered(now + RESUME_S - 0.1)["h"]
    assert not offered(now + RESUME_S + 0.1)["h"], "a layer that never comes is not offered"

    allocator._paused[id(source)] = {1}
    allocator._told[id(source)] = ("q", "f")
    allocator._dynacast(source, now)  # wanted again: resumed at ``now``
    _arriving(source, now + 0.3, "q", "h", "f")
    options = dict((source.layers[i].rid, o) for i, o in allocator._options(source, now + 0.3))
    assert options["h"].active and not options["h"].paused, "arriving: what it is measured at"
    _arriving(source, now + 0.3, "q", "f")
    assert not offered(now + 0.5)["h"], "once it arrived, a later stop is not a resume"
