"""The pure parts: batching rules, the payload checks, and the session's ordered mailbox."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from config import MediaLimits, SignalingLimits
from rooms.token import AccessToken, Grant
from signaling.batch import Batcher, BatchLimits, RoomBatch
from signaling.errors import SignalingError
from signaling.messages import Candidate, ChatHistory, Join, check_sdp
from signaling.schema import decode, payload_size
from signaling.session import Session

LIMITS = BatchLimits(tick_s=0.05, max_events=3, presence_cap=2, reaction_interval_s=1.0)


def test_events_keep_order_and_chat_is_split_never_dropped():
    batch = RoomBatch("r", LIMITS)
    for n in range(7):
        batch.add("chat.message", {"id": f"{n}-0", "sender": "a" if n % 2 else "b"})
    frames = batch.take(now=0.0)
    assert [len(f["events"]) for f in frames] == [3, 3, 1]
    ids = [payload["id"] for f in frames for _, payload in f["events"]]
    assert ids == [f"{n}-0" for n in range(7)]
    assert batch.take(now=0.1) == []


def test_presence_beyond_the_cap_is_shed_to_counts_but_chat_is_not():
    batch = RoomBatch("r", LIMITS)
    for n in range(5):
        batch.add("participant.joined", {"identity": f"p{n}"})
        batch.add("chat.message", {"id": f"{n}-0"})
    batch.add("participant.left", {"identity": "p0"})
    frames = batch.take(now=0.0)
    names = [name for f in frames for name, _ in f["events"]]
    assert names.count("chat.message") == 5 and names.count("participant.joined") == 2
    assert frames[-1]["presence"] == {"joined": 3, "left": 1}


def test_reactions_are_aggregated_and_sent_at_most_once_a_second():
    batch = RoomBatch("r", LIMITS)
    for total in range(1, 6):
        batch.react("like", total)
    batch.react("clap", 9)
    [frame] = batch.take(now=10.0)
    assert frame["reactions"] == {"counts": {"like": 5, "clap": 1},
                                  "totals": {"like": 5, "clap": 9}}
    batch.react("like", 6)
    assert not batch.pending(now=10.5) and batch.take(now=10.5) == []
    assert batch.pending(now=11.0)
    assert batch.take(now=11.0)[0]["reactions"]["counts"] == {"like": 1}


async def test_batcher_sends_one_frame_per_room_per_tick_in_order():
    sent: list[tuple[str, dict[str, Any]]] = []

    async def emit(room: str, frame: dict[str, Any]) -> None:
        sent.append((room, frame))

    batcher = Batcher(emit, LIMITS)
    batcher.start()
    batcher.add("r1", "chat.message", {"id": "1-0"})
    batcher.add("r2", "chat.message", {"id": "2-0"})
    batcher.add("r1", "chat.message", {"id": "3-0"})
    for _ in range(100):
        if len(sent) == 2:
            break
        await asyncio.sleep(0.01)
    await batcher.aclose()
    assert sorted(room for room, _ in sent) == ["r1", "r2"]
    r1 = next(frame for room, frame in sent if room == "r1")
    assert [p["id"] for _, p in r1["events"]] == ["1-0", "3-0"]
    assert batcher.exited.is_set()


def test_decode_checks_types_lengths_and_required_fields():
    assert decode(Join, {"room": "r", "extra": 1}) == Join(room="r")
    assert decode(ChatHistory, {"room": "r", "before": None}).limit == 50
    assert decode(Candidate, {"room": "r", "peer": "p", "candidate": None}).candidate is None
    for payload, code in [(None, "missing_field"), ([], "bad_payload"),
                          ({"room": ""}, "bad_field"), ({"room": "r" * 65}, "bad_field"),
                          ({"room": "r", "language": "fr"}, "bad_field"),
                          ({"room": "r", "name": 3}, "bad_field")]:
        with pytest.raises(SignalingError) as info:
            decode(Join, payload)
        assert info.value.code == code
    with pytest.raises(SignalingError) as info:
        decode(ChatHistory, {"room": "r", "limit": True})
    assert info.value.code == "bad_field" and info.value.extra == {"field": "limit"}


def test_payload_size_stops_early_and_refuses_deep_or_non_finite_values():
    assert payload_size({"a": "x" * 10}, 1_000) < 40
    assert payload_size(["x" * 10_000] * 1_000, 5_000) <= 20_000
    for bad in ([[[[[[[[[[1]]]]]]]]]], {"n": float("nan")}):
        with pytest.raises(SignalingError) as info:
            payload_size(bad, 1_000)
        assert info.value.code == "bad_payload"


def test_sdp_caps():
    limits = MediaLimits(max_sdp_bytes=1_000, max_sdp_lines=20)
    assert check_sdp("v=0\r\n", limits) == "v=0\r\n"
    for sdp, code in [("a" * 1_001, "sdp_too_large"), ("a\n" * 21, "sdp_too_many_lines"),
                      ("v=0\x00", "bad_offer"), ("é" * 600, "sdp_too_large")]:
        with pytest.raises(SignalingError) as info:
            check_sdp(sdp, limits)
        assert info.value.code == code


def _token() -> AccessToken:
    return AccessToken("ann", "r", frozenset({Grant.JOIN}), expires_at=2**31)


async def test_session_handles_events_in_arrival_order_even_when_handlers_differ_in_speed():
    handled: list[int] = []

    async def dispatch(session: Session, event: str, message: Any) -> dict[str, Any]:
        await asyncio.sleep(0.02 if message.limit % 2 else 0)  # odd ones are slow
        handled.append(message.limit)
        return {"ok": True, "n": message.limit}

    session = Session("sid", _token(), SignalingLimits(), dispatch)
    session.start()
    acks = [session.submit("chat.history", {"room": "r", "limit": n}) for n in range(1, 11)]
    replies = await asyncio.gather(*acks)
    assert handled == list(range(1, 11)) and [r["n"] for r in replies] == handled
    await session.aclose()
    assert session.exited.is_set()


async def test_a_full_mailbox_refuses_and_a_flood_is_reported_once():
    floods: list[Session] = []
    gate = asyncio.Event()

    async def dispatch(session: Session, event: str, message: Any) -> dict[str, Any]:
        await gate.wait()
        return {"ok": True}

    async def on_flood(session: Session) -> None:
        floods.append(session)

    limits = SignalingLimits(mailbox_size=8, event_burst=1_000, events_per_second=1_000)
    # A clock a second apart per event: the rate bucket refills each time, so every refusal
    # here is the mailbox's (a real clock made the last few rate-limited on a fast machine).
    ticks = itertools.count()
    session = Session("sid", _token(), limits, dispatch, on_flood=on_flood,
                      clock=lambda: float(next(ticks)))
    session.start()
    acks = [session.submit("chat.history", {"room": "r"}) for _ in range(8 + 1 + 1_000)]
    await asyncio.sleep(0)
    refused = [a for a in acks if isinstance(a, asyncio.Future) and a.done()]
    assert len(refused) >= 1_000
    assert all(a.result()["error"]["code"] == "mailbox_full" for a in refused)
    await asyncio.sleep(0.01)
    assert floods == [session]
    gate.set()
    await session.aclose()
    assert all(a.done() for a in acks)  # queued ones answered session_closed or handled


async def test_a_failing_handler_gives_internal_error_without_details():
    async def dispatch(session: Session, event: str, message: Any) -> dict[str, Any]:
        raise RuntimeError("secret path /etc/x")

    session = Session("sid", _token(), SignalingLimits(), dispatch)
    session.start()
    reply = await session.submit("chat.history", {"room": "r"})
    assert reply == {"ok": False, "error": {"code": "internal_error",
                                            "message": "the server failed to handle this event"}}
    await session.aclose()


def test_interval_grows_with_the_audience_and_is_capped():
    limits = BatchLimits()
    assert limits.interval(0) == pytest.approx(0.02)  # a meeting
    assert limits.interval(1_000) == pytest.approx(0.04)  # issue 5's broadcast: p99 < 100 ms
    assert limits.interval(10_000) == limits.tick_s == 0.15
    batch = RoomBatch("r", limits)
    batch.add("chat.message", {"id": "1-0"})
    assert batch.due(now=0.0, interval=0.1)  # never sent: due at once
    batch.take(now=0.0)
    batch.add("chat.message", {"id": "2-0"})
    assert not batch.due(now=0.05, interval=0.1) and batch.due(now=0.1, interval=0.1)


async def test_the_loop_sleeps_until_the_next_room_is_due_not_a_whole_tick():
    now = [100.0]
    sent: list[str] = []

    async def emit(room: str, frame: dict[str, Any]) -> None:
        sent.append(room)

    batcher = Batcher(emit, BatchLimits(), audience=lambda room: 1_000, clock=lambda: now[0])
    assert batcher._sleep_s() == pytest.approx(0.02)  # nothing pending: the loop's period
    batcher.add("big", "chat.message", {"id": "1-0"})
    await batcher.flush(force=False)
    assert sent == ["big"]
    now[0] += 0.013
    batcher.add("big", "chat.message", {"id": "2-0"})
    assert batcher._sleep_s() == pytest.approx(0.02)  # due in 27 ms: the period comes first
    now[0] += 0.015
    assert batcher._sleep_s() == pytest.approx(0.012)  # due in 12 ms: wake exactly then
    now[0] += 0.012
    await batcher.flush(force=False)
    assert sent == ["big", "big"]


def test_a_join_ack_lists_the_stage_and_me_first_and_at_most_200():
    from rooms.participant import Participant, Role
    from signaling import snapshot

    people = [Participant(f"p{n}", "r", f"P{n}", Role.VIEWER) for n in range(500)]
    people[300] = people[300].update(role=Role.SPEAKER, on_stage=True)
    me = Session("sid", AccessToken("p450", "r", frozenset(), expires_at=2**31),
                 SignalingLimits(), lambda *a: None)  # type: ignore[arg-type,return-value]
    listed = snapshot._listed(people, me)
    assert len(listed) == snapshot.LISTED
    assert [p.identity for p in listed[:2]] == ["p300", "p450"]
    assert [p.identity for p in listed[2:4]] == ["p0", "p1"]


async def test_batch_interval_counts_the_room_on_every_node(pavilion_app):
    """A sender's node with one member ticks for the room's whole audience (other nodes'
    members included): each frame it makes is sent to all of them by their nodes."""
    from rooms.participant import Participant, Role
    from rooms.room import RoomKind
    from tests.signaling.rtc_client import HOST, RtcClient, make_room, token
    from web.keys import BACKEND_KEY
    from web.rtc import HUB_KEY

    app = await pavilion_app(demo=False)
    await make_room(app, "big", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(app, token("host", "big", HOST))
    await host.ok("join", {"room": "big"})
    hub = app.app[HUB_KEY]
    assert hub.batcher.interval_of("big") == pytest.approx(0.02002)
    store = app.app[BACKEND_KEY].store
    for n in range(999):  # viewers held by another node
        await store.put_participant(Participant(identity=f"v{n}", room_id="big", name=f"V{n}",
                                                role=Role.VIEWER, node_id="node-z"), ttl_s=60)
    await hub.count_rooms()
    assert hub.room_size["big"] == 1000
    assert hub.batcher.interval_of("big") == pytest.approx(0.04)
    await host.ok("leave", {"room": "big"})
    await hub.count_rooms()
    assert "big" not in hub.room_size and hub.batcher.interval_of("big") == pytest.approx(0.02)
    await host.close()
