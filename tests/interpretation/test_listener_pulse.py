"""Issue 17, listeners pushed: :class:`signaling.channel_pulse.ListenerPulse` on a real event
loop (the coalescing contract), then a real node: several aiortc listeners subscribing to a
channel at once, and unsubscribing, reach a member as a few ``channels.changed``, not one each.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rooms.room import RoomKind
from signaling.channel_pulse import ListenerPulse
from tests.interpretation.peers import Listener
from tests.interpretation.test_channels import ROOM, channel, interpreter, member, talk
from tests.signaling.rtc_client import VIEWER, RtcClient, make_room
from tests.streaming.clients import until

LISTENERS = 5
PUSH_S = 2.0  # long enough that five loopback subscribes land within one push


async def test_a_burst_of_changes_is_one_push_per_room_and_close_cancels() -> None:
    sent: list[str] = []

    async def send(room: str) -> None:
        sent.append(room)

    pulse = ListenerPulse(send, interval_s=0.05, max_rooms=2)
    for _ in range(1_000):
        pulse.touch("a")
    pulse.touch("b")
    pulse.touch("c")  # a third room past max_rooms: dropped (bounded), never queued
    assert pulse.pending == 2
    await until(lambda: pulse.pending == 0, step=0.01)
    assert sorted(sent) == ["a", "b"]
    pulse.touch("a")  # a change after the push arms the next one
    await until(lambda: pulse.pending == 0, step=0.01)
    assert sent.count("a") == 2
    pulse.touch("a")
    await pulse.aclose()  # the armed timer is cancelled: no push after close
    assert pulse.pending == 0 and sent.count("a") == 2
    pulse.touch("a")
    assert pulse.pending == 0


async def counts(client: RtcClient, muted: bool) -> list[int]:
    """The zh listener counts of every ``channels.changed`` ``client`` received, in order, up to
    the one of a mute change it makes now: every push made before it has arrived by then."""
    await client.ok("channel.mute", {"room": ROOM, "language": "zh", "muted": muted})
    await client.wait_for("channels.changed",
                          lambda m: channel(m["channels"], "zh")["muted"] is muted)
    found = []
    for name, data in client.events:
        if name == "channels.changed":
            zh = channel(data["channels"], "zh")
            if zh["muted"] is muted:
                return found
            found.append(zh["listeners"])
    raise AssertionError("no mute change seen")


async def subscribe(client: RtcClient) -> tuple[Listener, str]:
    listener = Listener()
    reply = await client.ok("subscribe", {"room": ROOM, "sdp": await listener.offer(),
                                          "channel": "zh"})
    await listener.accept(reply["sdp"])
    return listener, str(reply["peer"])


@pytest.mark.slow
async def test_listeners_are_pushed_coalesced(pavilion_app: Any) -> None:
    app = await pavilion_app(demo=False, signaling={"listeners_push_s": PUSH_S})
    await make_room(app, ROOM, RoomKind.FORUM)
    console = await interpreter(app, "zh1", ["ko", "zh"])
    delegates = [await member(app, f"d{i}", VIEWER) for i in range(LISTENERS)]
    closing: list[Any] = [console, *delegates]
    try:
        closing.append(await talk(console, 660, channel="zh"))
        await console.wait_for("channels.changed",
                               lambda m: channel(m["channels"], "zh")["live"] == "zh1")
        console.events.clear()
        ears = await asyncio.gather(*(subscribe(d) for d in delegates))
        closing += [ear for ear, _ in ears]
        await console.wait_for("channels.changed", lambda m: channel(
            m["channels"], "zh")["listeners"] == LISTENERS, within=20)
        arrived = await counts(console, muted=True)
        print(f"\n{LISTENERS} subscribes at once: channels.changed listeners {arrived}")
        assert len(arrived) < LISTENERS, arrived  # coalesced: not one broadcast each
        state = (await delegates[0].ok("join", {"room": ROOM}))["channels"]
        assert channel(state, "zh")["listeners"] == LISTENERS
        console.events.clear()
        gone = [d.ok("unsubscribe", {"room": ROOM, "peer": peer})
                for d, (_, peer) in zip(delegates[1:], ears[1:], strict=True)]
        await asyncio.gather(delegates[0].ok("leave", {"room": ROOM}), *gone)  # leave ends it
        await console.wait_for("channels.changed", lambda m: channel(
            m["channels"], "zh")["listeners"] == 0, within=20)
        left = await counts(console, muted=False)
        print(f"{LISTENERS - 1} unsubscribes and a leave at once: channels.changed {left}")
        assert len(left) < LISTENERS, left
    finally:
        for thing in reversed(closing):
            await thing.close()
