"""The pure order and retry schedule of one target's events (rooms/webhooks/lanes.py)."""

from __future__ import annotations

import random

from rooms.webhooks.event import WebhookEvent
from rooms.webhooks.lanes import Backoff, Lanes
from rooms.webhooks.queue import Taken

BACKOFF = Backoff(backoff_s=1.0, backoff_max_s=600.0, give_up_s=3_600.0)


def taken(n: int, room: str, at: float = 0.0) -> Taken:
    return Taken("t", str(n), WebhookEvent.make("moderation", {"n": n}, room=room, now=at))


def test_a_room_waits_for_its_head_others_go_on() -> None:
    lanes = Lanes(BACKOFF, rng=random.Random(1))
    for n, room in enumerate(["a", "a", "b"]):
        assert lanes.add(taken(n, room))
    assert not lanes.add(taken(0, "a"))  # taken twice (a takeover): held once
    first = lanes.ready(10.0, 10)
    assert [t.entry for t in first] == ["0", "2"]  # each room's head, not a's second
    assert lanes.ready(10.0, 10) == []  # busy
    assert lanes.settle(first[0], False, 10.0) == "retry"
    assert lanes.settle(first[1], True, 10.0) == "ok"
    assert lanes.ready(10.0, 10) == []  # a's head waits its backoff; b is empty
    due = lanes.next_due()
    assert due is not None and 10.5 <= due <= 11.0  # 1 s, jittered down by up to half
    [again] = lanes.ready(due, 10)
    assert again.entry == "0" and lanes.attempts(again) == 1
    assert lanes.settle(again, True, due) == "ok"
    assert [t.entry for t in lanes.ready(due, 10)] == ["1"]


def test_backoff_doubles_to_its_cap_and_gives_up_by_age() -> None:
    rng = random.Random(2)
    delays = [BACKOFF.delay(n, rng) for n in range(1, 13)]
    assert all(0.5 * min(600.0, 2.0 ** (n - 1)) <= d <= min(600.0, 2.0 ** (n - 1))
               for n, d in enumerate(delays, start=1))
    lanes = Lanes(BACKOFF)
    lanes.add(taken(0, "a", at=0.0))
    [head] = lanes.ready(3_599.0, 1)
    assert lanes.settle(head, False, 3_599.0) == "retry"
    [head] = lanes.ready(4_000.0, 1)
    assert lanes.settle(head, False, 4_000.0) == "dead" and lanes.held == 0


def test_few_slots_serve_every_room_in_turn() -> None:
    lanes = Lanes(BACKOFF)
    for n in range(6):
        lanes.add(taken(n, f"r{n % 3}"))
    served = []
    for _ in range(4):
        [one] = lanes.ready(0.0, 1)
        served.append(one.event.room)
        assert lanes.settle(one, True, 0.0) == "ok"
    assert served == ["r0", "r1", "r2", "r0"]  # r0's second waits for the others' turn
