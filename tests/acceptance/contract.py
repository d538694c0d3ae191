"""What docs/webhooks.md promises each delivery: the event names, the fields each carries, valid
signatures, one id per event (a duplicate only as a retry with the same body)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.webhooks.receiver import Receiver
from tests.webhooks.test_signature import SECRET, documented_verify

ROOM_INFO = {"id", "kind", "pavilion", "exhibitor", "title"}
MEETING = {"request_id", "exhibitor", "buyer", "buyer_name", "starts_at", "ends_at", "state",
           "reason", "interpreter", "room_id"}
RECORDING = {"id", "state", "started_at"}
FINISHED = RECORDING | {"ended_at", "duration_s", "reason", "files"}
FILE = {"name", "kind", "media_type", "bytes", "duration_s", "participant", "url"}
QUOTE = {"id", "room_id", "product_id", "product_name", "identity", "name", "company", "email",
         "phone", "message", "language", "at"}
MODERATION = {"kick", "mute", "unmute", "promote", "demote", "admit", "deny", "lock", "unlock"}


def _has(body: dict[str, Any], key: str, fields: set[str]) -> None:
    value = body.get(key)
    assert isinstance(value, dict) and fields <= value.keys(), (key, fields, body)


def _participant(body: dict[str, Any]) -> None:
    if body["event"] == "participant_joined":
        _has(body, "participant", {"identity", "name", "role", "waiting"})
    else:
        _has(body, "participant", {"identity"})


def _track(body: dict[str, Any]) -> None:
    assert isinstance(body["participant"], str) and body["source"], body
    assert body["kind"] in ("audio", "video"), body
    if body["event"] == "track_published":
        assert body["codec"], body


def _recording(body: dict[str, Any]) -> None:
    if body["event"] == "recording_started":
        _has(body, "recording", RECORDING)
        return
    _has(body, "recording", FINISHED)
    for file in body["recording"]["files"]:
        assert FILE <= file.keys(), file


def _moderation(body: dict[str, Any]) -> None:
    assert body["action"] in MODERATION, body
    if body["action"] not in ("lock", "unlock"):
        assert body["identity"], body
    if body["action"] == "kick":
        assert "banned_until" in body, body


def check_fields(body: dict[str, Any]) -> None:
    """One body has what the docs' table lists for its event."""
    assert {"id", "event", "created_at"} <= body.keys(), body
    name = str(body["event"])
    if name in ("room_started", "room_finished"):
        _has(body, "room_info", ROOM_INFO)
    elif name.startswith("participant_"):
        _participant(body)
    elif name.startswith("track_"):
        _track(body)
    elif name.startswith("recording_"):
        _recording(body)
    elif name == "quote_requested":
        _has(body, "quote", QUOTE)
    elif name.startswith("meeting_"):
        _has(body, "meeting", MEETING)
    else:
        assert name == "moderation", body
        _moderation(body)


def check_deliveries(receiver: Receiver) -> list[dict[str, Any]]:
    """Every delivery signed as documented, every body as documented; the events once each
    (a retry of one, same id and body, is dropped as a receiver should)."""
    verify = documented_verify()
    seen: dict[str, bytes] = {}
    events: list[dict[str, Any]] = []
    for (raw, headers), body in zip(receiver.raw, receiver.got, strict=True):
        assert verify(SECRET, raw, headers["Pavilion-Signature"]), headers
        assert headers["Pavilion-Webhook-Id"] == body["id"] and body["id"].startswith("evt_")
        assert headers["Pavilion-Event"] == body["event"]
        if body["id"] in seen:
            assert seen[body["id"]] == raw, "one id, two bodies"
            continue
        seen[body["id"]] = raw
        check_fields(body)
        events.append(body)
    return events


def of_room(events: list[dict[str, Any]], room: str) -> list[str]:
    return [e["event"] for e in events if e.get("room") == room]


def before(names: list[str], first: str, then: str) -> bool:
    return first in names and then in names and names.index(first) < names.index(then)


def _who(event: dict[str, Any]) -> str:
    participant = event.get("participant")
    return str(participant["identity"] if isinstance(participant, dict) else participant)


def check_room(events: list[dict[str, Any]], room: str, expected: dict[str, int]) -> None:
    """The room's events are exactly ``expected`` (name: how many), in an order that makes
    sense: each person joins before leaving, each track starts before ending, a recording
    starts before it finishes, and nothing but departures and track ends follows the end."""
    mine = [e for e in events if e.get("room") == room]
    names = [e["event"] for e in mine]
    who = [(e["event"], _who(e), e["created_at"]) for e in mine]
    assert dict(Counter(names)) == expected, (room, who)
    for pair in (("participant_joined", "participant_left"),
                 ("track_published", "track_unpublished")):
        for who in {_who(e) for e in mine if e["event"] == pair[0]}:
            steps = [e["event"] for e in mine if e["event"] in pair and _who(e) == who]
            assert steps == sorted(steps, key=pair.index), (room, who, steps)
    if "recording_started" in names:
        assert before(names, "recording_started", "recording_finished"), names
    after_end = names[names.index("room_finished") + 1:]
    assert set(after_end) <= {"participant_left", "track_unpublished", "meeting_no_show"}, names
