"""Issue 17 on several nodes: the channels' ``live``/``muted``/``listeners`` are known by the
plane of the node holding the room's media (A), which records them in the Store at each change;
a member joining on node B sees the interpreter on air in its join state, and an announce made
on B (an interpreter joining there) carries them too. Two in-process nodes on one real
redis-server, a real aiortc interpreter sending a tone into the zh channel on A."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rooms.token import mint
from tests.cluster.outage import two_nodes
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.fixtures.redis_server import RedisServer
from tests.interpretation.test_channels import INTERPRETER, channel, listen, talk
from tests.signaling.rtc_client import RtcClient, token

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOM = "summit"


async def joined(node: RunningApp, identity: str,
                 languages: list[str] | None = None) -> tuple[RtcClient, dict[str, Any]]:
    tok = (mint(TEST_SECRET, identity=identity, room=ROOM, grants=INTERPRETER, ttl_s=3600,
                languages=languages) if languages else token(identity, ROOM))
    client = await RtcClient.connect(node, tok)
    return client, await client.ok("join", {"room": ROOM})


async def test_a_member_joining_on_another_node_sees_the_interpreter_on_air(
        redis_factory: Callable[[], RedisServer], pavilion_app: Any) -> None:
    a, b = await two_nodes(redis_factory(), pavilion_app, ROOM)
    zh1, _ = await joined(a, "zh1", ["ko", "zh"])
    early, state = await joined(b, "early")
    closing: list[Any] = [zh1, early]
    try:
        assert channel(state["channels"], "zh")["live"] is None  # nobody sends yet
        closing.append(await talk(zh1, 660, channel="zh"))
        closing.append(await listen(zh1, channel="zh"))  # a listener on A (relay): pushed
        await early.wait_for("channels.changed", lambda m: (
            channel(m["channels"], "zh")["live"] == "zh1"
            and channel(m["channels"], "zh")["listeners"] == 1), within=20)
        late, state = await joined(b, "late")
        closing.append(late)
        zh = channel(state["channels"], "zh")
        assert (zh["live"], zh["muted"], zh["listeners"]) == ("zh1", False, 1), state
        early.events.clear()
        partner, state = await joined(b, "zh2", ["zh", "ko"])  # announced from B
        closing.append(partner)
        assert channel(state["channels"], "zh")["live"] == "zh1"
        grown = await early.wait_for("channels.changed", lambda m: "zh2" in channel(
            m["channels"], "zh")["booth"])
        assert channel(grown["channels"], "zh")["live"] == "zh1", grown
        await zh1.ok("channel.mute", {"room": ROOM, "language": "zh", "muted": True})
        await early.wait_for("channels.changed", lambda m: channel(m["channels"], "zh")["muted"])
        later, state = await joined(b, "later")
        closing.append(later)
        assert channel(state["channels"], "zh")["muted"] is True
    finally:
        for thing in reversed(closing):
            await thing.close()
